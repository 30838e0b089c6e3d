package desk

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/systemtest/browser"
)

// scriptedAPI answers the desk's reads of each case from a script: the
// n-th read of a case (1, 2, ...) gets the status script[ref][n-1] says,
// or 503 where it says "busy", 404 where it says "gone"; past the script's
// end, its last word.
type scriptedAPI struct {
	mu     sync.Mutex
	script map[string][]string
	reads  map[string]int
}

func (a *scriptedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ref, isCase := strings.CutPrefix(r.URL.Path, "/v1/complaints/")
	if !isCase {
		http.NotFound(w, r) // the messages sent: none here
		return
	}
	if strings.HasSuffix(ref, "/tasks") {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tasks":[]}`))
		return
	}
	a.mu.Lock()
	a.reads[ref]++
	s := a.script[ref]
	say := s[min(a.reads[ref], len(s))-1]
	a.mu.Unlock()
	switch say {
	case "busy":
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(busyProblem))
		return
	case "gone":
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"status":404,"title":"Not Found","detail":"no case has this reference"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"reference":%q,"status":%q,"owner":"li.na"}`, ref, say)
}

// The case page in a browser while the API is busy (a workflow query timing
// out on a loaded worker): a page whose case changed keeps showing what it
// had until the desk can give the whole new page, says so when that lasts,
// then shows the change by itself; a page opened while the API cannot read
// the case says it is busy and loads itself again until it can; a page
// whose case is no longer the person's to see says so.
func TestACasePageRidesOutABusyAPIInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("needs headless Chromium (make test installs it)")
	}
	const changing, opened, reassigned = "CMP-20261123-4F7K2Q", "CMP-20261123-8H2M4W", "CMP-20261123-3K9P7D"
	api := &scriptedAPI{reads: map[string]int{}, script: map[string][]string{
		// The page, its first poll (changed), then the new page refused
		// twice between polls that see the change, then given.
		changing:   {"investigating", "resolution_proposed", "busy", "resolution_proposed", "busy", "resolution_proposed", "resolution_proposed"},
		opened:     {"busy", "busy", "busy", "busy", "investigating"},
		reassigned: {"investigating", "gone"},
	}}
	store := deskStore{&memorySessions{sessions: map[string][]byte{}, expires: map[string]time.Time{}}}
	d := New(Config{PublicURL: "http://127.0.0.1", PollInterval: 200 * time.Millisecond}, nil, api, store, time.UTC, nil)
	now := time.Now()
	ss := &session{ID: "browser-session", CSRF: "c", Who: auth.Identity{Subject: "li.na", Role: auth.RoleAgent}, Name: "Li Na",
		Lang: "en", ZoneName: "UTC", Started: now, LastSeen: now, Token: &oauth2.Token{AccessToken: "access-1"}}
	if err := d.sessions.save(context.Background(), ss); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/desk/", d.Handler())
	// Signed in as the sign-in callback would leave the browser.
	mux.HandleFunc("GET /enter", func(w http.ResponseWriter, r *http.Request) {
		d.setCookie(w, d.sessionCookie(), ss.ID, 0)
		http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusSeeOther)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	browser.Walk(t, []browser.Step{
		{"actor": "agent", "goto": srv.URL + "/enter?next=/desk/cases/" + changing},
		{"actor": "agent", "expect": `#status[data-status="investigating"]`},
		// Two refusals in a row: the old page stays, and says it may be
		// out of date.
		{"actor": "agent", "expect": `#stale:not([hidden])`},
		{"actor": "agent", "expect": `#status[data-status="investigating"]`},
		{"actor": "agent", "expect": `#status[data-status="resolution_proposed"]`},
		{"actor": "agent", "expect": `#stale[hidden]`},
		{"actor": "agent", "goto": srv.URL + "/desk/cases/" + opened},
		{"actor": "agent", "expect": "#busy[data-retry]"},
		{"actor": "agent", "expect": `#status[data-status="investigating"]`},
		// A case that is no longer the person's to see: the open page says so.
		{"actor": "agent", "goto": srv.URL + "/desk/cases/" + reassigned},
		{"actor": "agent", "expect": `#status[data-status="investigating"]`},
		{"actor": "agent", "expect": "#notfound"},
	})
}
