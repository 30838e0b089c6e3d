package systemtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/complaintdesk/complaintdesk/activities"
	"github.com/complaintdesk/complaintdesk/activities/notify"
)

// The upstream system of the tests and the secret its webhooks are signed with.
const (
	UpstreamSystem = "shop"
	UpstreamSecret = "webhook-secret-of-the-shop-32-bytes-long"
)

// Upstream receives webhooks as an upstream system would: it checks each
// signature and keeps every delivery, repeats included.
type Upstream struct {
	URL string
	srv *httptest.Server

	mu         sync.Mutex
	events     []activities.WebhookEvent
	rejected   int
	failStatus int
	failures   int
}

func startUpstream() *Upstream {
	u := &Upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(u.receive))
	u.URL = u.srv.URL + "/hooks/complaints"
	return u
}

func (u *Upstream) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.failures > 0 {
		u.failures--
		http.Error(w, "failing on purpose", u.failStatus)
		return
	}
	var ev activities.WebhookEvent
	if err := notify.VerifyWebhook(UpstreamSecret, r.Header, body, time.Now(), 5*time.Minute); err != nil ||
		json.Unmarshal(body, &ev) != nil || ev.ID != r.Header.Get(notify.HeaderWebhookID) {
		u.rejected++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	u.events = append(u.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

// Fail answers the next n deliveries with status.
func (u *Upstream) Fail(status, n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failStatus, u.failures = status, n
}

// Events are the deliveries received for one case, in order.
func (u *Upstream) Events(reference string) []activities.WebhookEvent {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []activities.WebhookEvent
	for _, e := range u.events {
		if e.Reference == reference {
			out = append(out, e)
		}
	}
	return out
}

// Repeated lists the ids of a case's events delivered more than once.
func (u *Upstream) Repeated(reference string) []string {
	seen := map[string]int{}
	var twice []string
	for _, e := range u.Events(reference) {
		if seen[e.ID]++; seen[e.ID] == 2 {
			twice = append(twice, e.ID)
		}
	}
	return twice
}

// Rejected counts deliveries whose signature did not verify.
func (u *Upstream) Rejected() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rejected
}

// Close stops receiving.
func (u *Upstream) Close() { u.srv.Close() }
