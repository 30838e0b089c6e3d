package desk

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/complaintdesk/complaintdesk/auth"
)

// session is one signed-in person's desk. Sessions live in this process's
// memory: signing out ends one at once, a restart ends them all (people
// sign in again, through the provider's own session if it keeps one).
type session struct {
	id       string
	csrf     string
	who      auth.Identity
	name     string
	token    *oauth2.Token
	idToken  string
	lang     string
	zone     *time.Location
	started  time.Time
	lastSeen time.Time
}

// pending is a sign-in under way: what the callback must find again.
type pending struct {
	verifier, nonce, next string
	created               time.Time
}

type sessions struct {
	mu      sync.Mutex
	byID    map[string]*session
	pending map[string]pending // by state
	idle    time.Duration
	max     time.Duration
}

func newSessions(idle, max time.Duration) *sessions {
	return &sessions{byID: map[string]*session{}, pending: map[string]pending{}, idle: idle, max: max}
}

func randomID() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// get returns the live session of id and marks it seen; an idle, too old
// or expired-token session is ended.
func (s *sessions) get(id string, now time.Time) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	if now.Sub(ss.lastSeen) > s.idle || now.Sub(ss.started) > s.max ||
		!ss.token.Expiry.IsZero() && now.After(ss.token.Expiry) {
		delete(s.byID, id)
		return nil, false
	}
	ss.lastSeen = now
	return ss, true
}

func (s *sessions) add(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[ss.id] = ss
	// Forget what has timed out, so memory follows the people signed in.
	for id, o := range s.byID {
		if ss.lastSeen.Sub(o.lastSeen) > s.idle || ss.lastSeen.Sub(o.started) > s.max {
			delete(s.byID, id)
		}
	}
	for st, p := range s.pending {
		if ss.lastSeen.Sub(p.created) > 10*time.Minute {
			delete(s.pending, st)
		}
	}
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func (s *sessions) begin(state string, p pending) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[state] = p
}

// finish takes the sign-in of state, once.
func (s *sessions) finish(state string, now time.Time) (pending, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[state]
	delete(s.pending, state)
	if !ok || now.Sub(p.created) > 10*time.Minute {
		return pending{}, false
	}
	return p, true
}

// validCSRF compares a form's token with the session's in constant time.
func (ss *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(ss.csrf)) == 1
}

// cookie names: the __Host- prefix makes the browser refuse a cookie not
// set by this very host over HTTPS, with no Domain and Path /.
func (d *Desk) sessionCookie() string {
	if d.secure {
		return "__Host-desk"
	}
	return "desk"
}

func (d *Desk) stateCookie() string {
	if d.secure {
		return "__Host-desk-signin"
	}
	return "desk-signin"
}

// setCookie writes an HTTP-only, same-site cookie; Lax, because the
// provider sends the browser back with a cross-site redirect.
func (d *Desk) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: d.secure, SameSite: http.SameSiteLaxMode})
}
