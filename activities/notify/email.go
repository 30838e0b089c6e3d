package notify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	mail "github.com/wneessen/go-mail"
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
}

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

// Mailer sends email over SMTP. Each message gets a connection of its own:
// a client holds one connection's state, and activities send concurrently.
type Mailer struct {
	cfg  SMTPConfig
	opts []mail.Option
}

// NewMailer checks the configuration; it connects only when sending.
func NewMailer(cfg SMTPConfig) (*Mailer, error) {
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
	opts := []mail.Option{mail.WithPort(cfg.Port), mail.WithTLSPolicy(policy), mail.WithTimeout(cfg.Timeout)}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(cfg.Username),
			mail.WithPassword(cfg.Password))
	}
	if _, err := mail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("SMTP client for %s: %w", cfg.Host, err)
	}
	return &Mailer{cfg: cfg, opts: opts}, nil
}

// Send delivers one message. An error the server calls permanent (5xx) is
// marked Permanent: retrying it cannot help.
func (m *Mailer) Send(ctx context.Context, e Email) error {
	msg := mail.NewMsg()
	if err := msg.FromFormat(m.cfg.FromName, m.cfg.From); err != nil {
		return Permanent(fmt.Errorf("sender address: %w", err))
	}
	if err := msg.AddToFormat(e.ToName, e.To); err != nil {
		return Permanent(fmt.Errorf("recipient address: %w", err))
	}
	msg.SetMessageIDWithValue(e.MessageID)
	if e.ReplyTo != "" {
		if err := msg.ReplyTo(e.ReplyTo); err != nil {
			return Permanent(fmt.Errorf("reply address: %w", err))
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
	client, err := mail.NewClient(m.cfg.Host, m.opts...)
	if err != nil {
		return err
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return err
	}
	if err = client.SendWithSMTPClient(conn, msg); err == nil {
		// The server has taken the message: the caller records that at
		// once, and QUIT goes on in the background. Waiting for it would
		// widen the one gap no sender can close (dying between the server's
		// "accepted" and our record of it, after which the message is sent
		// again); a failed QUIT changes nothing.
		go client.CloseWithSMTPClient(conn) //nolint:errcheck // see above
		return nil
	}
	if cerr := client.CloseWithSMTPClient(conn); cerr != nil {
		err = errors.Join(err, cerr)
	}
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) && !sendErr.IsTemp() && sendErr.ErrorCode() >= 500 {
		return Permanent(err)
	}
	return err
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
