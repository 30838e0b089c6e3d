package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTPConfig is where mail goes out.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no authentication (the development mailbox)
	Password string
	// TLS is "opportunistic" (STARTTLS when offered), "mandatory" or "none".
	TLS      string
	From     string
	FromName string
	Timeout  time.Duration
	// MaxConnections bounds the sessions open to the server at once, busy,
	// idle or being ended: a relay limits the connections a client may hold
	// (Postfix: 50 by default; hosted relays far fewer) and refuses the rest
	// until some close. A sender past it waits for a session to come free.
	// Zero means DefaultMaxConnections.
	MaxConnections int
}

// DefaultMaxConnections is the sessions a worker holds open at most when
// the configuration does not say: Postfix's own limit for delivering to one
// destination (default_destination_concurrency_limit). In a burst of
// deadlines a notice still follows its breach within tens of milliseconds
// (README, Benchmarks).
const DefaultMaxConnections = 20

// Email is one message to one address. MessageID is derived from the case
// and the step, so a repeat of the same message carries the same id and
// the receiving side can drop it.
type Email struct {
	MessageID string
	To        string
	ToName    string
	// ReplyTo, when set, is where the customer's reply goes: the case's
	// signed reply address. Thread, when set, is the case's thread id,
	// given as In-Reply-To and References so that mail clients keep the
	// case's messages (and the customer's replies) in one thread.
	ReplyTo string
	Thread  string
	Rendered
}

// Mailer sends email over SMTP. It keeps a few connections open between
// messages: a burst of deadlines sends hundreds of notices within seconds,
// and opening a session for each (TCP, greeting, EHLO, STARTTLS, AUTH, QUIT)
// costs both ends more than the message itself. A connection carries one
// message at a time, and no more than MaxConnections are open at once;
// Send is safe for concurrent use.
type Mailer struct {
	cfg  SMTPConfig
	opts []mail.Option
	// idleFor is how long a session waits for the next message before it
	// is ended: maxIdleTime, shorter in tests.
	idleFor time.Duration
	// maxIdle is how many open sessions wait for the next message.
	maxIdle int

	// slots holds a token for every session open, from before it is dialled
	// until it is closed.
	slots chan struct{}
	// kept tells a sender waiting for a slot that a session was kept idle,
	// so it takes that one instead of waiting for one to close.
	kept chan struct{}

	mu   sync.Mutex
	idle []*connection // the most recently used last
}

const (
	// maxIdleConnections is how many open sessions wait for the next
	// message; more senders at once open their own (up to MaxConnections)
	// and end them after.
	maxIdleConnections = 4
	// maxIdleTime: a server ends a quiet session after a while (RFC 5321
	// asks for five minutes, many wait less, and a firewall may drop it
	// silently). Ours ends it first: a dead one found only by its timeout
	// would hold the message that long.
	maxIdleTime = 30 * time.Second
	// maxMessagesPerConnection: many providers refuse further messages on
	// a long session; ending it first keeps a message from being refused.
	maxMessagesPerConnection = 100
)

// connection is one open SMTP session and the go-mail client that opened
// it; a client holds one session's state, so it is not shared.
type connection struct {
	client  *mail.Client
	session *smtp.Client
	timeout time.Duration
	sent    int
	expiry  *time.Timer // ends the session when it has been idle too long
	release func()      // gives the session's slot back once it is closed
}

// NewMailer checks the configuration; it connects only when sending.
func NewMailer(cfg SMTPConfig) (*Mailer, error) {
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.MaxConnections < 0 {
		return nil, fmt.Errorf("SMTP connections at once: %d, want at least 1", cfg.MaxConnections)
	}
	policy := mail.TLSOpportunistic
	switch cfg.TLS {
	case "", "opportunistic":
	case "mandatory":
		policy = mail.TLSMandatory
	case "none":
		policy = mail.NoTLS
	default:
		return nil, fmt.Errorf("SMTP TLS policy %q: want opportunistic, mandatory or none", cfg.TLS)
	}
	// No NOOP before each message and before the RSET after it: a session
	// the server has closed fails at MAIL FROM, before anything of the
	// message is sent, and Send then sends it on a new connection.
	opts := []mail.Option{mail.WithPort(cfg.Port), mail.WithTLSPolicy(policy), mail.WithTimeout(cfg.Timeout),
		mail.WithoutNoop()}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(cfg.Username),
			mail.WithPassword(cfg.Password))
	}
	if _, err := mail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("SMTP client for %s: %w", cfg.Host, err)
	}
	return &Mailer{cfg: cfg, opts: opts, idleFor: maxIdleTime, maxIdle: min(maxIdleConnections, cfg.MaxConnections),
		slots: make(chan struct{}, cfg.MaxConnections), kept: make(chan struct{}, 1)}, nil
}

// Send delivers one message. An error the server calls permanent (5xx) is
// marked Permanent: retrying it cannot help.
func (m *Mailer) Send(ctx context.Context, e Email) error {
	msg, err := m.message(e)
	if err != nil {
		return err
	}
	conn, reused, err := m.take(ctx)
	if err != nil {
		return err
	}
	err = conn.client.SendWithSMTPClient(conn.session, msg)
	for err != nil && reused && refusedAtStart(err) {
		// The idle session had ended (a restart, the server's idle timeout):
		// nothing of the message went out. It goes on the next session, a
		// new one once the idle ones are used up.
		go conn.close()
		if conn, reused, err = m.take(ctx); err != nil {
			return err
		}
		err = conn.client.SendWithSMTPClient(conn.session, msg)
	}
	switch {
	case err == nil:
		m.put(conn)
		return nil
	case msg.IsDelivered():
		// The server took the message and only what came after failed
		// (the RSET): it is sent, and sending it again would be a
		// duplicate. The session is not trusted for another.
		go conn.close()
		return nil
	}
	if cerr := conn.close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) && !sendErr.IsTemp() && sendErr.ErrorCode() >= 500 {
		return Permanent(err)
	}
	return err
}

// message builds e as it goes out.
func (m *Mailer) message(e Email) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.FromFormat(m.cfg.FromName, m.cfg.From); err != nil {
		return nil, Permanent(fmt.Errorf("sender address: %w", err))
	}
	if err := msg.AddToFormat(e.ToName, e.To); err != nil {
		return nil, Permanent(fmt.Errorf("recipient address: %w", err))
	}
	msg.SetMessageIDWithValue(e.MessageID)
	if e.ReplyTo != "" {
		if err := msg.ReplyTo(e.ReplyTo); err != nil {
			return nil, Permanent(fmt.Errorf("reply address: %w", err))
		}
	}
	if e.Thread != "" {
		msg.SetGenHeader(mail.HeaderInReplyTo, "<"+e.Thread+">")
		msg.SetGenHeader(mail.HeaderReferences, "<"+e.Thread+">")
	}
	// Every message of ours is sent by the system (RFC 3834): auto-responders
	// do not answer it, and our own inbound server drops one that comes
	// back, so no loop of automatic mail can start. A person's reply is not
	// affected. Exchange reads its own header for the same.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "OOF, AutoReply")
	msg.SetDate()
	msg.Subject(e.Subject)
	msg.SetBodyString(mail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, e.HTML)
	}
	return msg, nil
}

// refusedAtStart tells whether a send failed before the server had any of
// the message: at MAIL FROM, the first command of a message.
func refusedAtStart(err error) bool {
	var sendErr *mail.SendError
	return errors.As(err, &sendErr) && sendErr.Reason == mail.ErrSMTPMailFrom
}

// ErrNoSession is a message that found every session busy until its
// attempt had too little time left to send it; the attempt is retried.
var ErrNoSession = errors.New("no SMTP session came free in time: all SMTP_MAX_CONNECTIONS are busy")

// take returns the most recently used idle session, or a new one once a
// slot is free; while it waits, a session another sender keeps idle will do.
// It waits until the attempt's deadline less one command's timeout, so that
// the attempt keeps time to send and record the message.
func (m *Mailer) take(ctx context.Context) (conn *connection, reused bool, err error) {
	wait, cancel := context.WithCancel(ctx)
	if d, ok := ctx.Deadline(); ok {
		wait, cancel = context.WithDeadline(ctx, d.Add(-m.cfg.Timeout))
	}
	defer cancel()
	for {
		if err := ctx.Err(); err != nil { // the attempt is over: it must not send
			m.passOnKept()
			return nil, false, err
		}
		m.mu.Lock()
		if n := len(m.idle); n > 0 {
			conn = m.idle[n-1]
			m.idle = m.idle[:n-1]
			if n > 1 { // another sender may be waiting for the next one
				m.signalKept()
			}
			m.mu.Unlock()
			conn.expiry.Stop() // had it fired, the session would no longer be idle
			return conn, true, nil
		}
		m.mu.Unlock()
		select { // a free slot first, however little time is left
		case m.slots <- struct{}{}:
			conn, err = m.open(ctx)
			return conn, false, err
		default:
		}
		select {
		case m.slots <- struct{}{}:
			conn, err = m.open(ctx)
			return conn, false, err
		case <-m.kept:
		case <-wait.Done():
			m.passOnKept()
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
			return nil, false, ErrNoSession
		}
	}
}

// passOnKept wakes another waiting sender if a session waits idle: one that
// gives up may have taken the wake-up meant for it.
func (m *Mailer) passOnKept() {
	m.mu.Lock()
	if len(m.idle) > 0 {
		m.signalKept()
	}
	m.mu.Unlock()
}

// open opens a session in the slot its caller holds, and gives the slot
// back if it cannot.
func (m *Mailer) open(ctx context.Context) (*connection, error) {
	release := sync.OnceFunc(func() { <-m.slots })
	// go-mail leaves the socket open when the session fails after it
	// connected (EHLO, STARTTLS, AUTH); holding it here lets it be closed,
	// so that a relay refusing us never counts more sessions than our slots.
	var socket net.Conn
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, address)
		socket = c
		return c, err
	}
	client, err := mail.NewClient(m.cfg.Host, append(slices.Clip(m.opts), mail.WithDialContextFunc(dial))...)
	if err != nil {
		release()
		return nil, err
	}
	session, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if socket != nil {
			_ = socket.Close() // the error that matters is the session's
		}
		release()
		return nil, err
	}
	return &connection{client: client, session: session, timeout: m.cfg.Timeout, release: release}, nil
}

// signalKept wakes one sender waiting for a slot, if any; m.mu is held.
func (m *Mailer) signalKept() {
	select {
	case m.kept <- struct{}{}:
	default: // one is already told
	}
}

// put keeps a session that has just sent a message for the next one. The
// caller records the message as sent at once; a session not kept is ended
// (QUIT) in the background, since waiting for it would only widen the gap
// between the server's "accepted" and our record of it.
func (m *Mailer) put(conn *connection) {
	conn.sent++
	if conn.sent < maxMessagesPerConnection {
		m.mu.Lock()
		if len(m.idle) < m.maxIdle {
			m.idle = append(m.idle, conn)
			conn.expiry = time.AfterFunc(m.idleFor, func() { m.expire(conn) })
			m.signalKept()
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
	}
	go conn.close()
}

// expire ends a session that waited idle too long, unless a sender has just
// taken it.
func (m *Mailer) expire(conn *connection) {
	m.mu.Lock()
	i := slices.Index(m.idle, conn)
	if i >= 0 {
		m.idle = slices.Delete(m.idle, i, i+1)
	}
	m.mu.Unlock()
	if i >= 0 {
		_ = conn.close() // a QUIT that failed has closed the socket anyway
	}
}

// close ends the session with QUIT, closes the socket whatever the server
// answers, and gives its slot back.
func (c *connection) close() error {
	defer c.release()
	// The deadline was set for the session's last command and has likely
	// passed while it waited.
	if err := c.session.UpdateDeadline(c.timeout); err != nil {
		return errors.Join(err, c.session.Close())
	}
	if err := c.client.CloseWithSMTPClient(c.session); err != nil {
		return errors.Join(err, c.session.Close())
	}
	return nil
}

// Close ends the idle sessions; Send may still be used after it.
func (m *Mailer) Close() {
	m.mu.Lock()
	idle := m.idle
	m.idle = nil
	m.mu.Unlock()
	for _, conn := range idle {
		conn.expiry.Stop()
		_ = conn.close() // a QUIT that failed has closed the socket anyway
	}
}

// addresses are what a mail error may quote: the recipient's address, which
// must not reach the logs or the delivery record. The activities redact
// every send error before they keep, log or return it.
var addresses = regexp.MustCompile(`[^\s<>"',;:()]+@[^\s<>"',;:()]+`)

// Redact replaces every email address in err's text. A PermanentError stays
// permanent.
func Redact(err error) error {
	if err == nil {
		return nil
	}
	text := addresses.ReplaceAllString(err.Error(), "<address>")
	if IsPermanent(err) {
		return &PermanentError{Err: errors.New(text)}
	}
	return errors.New(text)
}

// PermanentError is a failure that a retry cannot mend: a rejected address,
// a webhook that answers 4xx.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent tells whether err was marked permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
