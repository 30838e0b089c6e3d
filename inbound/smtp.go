package inbound

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
)

// Config is the inbound mail server's configuration.
type Config struct {
	// Addr is where the SMTP server listens (127.0.0.1:2525); empty: no
	// inbound server in this process.
	Addr string `env:"INBOUND_SMTP_ADDR"`
	// Hostname is the name the server greets with.
	Hostname string `env:"INBOUND_SMTP_HOSTNAME" envDefault:"complaintdesk.local"`
	// IntakeAddress, when set, is an address whose mail from an unknown
	// thread opens a new case (channel email); empty: such mail is refused.
	IntakeAddress string `env:"INBOUND_INTAKE_ADDRESS"`
	// IntakePerSender and IntakePerHost bound the cases the intake
	// address opens an hour per sender and per connecting host.
	IntakePerSender int `env:"INBOUND_INTAKE_PER_SENDER" envDefault:"5"`
	IntakePerHost   int `env:"INBOUND_INTAKE_PER_HOST" envDefault:"60"`
	Limits
}

// Server receives replies to our messages by SMTP. A reply reaches its case
// only through a signed reply address (auth.ReplyAddresses): the RCPT of a
// forged, expired or unknown address is refused before the message is
// sent. Auto-replies and bounces are taken and dropped, so that no loop of
// automatic answers starts, each with a log line.
type Server struct {
	Receiver Receiver
	Replies  auth.ReplyAddresses
	Logger   *slog.Logger
	// Now is the clock reply addresses expire on; time.Now when nil.
	Now func() time.Time
	// Intake, when set with Config.IntakeAddress, opens a case for a mail
	// to the intake address (intake.go).
	Intake Submitter
	// Ours are addresses our own messages come from (MAIL_FROM): a mail
	// from one of them, or from a reply address, never opens a case — our
	// own acknowledgement coming back would open another, and so on.
	Ours []string

	intakeAddress string
	intakeLimits  *senderLimits
	mu            sync.Mutex
	open          int            // SMTP sessions open
	perHost       map[string]int // of which from each remote host

	smtp *smtp.Server
	ln   net.Listener
}

// Start listens on cfg.Addr until ctx ends.
func (s *Server) Start(ctx context.Context, cfg Config) error {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Intake != nil {
		s.intakeAddress = strings.ToLower(strings.TrimSpace(cfg.IntakeAddress))
		s.intakeLimits = newSenderLimits(cfg.IntakePerSender, cfg.IntakePerHost)
	}
	s.perHost = map[string]int{}
	srv := smtp.NewServer(backend{s})
	srv.Domain = cfg.Hostname
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = 10
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("inbound SMTP on %s: %w", cfg.Addr, err)
	}
	s.smtp, s.ln = srv, ln
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			s.Logger.Error("inbound SMTP server stopped", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	s.Logger.Info("inbound SMTP listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

type backend struct{ s *Server }

// maxSessions bounds the SMTP sessions served at once: the server runs in
// the API's process, and a flood of connections must not take its memory;
// maxPerHost keeps one host from holding them all (a slow client holds
// one for as long as it sends a line a minute).
const (
	maxSessions = 64
	maxPerHost  = 16
)

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	remote := c.Conn().RemoteAddr().String()
	host := hostOf(remote)
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.perHost[host] >= maxPerHost:
		return nil, refuse(421, smtp.EnhancedCode{4, 7, 0}, "too many connections from your host; try again later")
	case s.open >= maxSessions:
		return nil, refuse(421, smtp.EnhancedCode{4, 7, 0}, "too many connections; try again later")
	}
	s.open++
	s.perHost[host]++
	return &session{s: s, remote: remote, host: host}, nil
}

type session struct {
	s         *Server
	remote    string
	host      string
	from      string
	reference string
	intake    bool // the mail is to the intake address: a new case
}

func (ss *session) Reset() { ss.from, ss.reference, ss.intake = "", "", false }
func (ss *session) Logout() error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	ss.s.open--
	if ss.s.perHost[ss.host]--; ss.s.perHost[ss.host] <= 0 {
		delete(ss.s.perHost, ss.host)
	}
	return nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func refuse(code int, enhanced smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}

// Rcpt takes only a reply address we signed and that has not expired.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if a := ss.s.intakeAddress; a != "" && strings.EqualFold(strings.TrimSpace(to), a) {
		if ss.reference != "" {
			return refuse(452, smtp.EnhancedCode{4, 5, 3}, "one case per message, please")
		}
		ss.intake = true
		return nil
	}
	if ss.intake {
		return refuse(452, smtp.EnhancedCode{4, 5, 3}, "one case per message, please")
	}
	ref, err := ss.s.Replies.Parse(to, ss.s.Now())
	log := ss.s.Logger.With("remote", ss.remote)
	switch {
	case errors.Is(err, auth.ErrReplyExpired):
		log.Warn("inbound mail refused: the reply address has expired", "reference", ref)
		return refuse(550, smtp.EnhancedCode{5, 7, 1},
			"this reply address has expired; please use the link in our latest message")
	case errors.Is(err, auth.ErrReplyForged):
		log.Warn("inbound mail refused: a forged reply address")
		return refuse(550, smtp.EnhancedCode{5, 7, 1}, "this reply address is not valid")
	case err != nil:
		log.Info("inbound mail refused: not a reply address of ours", "reason", err.Error())
		return refuse(550, smtp.EnhancedCode{5, 1, 1}, "no such mailbox")
	case ss.reference != "" && ss.reference != ref:
		return refuse(452, smtp.EnhancedCode{4, 5, 3}, "one case per message, please")
	}
	ss.reference = ref
	return nil
}

// Data reads the message, drops automatic mail and delivers the rest to
// the case. A failure the sender can mend is permanent (5xx); one of ours
// is temporary (4xx), and the sender's server tries again later: the
// Message-ID makes that retry harmless.
func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // the size limit: go-smtp answers 552
	}
	log := ss.s.Logger.With("remote", ss.remote, "reference", ss.reference)
	if ss.reference == "" && !ss.intake {
		return refuse(554, smtp.EnhancedCode{5, 5, 1}, "no valid recipients")
	}
	if err := mimeShape(raw); err != nil {
		log.Warn("inbound mail refused: its structure", "error", err)
		return refuse(554, smtp.EnhancedCode{5, 6, 0}, err.Error())
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		log.Warn("inbound mail refused: unreadable", "error", err)
		return refuse(554, smtp.EnhancedCode{5, 6, 0}, "unreadable message")
	}
	if why := automatic(ss.from, env); why != "" {
		// Taken, so that the sending server does not answer with a bounce
		// of its own; dropped, so that nothing answers it.
		log.Info("inbound mail dropped: automatic", "why", why)
		return nil
	}
	in := Incoming{Reference: ss.reference, Via: complaint.MessageViaEmail, Subject: env.GetHeader("Subject"),
		MessageID: strings.TrimSpace(env.GetHeader("Message-ID")), Original: strings.TrimSpace(env.Text)}
	if in.MessageID == "" { // the same bytes again are the same message
		sum := sha256.Sum256(raw)
		in.MessageID = "<sha256." + hex.EncodeToString(sum[:16]) + "@inbound>"
	}
	in.Text = TrimReply(in.Original)
	for _, p := range append(append([]*enmime.Part{}, env.Attachments...), env.Inlines...) {
		if p.FileName == "" && strings.HasPrefix(p.ContentType, "text/") {
			continue // an alternative body, not a file
		}
		in.Files = append(in.Files, File{Name: p.FileName, ContentType: p.ContentType, Data: p.Content})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ss.intake {
		giveBack, err := ss.s.mayOpenCase(ss.from, ss.remote, env)
		if err != nil {
			log.Warn("inbound mail to the intake address refused", "error", err)
			return err
		}
		var created bool
		in.Reference, created, err = ss.s.openCase(ctx, env, in)
		if !created {
			giveBack() // no case opened (or the mail's again): the allowance is the sender's again
		}
		if err != nil {
			if _, bad := complaint.AsValidationErrors(err); bad {
				log.Warn("inbound mail to the intake address refused", "error", err)
				return refuse(550, smtp.EnhancedCode{5, 6, 0}, "we cannot open a complaint from this message: "+err.Error())
			}
			if errors.Is(err, starter.ErrKeyReused) || errors.Is(err, starter.ErrKeyClash) {
				// A Message-ID used before for another mail: a retry is the same.
				log.Warn("inbound mail to the intake address refused: its Message-ID names another mail", "error", err)
				return refuse(550, smtp.EnhancedCode{5, 6, 0}, "this Message-ID was used for another message")
			}
			log.Error("inbound mail to the intake address: no case opened; the sender will retry", "error", err)
			return refuse(451, smtp.EnhancedCode{4, 3, 0}, "please try again later")
		}
		log = log.With("reference", in.Reference)
		if len(in.Files) == 0 {
			log.Info("inbound mail opened a case")
			return nil
		}
		in.Text, in.Original = "", "" // the words are the case's description; the files follow
	}
	_, err = ss.s.Receiver.Deliver(ctx, in)
	var rejected *starter.RejectedError
	switch {
	case err == nil:
		log.Info("inbound mail delivered to its case", "files", len(in.Files))
		return nil
	case errors.Is(err, ErrRefusedFile):
		log.Warn("inbound mail refused: an attachment", "error", err)
		return refuse(554, smtp.EnhancedCode{5, 6, 0}, err.Error())
	case errors.Is(err, starter.ErrEnded), errors.Is(err, starter.ErrNotFound), errors.Is(err, starter.ErrConflict),
		errors.Is(err, codec.ErrKeyDestroyed): // erased: no retry will change that
		log.Warn("inbound mail refused: the case takes no messages", "error", err)
		return refuse(550, smtp.EnhancedCode{5, 7, 1}, "this case is closed to messages; please write to us anew")
	case errors.As(err, &rejected):
		log.Warn("inbound mail refused by the case", "error", err)
		return refuse(550, smtp.EnhancedCode{5, 6, 0}, "the message is empty")
	}
	log.Error("inbound mail not delivered; the sender will retry", "error", err)
	return refuse(451, smtp.EnhancedCode{4, 3, 0}, "please try again later")
}

// automatic says why a message was sent by a machine rather than the
// customer (RFC 3834 Auto-Submitted, Precedence, delivery status
// notifications, a null return path), or "".
func automatic(from string, env *enmime.Envelope) string {
	h := func(name string) string { return strings.ToLower(strings.TrimSpace(env.GetHeader(name))) }
	sender := strings.ToLower(from)
	switch {
	case from == "":
		return "null return path (a bounce)"
	case h("Auto-Submitted") != "" && h("Auto-Submitted") != "no":
		return "Auto-Submitted: " + h("Auto-Submitted")
	case h("Precedence") == "bulk" || h("Precedence") == "junk" || h("Precedence") == "list" || h("Precedence") == "auto_reply":
		return "Precedence: " + h("Precedence")
	case env.Root != nil && strings.EqualFold(env.Root.ContentType, "multipart/report"):
		return "a delivery or disposition report"
	case h("X-Autoreply") != "" || h("X-Autorespond") != "":
		return "an auto-responder's header"
	case strings.HasPrefix(sender, "mailer-daemon@") || strings.HasPrefix(sender, "postmaster@"):
		return "sent by " + sender
	}
	return ""
}
