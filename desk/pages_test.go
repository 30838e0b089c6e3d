package desk

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/complaintdesk/complaintdesk/auth"
)

const busyProblem = `{"status":503,"title":"Service Unavailable","detail":"the case service is unavailable"}`

// A busy API: the case reads, its task list answers tasksStatus.
func busyAPI(tasksStatus int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/tasks"):
			w.WriteHeader(tasksStatus)
			_, _ = w.Write([]byte(busyProblem))
		default:
			_, _ = w.Write([]byte(`{"reference":"CMP-20261123-4F7K2Q","status":"investigating","owner":"li.na"}`))
		}
	})
}

// formKey is a task form's idempotency key, as the desk makes them.
const formKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

func casePageOf(t *testing.T, api http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	d := New(Config{PublicURL: "https://desk.example.com", PollInterval: time.Second}, nil, api, nil, time.UTC, nil)
	r := httptest.NewRequest(method, path, nil)
	r.SetPathValue("reference", "CMP-20261123-4F7K2Q")
	r.SetPathValue("task", "addNote")
	r.PostForm = url.Values{"text": {"Called the customer"}, "idempotency": {formKey}, "csrf": {"c"}}
	ss := &session{ID: "s", Who: auth.Identity{Subject: "li.na", Role: auth.RoleAgent}, ZoneName: "UTC", zone: time.UTC,
		Lang: "en", Token: &oauth2.Token{AccessToken: "access-1"}}
	w := httptest.NewRecorder()
	if method == http.MethodPost {
		d.runTask(w, r, ss)
	} else {
		d.casePage(w, r, ss)
	}
	return w
}

// When the API is too busy to list the tasks, the case page still shows the
// case, says the tasks could not be read and reloads itself at its next
// poll, instead of showing a case with nothing to do.
func TestACasePageWithoutItsTasksSaysSoAndTriesAgain(t *testing.T) {
	w := casePageOf(t, busyAPI(http.StatusServiceUnavailable), http.MethodGet, "/desk/cases/CMP-20261123-4F7K2Q")
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `id="tasks-unavailable"`) ||
		!strings.Contains(body, `data-version="incomplete"`) {
		t.Fatalf("%d: want the case with the notice and a version the next poll replaces:\n%s", w.Code, body)
	}
	w = casePageOf(t, busyAPI(http.StatusOK), http.MethodGet, "/desk/cases/CMP-20261123-4F7K2Q")
	if strings.Contains(w.Body.String(), `id="tasks-unavailable"`) {
		t.Fatal("the notice shows though the tasks were read")
	}
}

// A task posted while the API cannot list the tasks is a 503 ("try again"),
// not "no such case"; a case the person may not see stays not found.
func TestATaskPostedToABusyAPIIsNotANotFound(t *testing.T) {
	w := casePageOf(t, busyAPI(http.StatusServiceUnavailable), http.MethodPost, "/desk/cases/CMP-20261123-4F7K2Q/tasks/addNote")
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), `id="notfound"`) {
		t.Fatalf("busy: %d\n%s", w.Code, w.Body)
	}
	w = casePageOf(t, busyAPI(http.StatusNotFound), http.MethodPost, "/desk/cases/CMP-20261123-4F7K2Q/tasks/addNote")
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `id="notfound"`) {
		t.Fatalf("hidden: %d\n%s", w.Code, w.Body)
	}
}

// An API that cannot read the case at all (its query timed out).
var caseUnreadable = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(busyProblem))
})

// A case page the API cannot give just now says the service is busy and
// loads itself again (data-retry, read by the page's script, and
// Retry-After), rather than "something went wrong" and a dead page; a form
// posted then is never sent again by itself, and its page says nothing was
// sent.
func TestABusyCasePageTriesAgainByItself(t *testing.T) {
	w := casePageOf(t, caseUnreadable, http.MethodGet, "/desk/cases/CMP-20261123-4F7K2Q")
	body := w.Body.String()
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, `id="busy" data-retry="1000"`) ||
		w.Header().Get("Retry-After") != "1" {
		t.Fatalf("read: %d Retry-After %q, want 503 with the busy notice retrying after the poll interval:\n%s",
			w.Code, w.Header().Get("Retry-After"), body)
	}
	w = casePageOf(t, busyAPI(http.StatusServiceUnavailable), http.MethodPost, "/desk/cases/CMP-20261123-4F7K2Q/tasks/addNote")
	body = w.Body.String()
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, `id="busy.post"`) || strings.Contains(body, "data-retry") {
		t.Fatalf("post: %d, want 503 saying nothing was sent, without a retry:\n%s", w.Code, body)
	}
	if !strings.Contains(body, `<form method="post" action="/desk/cases/CMP-20261123-4F7K2Q/tasks/addNote" id="resend">`) ||
		!strings.Contains(body, `<input type="hidden" name="text" value="Called the customer">`) {
		t.Errorf("the form not sent does not come back to be sent again:\n%s", body)
	}

	// Sent, and the API did not answer (the update may have run), and the
	// case cannot be read: the page says so and offers the same form, with
	// the same key, to send again.
	sentUnanswered := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tasks") {
			_, _ = w.Write([]byte(`{"tasks":[{"name":"addNote","allowed":true,"schema":{"type":"object","properties":{"text":{"type":"string"}}}}]}`))
			return
		}
		caseUnreadable(w, r)
	})
	w = casePageOf(t, sentUnanswered, http.MethodPost, "/desk/cases/CMP-20261123-4F7K2Q/tasks/addNote")
	body = w.Body.String()
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, `id="busy.unknown"`) ||
		!strings.Contains(body, `<input type="hidden" name="idempotency" value="`+formKey+`">`) {
		t.Fatalf("sent without an answer: %d, want the notice and the form with its key to send again:\n%s", w.Code, body)
	}
}

// A form sent while the API is too busy to list the case's tasks still goes
// through: the desk shapes the payload with the schema it already has from
// the case page (the same for every case), and leaves the rest to the API.
func TestAFormSentToABusyAPIIsShapedByTheSchemaTheDeskHas(t *testing.T) {
	var tasksBusy bool
	var posted string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/tasks") && tasksBusy:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(busyProblem))
		case strings.HasSuffix(r.URL.Path, "/tasks"):
			_, _ = w.Write([]byte(`{"tasks":[{"name":"addNote","allowed":true,"schema":{"type":"object",` +
				`"properties":{"text":{"type":"string"},"minutes":{"type":"integer"}}}}]}`))
		case r.Method == http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			posted = string(b)
			_, _ = w.Write([]byte(`{}`))
		default:
			_, _ = w.Write([]byte(`{"reference":"CMP-20261123-4F7K2Q","status":"investigating","owner":"li.na"}`))
		}
	})
	d := New(Config{PublicURL: "https://desk.example.com", PollInterval: time.Second}, nil, api, nil, time.UTC, nil)
	ss := &session{ID: "s", Who: auth.Identity{Subject: "li.na", Role: auth.RoleAgent}, ZoneName: "UTC", zone: time.UTC,
		Lang: "en", Token: &oauth2.Token{AccessToken: "access-1"}}
	r := httptest.NewRequest(http.MethodGet, "/desk/cases/CMP-20261123-4F7K2Q", nil)
	r.SetPathValue("reference", "CMP-20261123-4F7K2Q")
	d.casePage(httptest.NewRecorder(), r, ss)

	tasksBusy = true
	r = httptest.NewRequest(http.MethodPost, "/desk/cases/CMP-20261123-4F7K2Q/tasks/addNote", nil)
	r.SetPathValue("reference", "CMP-20261123-4F7K2Q")
	r.SetPathValue("task", "addNote")
	r.PostForm = url.Values{"text": {"Called the customer"}, "minutes": {"15"}}
	w := httptest.NewRecorder()
	d.runTask(w, r, ss)
	if w.Code != http.StatusSeeOther || posted != `{"minutes":15,"text":"Called the customer"}` {
		t.Fatalf("%d, posted %s: want the note sent with its number typed by the known schema\n%s", w.Code, posted, w.Body)
	}
}

// Every task form carries an idempotency key that the desk passes to the
// API: a double click, or the same form sent again after the API could not
// answer, applies the task once. A form the API could not answer comes back
// with the same key; one it refused for good (422) gets a fresh one, as the
// corrected form is a new request.
func TestATaskFormIsAppliedOnceHoweverOftenItIsSent(t *testing.T) {
	var keys []string
	answer := http.StatusServiceUnavailable
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/tasks"):
			_, _ = w.Write([]byte(`{"tasks":[{"name":"addNote","allowed":true,"schema":{"type":"object","properties":{"text":{"type":"string"}}}}]}`))
		case r.Method == http.MethodPost:
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			w.WriteHeader(answer)
			_, _ = fmt.Fprintf(w, `{"status":%d,"title":"refused","detail":"refused"}`, answer)
		default:
			_, _ = w.Write([]byte(`{"reference":"CMP-20261123-4F7K2Q","status":"investigating","owner":"li.na"}`))
		}
	})
	d := New(Config{PublicURL: "https://desk.example.com", PollInterval: time.Second}, nil, api, nil, time.UTC, nil)
	ss := &session{ID: "s", Who: auth.Identity{Subject: "li.na", Role: auth.RoleAgent}, ZoneName: "UTC", zone: time.UTC,
		Lang: "en", Token: &oauth2.Token{AccessToken: "access-1"}}
	keyIn := regexp.MustCompile(`name="idempotency" value="([A-Z2-7]{26})"`)
	send := func(key string) string {
		r := httptest.NewRequest(http.MethodPost, "/desk/cases/CMP-20261123-4F7K2Q/tasks/addNote", nil)
		r.SetPathValue("reference", "CMP-20261123-4F7K2Q")
		r.SetPathValue("task", "addNote")
		r.PostForm = url.Values{"text": {"Called the customer"}, "idempotency": {key}}
		w := httptest.NewRecorder()
		d.runTask(w, r, ss)
		m := keyIn.FindStringSubmatch(w.Body.String())
		if m == nil {
			t.Fatalf("the form came back without a key:\n%s", w.Body)
		}
		return m[1]
	}
	r := httptest.NewRequest(http.MethodGet, "/desk/cases/CMP-20261123-4F7K2Q", nil)
	r.SetPathValue("reference", "CMP-20261123-4F7K2Q")
	w := httptest.NewRecorder()
	d.casePage(w, r, ss)
	m := keyIn.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("the task form has no idempotency key:\n%s", w.Body)
	}
	first := m[1]
	again := send(first)
	if len(keys) != 1 {
		t.Fatal("the form did not reach the API")
	}
	if again != first || keys[0] != first {
		t.Errorf("unanswered: the API got key %q and the form came back with %q, want %q both times", keys[0], again, first)
	}
	answer = http.StatusUnprocessableEntity
	if fresh := send(first); fresh == first {
		t.Error("refused for good, the corrected form keeps the key of the refused request")
	}
	if len(keys) != 2 {
		t.Fatalf("the API got %d of the 2 forms sent", len(keys))
	}
	if send("<script>"); keys[len(keys)-1] != "" {
		t.Errorf("a key the desk did not make reached the API: %q", keys[len(keys)-1])
	}
}

// The customer's own messages are on the case page — their words, the whole
// mail on demand, their files as downloads through the desk (the API
// decides who may: a role that may not gets the not-found page).
func TestTheCasePageShowsWhatTheCustomerWrote(t *testing.T) {
	mayDownload := true
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/tasks"):
			_, _ = w.Write([]byte(`{"tasks":[]}`))
		case strings.Contains(r.URL.Path, "/attachments/") && !mayDownload:
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"status":403,"title":"Forbidden"}`))
		case strings.HasSuffix(r.URL.Path, "/attachments/0123456789abcdef0123456789abcdef"):
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Disposition", `attachment; filename="parcel.png"`)
			_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n"))
		default:
			_, _ = w.Write([]byte(`{"reference":"CMP-20261123-4F7K2Q","status":"investigating","owner":"li.na","messages":[` +
				`{"at":"2026-11-23T10:00:00Z","via":"email","subject":"Re: your complaint","text":"The box was <b>crushed</b>",` +
				`"original":"The box was crushed\n\n> On Monday you wrote","attachments":[{"id":"0123456789abcdef0123456789abcdef",` +
				`"filename":"parcel.png","contentType":"image/png","size":8}]}]}`))
		}
	})
	d := New(Config{PublicURL: "https://desk.example.com", PollInterval: time.Second}, nil, api, nil, time.UTC, nil)
	ss := &session{ID: "s", Who: auth.Identity{Subject: "li.na", Role: auth.RoleAgent}, ZoneName: "UTC", zone: time.UTC,
		Lang: "en", Token: &oauth2.Token{AccessToken: "access-1"}}
	r := httptest.NewRequest(http.MethodGet, "/desk/cases/CMP-20261123-4F7K2Q", nil)
	r.SetPathValue("reference", "CMP-20261123-4F7K2Q")
	w := httptest.NewRecorder()
	d.casePage(w, r, ss)
	body := w.Body.String()
	for _, want := range []string{`id="h-customer"`, "2026-11-23 10:00", "by email", "Re: your complaint",
		"The box was &lt;b&gt;crushed&lt;/b&gt;", "&gt; On Monday you wrote",
		`<a href="/desk/cases/CMP-20261123-4F7K2Q/attachments/0123456789abcdef0123456789abcdef" download>parcel.png</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the case page does not show %q", want)
		}
	}

	download := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/desk/cases/CMP-20261123-4F7K2Q/attachments/0123456789abcdef0123456789abcdef", nil)
		r.SetPathValue("reference", "CMP-20261123-4F7K2Q")
		r.SetPathValue("id", "0123456789abcdef0123456789abcdef")
		w := httptest.NewRecorder()
		d.attachment(w, r, ss)
		return w
	}
	w = download()
	if w.Code != http.StatusOK || w.Body.String() != "\x89PNG\r\n\x1a\n" || w.Header().Get("Content-Disposition") != `attachment; filename="parcel.png"` {
		t.Errorf("download: %d %q %q", w.Code, w.Header().Get("Content-Disposition"), w.Body)
	}
	mayDownload = false
	if w = download(); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `id="notfound"`) {
		t.Errorf("a person the API refuses the file: %d\n%s", w.Code, w.Body)
	}
}
