// Package mailbox is the SMTP server of the development system and the
// tests: it accepts every message, keeps it in memory and as one .eml file,
// and shows what it holds over HTTP. Like a real mail server, it takes a
// message only once the client has seen it accepted: a sender that dies
// before the reply has delivered nothing, and will send again.
package mailbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message as received.
type Message struct {
	Seq        int       `json:"seq"`
	MessageID  string    `json:"messageId"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	Text       string    `json:"text"`
	HTML       string    `json:"html"`
	ReceivedAt time.Time `json:"receivedAt"`
	File       string    `json:"file,omitempty"`
}

// Server is a running mailbox.
type Server struct {
	// Dir, when set, receives one .eml file per message.
	Dir    string
	Logger *slog.Logger

	smtp     *smtp.Server
	http     *http.Server
	smtpAddr string
	httpAddr string

	mu       sync.Mutex
	sessions int // SMTP sessions clients have opened
	open     int // of which not yet ended
	seq      int // of the last message received; deleted ones keep theirs
	messages []Message
	holds    []*hold
	done     chan struct{} // closed by Close: held replies are let go
	closed   sync.Once
}

// hold keeps the reply to a matching message back until released.
type hold struct {
	match   func(Message) bool
	reached chan struct{}
	release chan struct{}
}

// Start listens for SMTP on smtpAddr and for HTTP on httpAddr (empty: no
// HTTP) until ctx ends.
func Start(ctx context.Context, smtpAddr, httpAddr, dir string, logger *slog.Logger) (*Server, error) {
	s := &Server{Dir: dir, Logger: logger, done: make(chan struct{})}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", smtpAddr)
	if err != nil {
		return nil, fmt.Errorf("mailbox SMTP on %s: %w", smtpAddr, err)
	}
	s.smtpAddr = ln.Addr().String()
	s.smtp = smtp.NewServer(backend{s})
	s.smtp.Domain = "mailbox.local"
	s.smtp.MaxMessageBytes = 10 << 20
	s.smtp.ReadTimeout, s.smtp.WriteTimeout = time.Minute, time.Minute
	go func() {
		if err := s.smtp.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			logger.Error("mailbox SMTP", "error", err)
		}
	}()
	if httpAddr != "" {
		hl, err := net.Listen("tcp", httpAddr)
		if err != nil {
			_ = s.smtp.Close()
			return nil, fmt.Errorf("mailbox HTTP on %s: %w", httpAddr, err)
		}
		s.httpAddr = hl.Addr().String()
		s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := s.http.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("mailbox HTTP", "error", err)
			}
		}()
	}
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	return s, nil
}

// SMTPAddr is where to send mail; HTTPAddr where to read it.
func (s *Server) SMTPAddr() string { return s.smtpAddr }
func (s *Server) HTTPAddr() string { return s.httpAddr }

// Close stops both listeners.
func (s *Server) Close() {
	s.closed.Do(func() { close(s.done) })
	if err := s.smtp.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		s.Logger.Warn("mailbox SMTP close", "error", err)
	}
	if s.http != nil {
		if err := s.http.Close(); err != nil {
			s.Logger.Warn("mailbox HTTP close", "error", err)
		}
	}
}

// Messages returns what has arrived, oldest first, that match (nil: all).
func (s *Server) Messages(match func(Message) bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if match == nil || match(m) {
			out = append(out, m)
		}
	}
	return out
}

// Hold makes the server keep back its reply to the next message that
// matches until release is called; reached closes when such a message has
// arrived and is being held. Tests use it to stop a sender mid-send.
func (s *Server) Hold(match func(Message) bool) (reached <-chan struct{}, release func()) {
	h := &hold{match: match, reached: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	var once sync.Once
	return h.reached, func() { once.Do(func() { close(h.release) }) }
}

// To matches messages to one address.
func To(addr string) func(Message) bool {
	return func(m Message) bool {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				return true
			}
		}
		return false
	}
}

func (s *Server) takeHold(m Message) *hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, h := range s.holds {
		if h.match(m) {
			s.holds = append(s.holds[:i], s.holds[i+1:]...)
			return h
		}
	}
	return nil
}

// keep stores a message: its number is taken under the lock, its file
// written outside it, so that concurrent senders (a burst of notices) do
// not queue behind one another's disk writes. Listing stays in number
// order: a message is inserted where its number belongs.
func (s *Server) keep(m Message, raw []byte) error {
	s.mu.Lock()
	s.seq++
	m.Seq = s.seq
	s.mu.Unlock()
	if s.Dir != "" {
		m.File = filepath.Join(s.Dir, fmt.Sprintf("%s-%04d-%s.eml",
			m.ReceivedAt.UTC().Format("20060102T150405"), m.Seq, fileSafe(m.MessageID)))
		if err := os.WriteFile(m.File, raw, 0o640); err != nil {
			return fmt.Errorf("keep %s: %w", m.File, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.messages)
	for i > 0 && s.messages[i-1].Seq > m.Seq {
		i--
	}
	s.messages = slices.Insert(s.messages, i, m)
	return nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileSafe(id string) string {
	id = unsafeChars.ReplaceAllString(strings.Trim(id, "<>"), "_")
	return id[:min(len(id), 80)]
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.mu.Lock()
	b.s.sessions++
	b.s.open++
	b.s.mu.Unlock()
	return &session{s: b.s, conn: c}, nil
}

// Sessions is how many SMTP sessions clients have opened, and how many of
// them are still open.
func (s *Server) Sessions() (opened, open int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions, s.open
}

type session struct {
	s    *Server
	conn *smtp.Conn
	from string
	to   []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unreadable message: " + err.Error()}
	}
	m.From, m.To, m.ReceivedAt = ss.from, ss.to, time.Now()
	if h := ss.s.takeHold(m); h != nil {
		close(h.reached)
		select {
		case <-h.release:
		case <-ss.s.done:
		}
		if !ss.clientStillThere() {
			// The sender never saw the message accepted, so it was not
			// delivered: the sender's retry is the delivery.
			ss.s.Logger.Info("mailbox: sender left before the reply; message not accepted", "messageId", m.MessageID)
			return errors.New("sender left")
		}
	}
	if err := ss.s.keep(m, raw); err != nil {
		ss.s.Logger.Error("mailbox", "error", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store the message now"}
	}
	return nil
}

// clientStillThere peeks at the connection: a client waiting for the reply
// sends nothing, a dead one has closed it.
func (ss *session) clientStillThere() bool {
	conn := ss.conn.Conn()
	if err := conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		return false
	}
	defer conn.SetReadDeadline(time.Time{}) //nolint:errcheck // the server sets its own deadline before the next read
	var b [1]byte
	_, err := conn.Read(b[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { // at QUIT or when the connection ends
	ss.s.mu.Lock()
	ss.s.open--
	ss.s.mu.Unlock()
	return nil
}

// parse reads the headers and the text and HTML parts of a message.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	m := Message{MessageID: strings.Trim(msg.Header.Get("Message-Id"), "<>"), Subject: subject}
	err = walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m)
	return m, err
}

func walk(contentType, encoding string, body io.Reader, m *Message) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips the line breaks
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mediaType {
	case "text/plain":
		m.Text += string(b)
	case "text/html":
		m.HTML += string(b)
	}
	return nil
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		var match func(Message) bool
		if to := r.URL.Query().Get("to"); to != "" {
			match = To(to)
		}
		w.Header().Set("Content-Type", "application/json")
		msgs := s.Messages(match)
		if msgs == nil {
			msgs = []Message{}
		}
		if err := json.NewEncoder(w).Encode(msgs); err != nil {
			s.Logger.Debug("mailbox HTTP write", "error", err)
		}
	})
	// An erasure deletes a customer's messages, their files too.
	mux.HandleFunc("DELETE /messages", func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		if to == "" {
			http.Error(w, "name the address: ?to=", http.StatusBadRequest)
			return
		}
		if err := s.Delete(To(to)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// Delete forgets the messages that match, and removes their files.
func (s *Server) Delete(match func(Message) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.messages[:0]
	var errs []error
	for _, m := range s.messages {
		if !match(m) {
			kept = append(kept, m)
			continue
		}
		if m.File != "" {
			if err := os.Remove(m.File); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	s.messages = kept
	return errors.Join(errs...)
}

// Client calls a mailbox's HTTP side from another process.
type Client struct {
	URL string // http://127.0.0.1:8025
}

// DeleteTo has the mailbox delete every message to address.
func (c Client) DeleteTo(ctx context.Context, address string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete,
		strings.TrimSuffix(c.URL, "/")+"/messages?to="+url.QueryEscape(address), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("mailbox: DELETE /messages: %s", resp.Status)
	}
	return nil
}
