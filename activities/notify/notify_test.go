package notify_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/activities/notify"
	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
)

func startMailbox(t *testing.T) *mailbox.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	mb, err := mailbox.Start(ctx, "127.0.0.1:0", "", t.TempDir(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return mb
}

func mailer(t *testing.T, mb *mailbox.Server) *notify.Mailer {
	t.Helper()
	return mailerWithTimeout(t, mb, 10*time.Second)
}

// mailerWithTimeout sends to mb; timeout is each SMTP command's deadline.
func mailerWithTimeout(t *testing.T, mb *mailbox.Server, timeout time.Duration) *notify.Mailer {
	t.Helper()
	return mailerWith(t, mb, func(c *notify.SMTPConfig) { c.Timeout = timeout })
}

// mailerWith sends to mb with the test's settings, as set changes them.
func mailerWith(t *testing.T, mb *mailbox.Server, set func(*notify.SMTPConfig)) *notify.Mailer {
	t.Helper()
	host, port, err := net.SplitHostPort(mb.SMTPAddr())
	require.NoError(t, err)
	var p int
	_, err = fmt.Sscan(port, &p)
	require.NoError(t, err)
	cfg := notify.SMTPConfig{Host: host, Port: p, TLS: "none", From: "complaints@example.com", FromName: "客服中心",
		Timeout: 10 * time.Second}
	set(&cfg)
	m, err := notify.NewMailer(cfg)
	require.NoError(t, err)
	return m
}

func TestEveryMessageRendersInBothLanguages(t *testing.T) {
	r, err := notify.NewRenderer()
	require.NoError(t, err)
	kinds := []string{"acknowledgement", "investigation_started", "resolution_proposal", "closing_summary",
		"survey_invitation", "survey_reminder", "proposal_reminder", "routed", "progress_update", "information_needed",
		"dispute_stage", "reopened", "confirmation_request"}
	for _, lang := range notify.Languages {
		for _, kind := range kinds {
			out, err := r.Render(notify.Content{Kind: kind, Language: lang, Reference: "CMP-20261123-ABCDEF",
				Name: "<b>Li</b>", Text: "Refund 100 CNY", SurveyLink: "https://x.example/survey?t=1", LinkExpires: "2026-12-01"})
			require.NoError(t, err, "%s/%s", lang, kind)
			require.Contains(t, out.Subject, "CMP-20261123-ABCDEF")
			require.Contains(t, out.Text, "CMP-20261123-ABCDEF")
			require.Contains(t, out.HTML, "CMP-20261123-ABCDEF")
			require.NotContains(t, out.HTML, "<b>Li</b>", "names are escaped in HTML")
			if strings.HasPrefix(kind, "survey") {
				require.Contains(t, out.Text, "https://x.example/survey?t=1")
			}
		}
	}
	zh, err := r.Render(notify.Content{Kind: "acknowledgement", Reference: "R", Name: "李"})
	require.NoError(t, err)
	require.Contains(t, zh.Subject, "受理", "Chinese when no language was given")
	_, err = r.Render(notify.Content{Kind: "no_such_message", Language: "en"})
	require.Error(t, err)
}

func TestEmailArrivesWithItsIDSubjectAndBothParts(t *testing.T) {
	mb := startMailbox(t)
	r, err := notify.NewRenderer()
	require.NoError(t, err)
	out, err := r.Render(notify.Content{Kind: "acknowledgement", Language: "zh", Reference: "CMP-20261123-ABCDEF", Name: "李雷"})
	require.NoError(t, err)
	err = mailer(t, mb).Send(t.Context(), notify.Email{MessageID: "CMP-20261123-ABCDEF.0002-ack@complaints.local",
		To: "li@example.com", ToName: "李雷", Rendered: out})
	require.NoError(t, err)
	msgs := mb.Messages(mailbox.To("li@example.com"))
	require.Len(t, msgs, 1)
	require.Equal(t, "CMP-20261123-ABCDEF.0002-ack@complaints.local", msgs[0].MessageID)
	require.Equal(t, out.Subject, msgs[0].Subject)
	require.Contains(t, msgs[0].Text, "尊敬的李雷")
	require.Contains(t, msgs[0].HTML, "<strong>CMP-20261123-ABCDEF</strong>")
	require.FileExists(t, msgs[0].File)
	// Marked as sent by a system, so that no auto-responder answers it and
	// our own inbound server drops it if it comes back.
	raw, err := os.ReadFile(msgs[0].File)
	require.NoError(t, err)
	require.Contains(t, string(raw), "Auto-Submitted: auto-generated\r\n")
}

// A sender that dies while the mailbox holds its reply has delivered
// nothing: the mailbox, like a real server, keeps only what it confirmed.
func TestMailboxDropsAMessageWhoseSenderLeftBeforeTheReply(t *testing.T) {
	mb := startMailbox(t)
	reached, release := mb.Hold(mailbox.To("gone@example.com"))
	conn, err := net.Dial("tcp", mb.SMTPAddr())
	require.NoError(t, err)
	rd := bufio.NewReader(conn)
	say := func(line string) {
		_, err := io.WriteString(conn, line+"\r\n")
		require.NoError(t, err)
	}
	expect := func(code string) {
		for {
			l, err := rd.ReadString('\n')
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(l, code), "want %s, got %q", code, l)
			if len(l) > 3 && l[3] == ' ' {
				return
			}
		}
	}
	expect("220")
	say("EHLO test")
	expect("250")
	say("MAIL FROM:<a@example.com>")
	expect("250")
	say("RCPT TO:<gone@example.com>")
	expect("250")
	say("DATA")
	expect("354")
	say("Message-Id: <x@y>\r\nSubject: hi\r\n\r\nbody\r\n.")
	<-reached
	require.NoError(t, conn.Close())
	release()
	require.Never(t, func() bool { return len(mb.Messages(nil)) > 0 }, time.Second, 50*time.Millisecond)

	// The retry, whose sender waits for the reply, is delivered.
	reached, release = mb.Hold(mailbox.To("gone@example.com"))
	go func() { <-reached; release() }()
	require.NoError(t, mailer(t, mb).Send(t.Context(), notify.Email{MessageID: "x@y", To: "gone@example.com",
		Rendered: notify.Rendered{Subject: "hi", Text: "body"}}))
	require.Len(t, mb.Messages(nil), 1)
}

// TestWebhookVerifiesWithTheStandardLibrary checks a delivery with the
// Standard Webhooks reference verifier, not with our own code: a receiver
// using any of the standard's libraries accepts it.
func TestWebhookVerifiesWithTheStandardLibrary(t *testing.T) {
	current, previous := notify.NewWebhookSecret(), notify.NewWebhookSecret()
	type received struct {
		header http.Header
		body   []byte
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		got <- received{r.Header.Clone(), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	post := func(t *testing.T, current, previous string) received {
		var previousSecrets map[string]string
		if previous != "" {
			previousSecrets = map[string]string{"shop": previous}
		}
		keys, err := notify.WebhookKeys(map[string]string{"shop": current}, previousSecrets)
		require.NoError(t, err)
		wh := &notify.Webhooks{Subscribers: map[string]string{"shop": srv.URL}, Keys: keys, Client: srv.Client(), Now: time.Now}
		require.NoError(t, wh.Post(t.Context(), "shop", "CMP-20261123-4F7K2Q/0001-received", []byte(`{"a":1}`)))
		return <-got
	}
	verifier := func(t *testing.T, secret string) *standardwebhooks.Webhook {
		v, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		return v
	}

	d := post(t, current, "")
	require.NoError(t, verifier(t, current).Verify(d.body, d.header), "the standard's verifier accepts the delivery")
	require.NoError(t, notify.VerifyWebhook(current, d.header, d.body, time.Now(), 5*time.Minute))
	require.Regexp(t, `^v1,[A-Za-z0-9+/]{43}=$`, d.header.Get(notify.HeaderWebhookSignature), "one base64 signature")
	require.Error(t, verifier(t, previous).Verify(d.body, d.header), "another secret fails")
	require.Error(t, verifier(t, current).Verify([]byte(`{"a":2}`), d.header), "a changed body fails")
	old := d.header.Clone()
	old.Set(notify.HeaderWebhookTimestamp, fmt.Sprint(time.Now().Add(-time.Hour).Unix()))
	require.Error(t, verifier(t, current).Verify(d.body, old), "an old timestamp fails")

	// During a rotation every delivery is signed under both secrets: a
	// receiver still on the old one and one already on the new one accept it.
	d = post(t, current, previous)
	require.Len(t, strings.Fields(d.header.Get(notify.HeaderWebhookSignature)), 2)
	require.NoError(t, verifier(t, current).Verify(d.body, d.header), "the new secret verifies")
	require.NoError(t, verifier(t, previous).Verify(d.body, d.header), "the old secret still verifies")
}

func TestWebhookSecretsMustBeStandard(t *testing.T) {
	for _, bad := range []string{"s3cret", "whsec_not base64!", "whsec_" + "c2hvcnQ="} {
		_, err := notify.WebhookKeys(map[string]string{"shop": bad}, nil)
		require.Error(t, err, bad)
	}
	_, err := notify.WebhookKeys(map[string]string{"shop": notify.NewWebhookSecret()},
		map[string]string{"other": notify.NewWebhookSecret()})
	require.ErrorContains(t, err, "WEBHOOK_PREVIOUS_SECRETS", "a previous secret without a current one")
}

func TestWebhookClassifiesFailures(t *testing.T) {
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	keys, err := notify.WebhookKeys(map[string]string{"shop": notify.NewWebhookSecret()}, nil)
	require.NoError(t, err)
	wh := &notify.Webhooks{Subscribers: map[string]string{"shop": srv.URL}, Keys: keys, Client: srv.Client(), Now: time.Now}
	require.NoError(t, wh.Post(t.Context(), "shop", "evt-1", []byte(`{}`)))
	status = http.StatusServiceUnavailable
	err = wh.Post(t.Context(), "shop", "evt-2", []byte(`{}`))
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err), "5xx is retried")
	status = http.StatusGone
	err = wh.Post(t.Context(), "shop", "evt-3", []byte(`{}`))
	require.True(t, notify.IsPermanent(err), "4xx is permanent")
}

func TestSurveyLinkIsSignedAndExpires(t *testing.T) {
	links := auth.SurveyLinks{Secret: []byte("k"), BaseURL: "https://c.example"}
	issued := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tok, err := links.Token("CMP-1", 2, "en", issued, issued.Add(7*24*time.Hour))
	require.NoError(t, err)
	c, err := links.Parse(tok, issued.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, "CMP-1", c.Reference())
	require.Equal(t, 2, c.Round)
	_, err = links.Parse(tok, issued.Add(8*24*time.Hour))
	require.ErrorIs(t, err, auth.ErrSurveyLinkExpired)
	_, err = auth.SurveyLinks{Secret: []byte("other")}.Parse(tok, issued.Add(time.Hour))
	require.Error(t, err)
	_, err = links.Parse(tok[:len(tok)-2], issued.Add(time.Hour))
	require.Error(t, err)
	link, err := links.Link("CMP-1", 2, "en", issued, issued.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(link, "https://c.example/survey?t="))
}

func TestRedactKeepsAddressesOutOfErrors(t *testing.T) {
	err := notify.Permanent(fmt.Errorf("550 5.1.1 <jane.doe@example.com>: no such user, affected recipient(s): jane.doe@example.com"))
	got := notify.Redact(err)
	require.NotContains(t, got.Error(), "jane.doe")
	require.Contains(t, got.Error(), "550 5.1.1 <<address>>")
	require.True(t, notify.IsPermanent(got))
	require.False(t, notify.IsPermanent(notify.Redact(fmt.Errorf("421 try later"))))
	require.NoError(t, notify.Redact(nil))
}

func TestUnansweredProposalNoticeAsksTheOwnerToAct(t *testing.T) {
	r, err := notify.NewRenderer()
	require.NoError(t, err)
	out, err := r.Render(notify.Content{Kind: "staff", Notice: "unanswered", Language: "en", Reference: "CMP-20261123-ABCDEF",
		Clock: "customerAnswer#1", DueAt: "2026-11-30 10:00", CaseLink: "http://ui.example/case"})
	require.NoError(t, err)
	require.Contains(t, out.Subject, "has not answered")
	require.Contains(t, out.Text, "close the case as unanswered")
	require.Contains(t, out.HTML, "escalate the dispute")
}

// The progress messages name departments and dispute stages in the
// customer's language, and say what information is needed.
func TestProgressMessagesSpeakTheCustomersLanguage(t *testing.T) {
	r, err := notify.NewRenderer()
	require.NoError(t, err)
	render := func(kind, lang, text string) notify.Rendered {
		out, err := r.Render(notify.Content{Kind: kind, Language: lang, Reference: "CMP-20261123-ABCDEF", Name: "Li", Text: text})
		require.NoError(t, err)
		return out
	}
	require.Contains(t, render("routed", "zh", "after_sales,logistics").Text, "售后服务部、物流部")
	require.Contains(t, render("routed", "en", "after_sales,logistics").Text, "after-sales service, logistics")
	require.Contains(t, render("dispute_stage", "zh", "mediation").Subject, "调解")
	require.Contains(t, render("dispute_stage", "en", "mediation").Subject, "mediation")
	require.Contains(t, render("information_needed", "en", "A photo of the serial plate").Text, "A photo of the serial plate")
	require.Contains(t, render("progress_update", "zh", "").Subject, "仍在处理中")
	require.Contains(t, render("confirmation_request", "en", "Replace the drum").Subject, "Is the problem solved?")
}

// The follow-ups' staff notices say what to do and by when.
func TestFollowUpNoticesTellStaffWhatToDo(t *testing.T) {
	r, err := notify.NewRenderer()
	require.NoError(t, err)
	for notice, want := range map[string]string{
		"approval_requested": "approveCompensation", "approval_decided": "decided", "problem_persists": "did not solve",
		"follow_up": "completeFollowUp", "follow_up_opened": "its owner follows up",
	} {
		out, err := r.Render(notify.Content{Kind: "staff", Notice: notice, Reference: "CMP-20261123-ABCDEF",
			DueAt: "2026-11-30 10:00", CaseLink: "http://desk.example/case"})
		require.NoError(t, err, notice)
		require.Contains(t, out.Text, want, notice)
		require.Contains(t, out.HTML, "CMP-20261123-ABCDEF", notice)
		require.NotContains(t, out.Subject, "Deadline missed", notice)
	}
}

// A burst of notices goes over a few open sessions, not one connection per
// message, and each message arrives once.
func TestMessagesShareOpenSessions(t *testing.T) {
	mb := startMailbox(t)
	m := mailer(t, mb)
	defer m.Close()
	send := func(i int) error {
		return m.Send(t.Context(), notify.Email{MessageID: fmt.Sprintf("seq-%d@complaints.local", i),
			To: fmt.Sprintf("staff%d@example.com", i), Rendered: notify.Rendered{Subject: "notice", Text: "body"}})
	}
	for i := range 5 {
		require.NoError(t, send(i))
	}
	opened, _ := mb.Sessions()
	require.Equal(t, 1, opened, "messages one after another share a session")

	errs := make(chan error, 20)
	for i := range 20 {
		go func() { errs <- send(100 + i) }()
	}
	for range 20 {
		require.NoError(t, <-errs)
	}
	msgs := mb.Messages(nil)
	require.Len(t, msgs, 25)
	ids := map[string]bool{}
	for _, msg := range msgs {
		ids[msg.MessageID] = true
	}
	require.Len(t, ids, 25, "every message once")
	opened, _ = mb.Sessions()
	require.LessOrEqual(t, opened, 21, "no more sessions than senders at once")
	m.Close()
	require.Eventually(t, func() bool { _, open := mb.Sessions(); return open == 0 }, 5*time.Second, 20*time.Millisecond,
		"the mailer's Close ends every idle session")
}

// A relay limits the connections a client holds at once: the mailer never
// opens more than MaxConnections. A sender past it waits and takes the
// first session that comes free, or gives up, sending nothing, while its
// attempt still has time to record that.
func TestSessionsOpenAtOnceStayWithinTheLimit(t *testing.T) {
	mb := startMailbox(t)
	m := mailerWith(t, mb, func(c *notify.SMTPConfig) { c.MaxConnections = 2 })
	defer m.Close()
	send := func(ctx context.Context, to string) error {
		return m.Send(ctx, notify.Email{MessageID: to, To: to, Rendered: notify.Rendered{Subject: "notice", Text: "body"}})
	}
	sendInBackground := func(to string) <-chan error {
		done := make(chan error, 1)
		go func() { done <- send(t.Context(), to) }()
		return done
	}

	// Two messages the server holds keep both sessions busy.
	reachedA, releaseA := mb.Hold(mailbox.To("a@example.com"))
	reachedB, releaseB := mb.Hold(mailbox.To("b@example.com"))
	defer releaseA()
	defer releaseB()
	doneA, doneB := sendInBackground("a@example.com"), sendInBackground("b@example.com")
	<-reachedA
	<-reachedB
	doneC := sendInBackground("c@example.com")

	// While every session is busy, a sender whose attempt has less time left
	// than one command's timeout gives up at once, and one whose attempt is
	// cancelled while it waits gives up then: neither sends.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, send(ctx, "d@example.com"), notify.ErrNoSession)
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	require.ErrorIs(t, send(ctx, "e@example.com"), context.Canceled)
	opened, _ := mb.Sessions()
	require.Equal(t, 2, opened, "no third session while two are busy")
	select {
	case err := <-doneC:
		t.Fatalf("a third message went out while both sessions were busy: %v", err)
	default:
	}

	// The first session that comes free carries the waiting message.
	releaseA()
	require.NoError(t, <-doneA)
	require.NoError(t, <-doneC)
	releaseB()
	require.NoError(t, <-doneB)
	opened, _ = mb.Sessions()
	require.Equal(t, 2, opened, "the waiting sender took the session that came free")
	var got []string
	for _, msg := range mb.Messages(nil) {
		got = append(got, msg.To...)
	}
	require.ElementsMatch(t, []string{"a@example.com", "b@example.com", "c@example.com"}, got)

	_, err := notify.NewMailer(notify.SMTPConfig{Host: "127.0.0.1", Port: 25, MaxConnections: -1})
	require.ErrorContains(t, err, "SMTP connections at once")
}

// A session that fails after it connected (here: TLS required, and the
// mailbox offers no STARTTLS) leaves no connection open on the server.
func TestAFailedSessionLeavesNoConnectionOpen(t *testing.T) {
	mb := startMailbox(t)
	m := mailerWith(t, mb, func(c *notify.SMTPConfig) { c.TLS, c.MaxConnections = "mandatory", 1 })
	defer m.Close()
	for range 3 { // each attempt has the one slot again
		require.Error(t, m.Send(t.Context(), notify.Email{MessageID: "tls@complaints.local", To: "boss@example.com",
			Rendered: notify.Rendered{Subject: "s", Text: "t"}}))
	}
	opened, _ := mb.Sessions()
	require.Equal(t, 3, opened)
	require.Eventually(t, func() bool { _, open := mb.Sessions(); return open == 0 }, 5*time.Second, 20*time.Millisecond,
		"the mailer closed every connection it could not use")
	require.Empty(t, mb.Messages(nil))
}

// A session left idle is ended by the mailer, with QUIT, long after the
// deadline of its last command has passed; the next message opens another.
func TestAnIdleSessionIsEnded(t *testing.T) {
	mb := startMailbox(t)
	// Each command's deadline is 200 ms: past by the time the session is
	// ended, and the QUIT must still go out.
	m := mailerWithTimeout(t, mb, 200*time.Millisecond)
	defer m.Close()
	notify.SetIdleTime(m, 700*time.Millisecond)
	msg := func(id string) notify.Email {
		return notify.Email{MessageID: id, To: "boss@example.com", Rendered: notify.Rendered{Subject: "s", Text: "t"}}
	}
	require.NoError(t, m.Send(t.Context(), msg("first@complaints.local")))
	_, open := mb.Sessions()
	require.Equal(t, 1, open, "kept open for the next message")
	require.Eventually(t, func() bool { _, open := mb.Sessions(); return open == 0 }, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, m.Send(t.Context(), msg("second@complaints.local")))
	opened, _ := mb.Sessions()
	require.Equal(t, 2, opened)
	require.Len(t, mb.Messages(nil), 2)
}

// A session the server has ended while idle (a restart, its idle timeout)
// costs nothing: the message goes out on a new one, once.
func TestAMessageOutlivesItsEndedSession(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	first, err := mailbox.Start(ctx, "127.0.0.1:0", "", "", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	m := mailer(t, first)
	defer m.Close()
	msg := func(id string) notify.Email {
		return notify.Email{MessageID: id, To: "boss@example.com", Rendered: notify.Rendered{Subject: "s", Text: "t"}}
	}
	require.NoError(t, m.Send(t.Context(), msg("before@complaints.local")))
	cancel()
	first.Close() // ends the session the mailer keeps open
	second, err := mailbox.Start(t.Context(), first.SMTPAddr(), "", "", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer second.Close()

	require.NoError(t, m.Send(t.Context(), msg("after@complaints.local")))
	got := second.Messages(nil)
	require.Len(t, got, 1)
	require.Equal(t, "after@complaints.local", got[0].MessageID)
	opened, _ := second.Sessions()
	require.Equal(t, 1, opened)
}

// The worker renders many messages at once: each gets its own content.
func TestMessagesRenderConcurrently(t *testing.T) {
	r, err := notify.NewRenderer()
	require.NoError(t, err)
	type result struct {
		name string
		out  notify.Rendered
		err  error
	}
	results := make(chan result, 40)
	for i := range 40 {
		go func() {
			name := fmt.Sprintf("Customer %d", i)
			kind := []string{"acknowledgement", "resolution_proposal"}[i%2]
			out, err := r.Render(notify.Content{Kind: kind, Language: notify.Languages[i%2], Reference: "CMP-20261123-ABCDEF", Name: name})
			results <- result{name, out, err}
		}()
	}
	for range 40 {
		res := <-results
		require.NoError(t, res.err)
		require.Contains(t, res.out.HTML, res.name)
		require.Contains(t, res.out.Text, res.name)
	}
}
