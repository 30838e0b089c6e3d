package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
)

// The status page shows the customer only what was sent to them: a
// proposal above the compensation limit appears once a supervisor approved
// it (dated then), never while it waits or after a refusal; a withdrawal's
// reason, written by staff, is not shown as our message.
func TestTheStatusPageShowsOnlyWhatReachedTheCustomer(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	yes, no := true, false
	approvedAt := at.Add(3 * time.Hour)
	v := complaint.CaseView{Reference: "CMP-20261123-4F7K2Q", Status: complaint.StatusInvestigating,
		Resolutions: []complaint.Resolution{
			{Attempt: 1, Message: "A voucher of 50 CNY", ProposedAt: at},
			{Attempt: 2, Message: "A refund of 5000 CNY", ProposedAt: at.Add(time.Hour),
				Approval: &complaint.Approval{Limit: "500 CNY", RequestedAt: at.Add(time.Hour), Approved: &no, At: &approvedAt}},
			{Attempt: 3, Message: "A refund of 800 CNY", ProposedAt: at.Add(2 * time.Hour),
				Approval: &complaint.Approval{Limit: "500 CNY", RequestedAt: at.Add(2 * time.Hour), Approved: &yes, At: &approvedAt}},
			{Attempt: 4, Message: "A new machine and 3000 CNY", ProposedAt: at.Add(4 * time.Hour),
				Approval: &complaint.Approval{Limit: "500 CNY", RequestedAt: at.Add(4 * time.Hour)}},
		}}
	var texts []string
	for _, e := range caseStatusView(v, "en", at).Entries {
		texts = append(texts, e.At+" "+e.Text)
	}
	want := []string{"2026-11-23 17:00 A voucher of 50 CNY", "2026-11-23 20:00 A refund of 800 CNY"} // Shanghai time
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("the customer sees %q, want %q", texts, want)
	}

	closed := at.Add(5 * time.Hour)
	v = complaint.CaseView{Reference: "CMP-20261123-4F7K2Q", Status: complaint.StatusWithdrawn, ClosedAt: &closed,
		CloseSummary: "Customer rang, abusive; withdrawn per team lead"}
	if e := caseStatusView(v, "en", at).Entries; len(e) != 0 {
		t.Errorf("a withdrawn case shows staff's reason to the customer: %+v", e)
	}
}

// proposedCases holds one case with two proposals, the second awaiting the
// customer's answer.
type proposedCases struct{ fakeCases }

func (f *proposedCases) Case(_ context.Context, ref string) (complaint.CaseView, error) {
	return complaint.CaseView{Reference: ref, Status: complaint.StatusResolutionProposed,
		Resolutions: []complaint.Resolution{{Attempt: 1, Message: "A voucher"}, {Attempt: 2, Message: "A refund"}}}, nil
}

// The status page's Accept answers the proposal the page showed: a page
// left open since an earlier proposal does not accept a newer one unread.
func TestAnAnswerOnTheStatusPageIsToTheProposalItShowed(t *testing.T) {
	cases := &proposedCases{}
	s := &Server{Cases: cases, RequestTimeout: time.Second,
		StatusLinks: auth.StatusLinks{Secret: bytes.Repeat([]byte("s"), 32), BaseURL: "https://status.example.com"}}
	token, err := s.StatusLinks.Token("CMP-20261123-4F7K2Q", "en", time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	answer := func(attempt string) int {
		form := url.Values{"t": {token}, "answer": {"accept"}, "attempt": {attempt}}
		r := httptest.NewRequest(http.MethodPost, "/status/respond", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		s.statusRespond(w, r)
		return w.Code
	}
	if code := answer("1"); code != http.StatusConflict || cases.tasks.Load() != 0 {
		t.Errorf("an answer to proposal 1 while 2 waits: %d, %d tasks sent; want 409 and none", code, cases.tasks.Load())
	}
	if code := answer("2"); code != http.StatusSeeOther || cases.tasks.Load() != 1 {
		t.Errorf("the answer to the proposal shown: %d, %d tasks sent; want 303 and one", code, cases.tasks.Load())
	}
}

// countingReader counts what the handler read of a request's body.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// The reply form's link is checked before its body is read: a stranger's
// upload is turned away unread; a form without the link in its address is
// read only up to a short text's size.
func TestAStrangersUploadIsNotRead(t *testing.T) {
	s := &Server{RequestTimeout: time.Second,
		StatusLinks: auth.StatusLinks{Secret: bytes.Repeat([]byte("s"), 32), BaseURL: "https://status.example.com"}}
	upload := func(path string) (int, int) {
		body := &countingReader{r: strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\"\r\n\r\n" +
			strings.Repeat("x", 5<<20) + "\r\n--b--\r\n")}
		r := httptest.NewRequest(http.MethodPost, path, body)
		r.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		w := httptest.NewRecorder()
		s.statusReply(w, r)
		return w.Code, body.n
	}
	if code, read := upload("/status/reply?t=forged"); code != http.StatusNotFound || read != 0 {
		t.Errorf("a forged link: %d after reading %d bytes; want 404 with nothing read", code, read)
	}
	if code, read := upload("/status/reply"); code != http.StatusRequestEntityTooLarge || read > 1<<20 {
		t.Errorf("no link in the address: %d after reading %d bytes; want 413 within a short text's size", code, read)
	}
}

// The customer's status page in a busy moment asks them to try later and
// tells the operator why, in the log (it said nothing to anyone before).
func TestTheStatusPageLogsWhatItCouldNotDo(t *testing.T) {
	var log bytes.Buffer
	s := &Server{Cases: &fakeCases{err: fmt.Errorf("%w: query timed out", starter.ErrUnavailable)}, RequestTimeout: time.Second,
		Logger:      slog.New(slog.NewTextHandler(&log, nil)),
		StatusLinks: auth.StatusLinks{Secret: bytes.Repeat([]byte("s"), 32), BaseURL: "https://status.example.com"}}
	token, err := s.StatusLinks.Token("CMP-20261123-4F7K2Q", "en", time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.statusPage(w, httptest.NewRequest(http.MethodGet, "/status?t="+url.QueryEscape(token), nil))
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "timed out") {
		t.Errorf("status %d, body shows the cause: %v", w.Code, strings.Contains(w.Body.String(), "timed out"))
	}
	if !strings.Contains(log.String(), "CMP-20261123-4F7K2Q") || !strings.Contains(log.String(), "query timed out") {
		t.Errorf("the log does not say which case and why: %q", log.String())
	}
}
