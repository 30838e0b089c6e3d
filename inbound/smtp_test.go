package inbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/smtp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
)

// fakeCases records the messages that reach cases.
type fakeCases struct {
	err  error // every task's answer, when set
	mu   sync.Mutex
	got  []complaint.CustomerMessage
	refs []string
}

func (f *fakeCases) Task(_ context.Context, ref, task, _ string, payload any) (complaint.CaseView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return complaint.CaseView{}, f.err
	}
	f.refs = append(f.refs, ref)
	f.got = append(f.got, payload.(complaint.CustomerMessage))
	return complaint.CaseView{Reference: ref}, nil
}

type fakeFiles struct{ saved []store.Attachment }

func (f *fakeFiles) SaveAttachment(_ context.Context, a store.Attachment) (bool, error) {
	for _, s := range f.saved {
		if s.ID == a.ID {
			return false, nil // as the table's ON CONFLICT DO NOTHING
		}
	}
	f.saved = append(f.saved, a)
	return true, nil
}

func (f *fakeFiles) DeleteAttachments(_ context.Context, ref string, ids []string) error {
	f.saved = slices.DeleteFunc(f.saved, func(a store.Attachment) bool { return a.Reference == ref && slices.Contains(ids, a.ID) })
	return nil
}

func (f *fakeFiles) AttachmentBytes(_ context.Context, ref, except string) (int64, error) {
	var n int64
	for _, a := range f.saved {
		if a.Reference == ref && a.MessageID != except {
			n += a.Size
		}
	}
	return n, nil
}

type plainSealer struct{}

func (plainSealer) SealFor(ref, _ string, plain []byte) (codec.Sealed, error) {
	return codec.Sealed{KeyID: codec.KeyID(codec.CaseScope(ref), 1), Data: plain}, nil
}

func startServer(t *testing.T) (*Server, *fakeCases, *logBuffer) {
	t.Helper()
	cases := &fakeCases{}
	logs := &logBuffer{}
	limits := DefaultLimits()
	limits.MaxMessageBytes = 64 << 10
	s := &Server{Receiver: Receiver{Cases: cases, Store: &fakeFiles{}, Keys: plainSealer{}, Limits: limits},
		Replies: auth.ReplyAddresses{Secret: bytes.Repeat([]byte("k"), 32), Domain: "reply.example.com"},
		Logger:  slog.New(slog.NewTextHandler(logs, nil)), Now: func() time.Time { return now }}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, s.Start(ctx, Config{Addr: "127.0.0.1:0", Hostname: "test", Limits: limits}))
	return s, cases, logs
}

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func mailTo(to, headers, body string) []byte {
	return []byte("From: <li@example.com>\r\nTo: <" + to + ">\r\nSubject: Re: complaint\r\nMessage-ID: <m1@example.com>\r\n" +
		headers + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

func TestAutomaticMailIsDroppedWithALogLine(t *testing.T) {
	s, cases, logs := startServer(t)
	to := s.Replies.Address("CMP-20261123-4F7K2Q", now.Add(time.Hour))
	for name, headers := range map[string]string{
		"auto-reply": "Auto-Submitted: auto-replied\r\n",
		"bulk":       "Precedence: bulk\r\n",
		"responder":  "X-Autoreply: yes\r\n",
	} {
		require.NoError(t, smtp.SendMail(s.Addr(), nil, "li@example.com", []string{to}, mailTo(to, headers, "Out of office")), name)
	}
	// A bounce: the null return path.
	require.NoError(t, smtp.SendMail(s.Addr(), nil, "", []string{to}, mailTo(to, "", "Undeliverable")))
	dsn := "From: <mailer-daemon@example.com>\r\nTo: <" + to + ">\r\nMessage-ID: <d@x>\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"
	require.NoError(t, smtp.SendMail(s.Addr(), nil, "postmaster@example.com", []string{to}, []byte(dsn)))
	require.Empty(t, cases.got, "nothing automatic reaches a case")
	require.Equal(t, 5, strings.Count(logs.String(), "inbound mail dropped: automatic"))

	require.NoError(t, smtp.SendMail(s.Addr(), nil, "li@example.com", []string{to}, mailTo(to, "Auto-Submitted: no\r\n", "Thanks, here it is")))
	require.Len(t, cases.got, 1, "Auto-Submitted: no is a person")
	require.Equal(t, "CMP-20261123-4F7K2Q", cases.refs[0])
	require.Equal(t, "Thanks, here it is", cases.got[0].Text)
	require.Equal(t, "<m1@example.com>", cases.got[0].MessageID)
}

func TestBadAddressesAndOversizeMailAreRefused(t *testing.T) {
	s, cases, logs := startServer(t)
	expired := s.Replies.Address("CMP-20261123-4F7K2Q", now.Add(-time.Minute))
	err := smtp.SendMail(s.Addr(), nil, "li@example.com", []string{expired}, mailTo(expired, "", "late"))
	require.ErrorContains(t, err, "550")
	require.Contains(t, logs.String(), "the reply address has expired")
	err = smtp.SendMail(s.Addr(), nil, "li@example.com", []string{"someone@reply.example.com"}, mailTo("x", "", "hi"))
	require.ErrorContains(t, err, "550")

	to := s.Replies.Address("CMP-20261123-4F7K2Q", now.Add(time.Hour))
	big := strings.Repeat(strings.Repeat("0123456789", 7)+"\r\n", 1200) // 86 KB, over the 64 KB limit
	err = smtp.SendMail(s.Addr(), nil, "li@example.com", []string{to}, mailTo(to, "", big))
	require.ErrorContains(t, err, "552")
	exe := "From: <li@example.com>\r\nTo: <" + to + ">\r\nMessage-ID: <e@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/x-msdownload\r\n" +
		"Content-Disposition: attachment; filename=\"photo.exe\"\r\n\r\nMZ\x90\x00\r\n--b--\r\n"
	err = smtp.SendMail(s.Addr(), nil, "li@example.com", []string{to}, []byte(exe))
	require.ErrorContains(t, err, "554")
	require.Empty(t, cases.got)
}

// fakeIntake opens a case per mail, as the starter would.
type fakeIntake struct {
	err    error // every submission's answer, when set
	mu     sync.Mutex
	opened int
}

func (f *fakeIntake) Submit(context.Context, starter.Submission) (starter.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return starter.Result{}, f.err
	}
	f.opened++
	return starter.Result{Reference: fmt.Sprintf("CMP-20261123-%06d", f.opened), Created: true}, nil
}

// A mail whose MIME structure is beyond any real mail's — parts nested a
// hundred deep, or thousands of parts, within the size limit — is refused
// before the parser sees it: the parser has no bound of its own, and the
// server runs in the API's process.
func TestAMIMEBombIsRefusedBeforeParsing(t *testing.T) {
	s, cases, logs := startServer(t)
	to := s.Replies.Address("CMP-20261123-4F7K2Q", now.Add(time.Hour))
	var nested strings.Builder
	nested.WriteString("From: <li@example.com>\r\nTo: <" + to + ">\r\nMessage-ID: <n@x>\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&nested, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
	}
	nested.WriteString("--b100\r\nContent-Type: text/plain\r\n\r\nhi\r\n")
	err := smtp.SendMail(s.Addr(), nil, "li@example.com", []string{to}, []byte(nested.String()))
	require.ErrorContains(t, err, "554")

	var flat strings.Builder
	flat.WriteString("From: <li@example.com>\r\nTo: <" + to + ">\r\nMessage-ID: <f@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range 3000 {
		flat.WriteString("--b\r\n\r\nx\r\n")
	}
	flat.WriteString("--b--\r\n")
	err = smtp.SendMail(s.Addr(), nil, "li@example.com", []string{to}, []byte(flat.String()))
	require.ErrorContains(t, err, "554")
	require.Empty(t, cases.got)
	require.Equal(t, 2, strings.Count(logs.String(), "inbound mail refused: its structure"))

	// A real mail with a few parts goes through.
	ok := "From: <li@example.com>\r\nTo: <" + to + ">\r\nMessage-ID: <ok@x>\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nThe photo is on its way\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>The photo is on its way</p>\r\n--b--\r\n"
	require.NoError(t, smtp.SendMail(s.Addr(), nil, "li@example.com", []string{to}, []byte(ok)))
	require.Len(t, cases.got, 1)

	// Lines of "--" that delimit nothing are no parts: a log or SQL file
	// sent as plain text goes through.
	sql := "From: <li@example.com>\r\nTo: <" + to + ">\r\nMessage-ID: <sql@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nThe export that failed\r\n--b\r\nContent-Type: text/plain\r\n" +
		"Content-Disposition: attachment; filename=\"export.sql\"\r\n\r\n" +
		strings.Repeat("-- a comment line\r\nSELECT 1;\r\n", 1500) + "--b--\r\n"
	require.NoError(t, smtp.SendMail(s.Addr(), nil, "li@example.com", []string{to}, []byte(sql)))
	require.Len(t, cases.got, 2)
}

// One host cannot hold every SMTP session: beyond its share it is told to
// come back (421), and another host still gets in.
func TestOneHostCannotHoldEverySession(t *testing.T) {
	s, _, _ := startServer(t)
	var held []*smtp.Client
	t.Cleanup(func() {
		for _, c := range held {
			_ = c.Close()
		}
	})
	for range maxPerHost {
		c, err := smtp.Dial(s.Addr())
		require.NoError(t, err)
		require.NoError(t, c.Hello("slow.example.com"))
		held = append(held, c)
	}
	c, err := smtp.Dial(s.Addr())
	require.NoError(t, err)
	err = c.Hello("slow.example.com")
	require.ErrorContains(t, err, "421")
	_ = c.Close()
	// A session ended frees its place.
	require.NoError(t, held[0].Quit())
	held = held[1:]
	require.Eventually(t, func() bool {
		c, err := smtp.Dial(s.Addr())
		if err != nil {
			return false
		}
		defer c.Close()
		return c.Hello("slow.example.com") == nil
	}, 5*time.Second, 50*time.Millisecond)
}

// The intake address opens cases only for mail that is a new complaint
// from somebody else: never for our own mail coming back (which would open
// case after case), nor for a reply to one of our messages that missed its
// reply address (the sender is told to use it), nor beyond a few an hour
// from one sender.
func TestTheIntakeAddressOpensNoLoopAndNoFlood(t *testing.T) {
	s, _, logs := startServer(t)
	intake := &fakeIntake{}
	s.Intake, s.Ours, s.intakeAddress, s.intakeLimits = intake, []string{"complaints@shop.example.com"}, "complaints@shop.example.com", newSenderLimits(5, 60)
	send := func(envFrom, headers string) error {
		mail := "From: <" + envFrom + ">\r\nTo: <complaints@shop.example.com>\r\nSubject: My washing machine\r\n" +
			"Message-ID: <" + fmt.Sprint(time.Now().UnixNano()) + "@example.com>\r\n" + headers +
			"Content-Type: text/plain; charset=utf-8\r\n\r\nIt is very loud when spinning.\r\n"
		return smtp.SendMail(s.Addr(), nil, envFrom, []string{"complaints@shop.example.com"}, []byte(mail))
	}
	// Our own acknowledgement, come back (an alias, a forward, a test):
	// refused, as is mail from one of our reply addresses.
	require.ErrorContains(t, send("complaints@shop.example.com", ""), "550")
	require.ErrorContains(t, send(s.Replies.Address("CMP-20261123-4F7K2Q", now.Add(time.Hour)), ""), "550")
	// A reply to our message sent to the sender address instead of Reply-To.
	err := send("li@example.com", "In-Reply-To: <case.CMP-20261123-4F7K2Q@shop.example.com>\r\n")
	require.ErrorContains(t, err, "550")
	require.ErrorContains(t, err, "Reply-To")
	require.Zero(t, intake.opened)

	// A customer's new complaints: five an hour, then "try later" (4xx:
	// their server keeps the mail and tries again).
	for i := range 5 {
		require.NoError(t, send("wang@example.com", ""), "complaint %d", i+1)
	}
	require.ErrorContains(t, send("wang@example.com", ""), "451")
	require.NoError(t, send("zhao@example.com", ""), "another customer is not held back")
	require.Equal(t, 6, intake.opened)
	// A mail that opened no case (the service away) takes nothing from
	// the sender's allowance.
	intake.err = errors.New("the workflow service is unavailable")
	for range 5 {
		require.ErrorContains(t, send("sun@example.com", ""), "451")
	}
	intake.err = nil
	require.NoError(t, send("sun@example.com", ""), "failed attempts spent the allowance")
	require.Contains(t, logs.String(), "inbound mail to the intake address refused")
}

// A message with a good photo and a refused file stores neither: every file
// is checked before any is kept.
func TestAMessageRefusedForOneFileLeavesNoneBehind(t *testing.T) {
	files := &fakeFiles{}
	r := Receiver{Cases: &fakeCases{}, Store: files, Keys: plainSealer{}, Limits: DefaultLimits()}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	_, err := r.Deliver(context.Background(), Incoming{Reference: "CMP-20261123-4F7K2Q", MessageID: "<two@x>", Text: "photos",
		Files: []File{{Name: "parcel.png", ContentType: "image/png", Data: png},
			{Name: "photo.exe", ContentType: "application/x-msdownload", Data: []byte("MZ\x90\x00")}}})
	require.ErrorIs(t, err, ErrRefusedFile)
	require.Empty(t, files.saved)
}

// A case's files are bounded in all (ATTACHMENT_MAX_CASE_BYTES): a reply
// address or a status link cannot fill the database. A redelivery of a
// message already kept is not counted twice.
func TestACaseHoldsBoundedFiles(t *testing.T) {
	files := &fakeFiles{}
	limits := DefaultLimits()
	limits.MaxCaseBytes = 100
	r := Receiver{Cases: &fakeCases{}, Store: files, Keys: plainSealer{}, Limits: limits}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 52)...) // 60 bytes
	photo := func(id string) Incoming {
		return Incoming{Reference: "CMP-20261123-4F7K2Q", MessageID: id, Files: []File{{Name: "p.png", ContentType: "image/png", Data: png}}}
	}
	_, err := r.Deliver(context.Background(), photo("<one@x>"))
	require.NoError(t, err)
	_, err = r.Deliver(context.Background(), photo("<one@x>"))
	require.NoError(t, err, "a redelivery is not counted twice")
	_, err = r.Deliver(context.Background(), photo("<two@x>"))
	require.ErrorIs(t, err, ErrRefusedFile)
	require.ErrorIs(t, err, ErrCaseFull)
	require.Len(t, files.saved, 1)
	// Another case has its own allowance.
	other := photo("<three@x>")
	other.Reference = "CMP-20261123-8H2M4W"
	_, err = r.Deliver(context.Background(), other)
	require.NoError(t, err)
}

// A message its case refuses (ended, withdrawn) leaves no files behind
// where staff would find them; a redelivery of a message the case took
// removes nothing it did not store.
func TestAMessageTheCaseRefusesLeavesNoFiles(t *testing.T) {
	files, cases := &fakeFiles{}, &fakeCases{}
	r := Receiver{Cases: cases, Store: files, Keys: plainSealer{}, Limits: DefaultLimits()}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 52)...)
	photo := func(id string) Incoming {
		return Incoming{Reference: "CMP-20261123-4F7K2Q", MessageID: id, Files: []File{{Name: "p.png", ContentType: "image/png", Data: png}}}
	}
	_, err := r.Deliver(context.Background(), photo("<taken@x>"))
	require.NoError(t, err)
	cases.err = starter.ErrEnded
	_, err = r.Deliver(context.Background(), photo("<late@x>"))
	require.ErrorIs(t, err, starter.ErrEnded)
	_, err = r.Deliver(context.Background(), photo("<taken@x>"))
	require.ErrorIs(t, err, starter.ErrEnded)
	require.Len(t, files.saved, 1, "the refused message's file is gone, the taken one's stays")
	require.Equal(t, "<taken@x>", files.saved[0].MessageID)
}
