package desk

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/complaintdesk/complaintdesk/auth"
)

// SessionStore keeps the desk's sessions and sign-ins in progress where
// every API replica finds them; *store.Store is one (PostgreSQL). Keys are
// the cookie's and the state's values, which it stores hashed.
type SessionStore interface {
	SaveDeskSession(ctx context.Context, id, subject string, data []byte, started, lastSeen, expires time.Time) error
	DeskSession(ctx context.Context, id string, now time.Time) ([]byte, error)
	DeleteDeskSession(ctx context.Context, id string) error
	BeginDeskSignIn(ctx context.Context, state string, data []byte, expires time.Time) error
	FinishDeskSignIn(ctx context.Context, state string, now time.Time) ([]byte, error)
}

// session is one signed-in person's desk.
type session struct {
	ID       string        `json:"-"`
	CSRF     string        `json:"csrf"`
	Who      auth.Identity `json:"who"`
	Name     string        `json:"name"`
	Token    *oauth2.Token `json:"token"`
	IDToken  string        `json:"idToken"`
	Lang     string        `json:"lang"`
	ZoneName string        `json:"zone"`
	Started  time.Time     `json:"started"`
	LastSeen time.Time     `json:"lastSeen"`

	zone *time.Location
}

// pending is a sign-in under way: what the callback must find again.
type pending struct {
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	Next     string `json:"next"`
}

// signInWithin is how long a person has at the provider's login page.
const signInWithin = 10 * time.Minute

// touchEvery bounds the writes that keep a session alive to one a minute.
const touchEvery = time.Minute

type sessions struct {
	store SessionStore
	idle  time.Duration
	max   time.Duration
}

func randomID() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// expires is when ss ends unless used again: idle, too old, or its access
// token expired when the provider gave no refresh token to renew it with.
func (s *sessions) expires(ss *session) time.Time {
	end := ss.LastSeen.Add(s.idle)
	if limit := ss.Started.Add(s.max); limit.Before(end) {
		end = limit
	}
	if ss.Token != nil && ss.Token.RefreshToken == "" && !ss.Token.Expiry.IsZero() && ss.Token.Expiry.Before(end) {
		end = ss.Token.Expiry
	}
	return end
}

func (s *sessions) save(ctx context.Context, ss *session) error {
	data, err := json.Marshal(ss)
	if err != nil {
		return err
	}
	return s.store.SaveDeskSession(ctx, ss.ID, ss.Who.Subject, data, ss.Started, ss.LastSeen, s.expires(ss))
}

// get returns the live session of id, kept alive.
func (s *sessions) get(ctx context.Context, id string, now time.Time) (*session, bool) {
	data, err := s.store.DeskSession(ctx, id, now)
	if err != nil {
		return nil, false
	}
	ss := &session{}
	if json.Unmarshal(data, ss) != nil {
		return nil, false
	}
	ss.ID = id
	if ss.zone, err = time.LoadLocation(ss.ZoneName); err != nil {
		ss.zone = time.UTC
	}
	if now.Sub(ss.LastSeen) > touchEvery {
		ss.LastSeen = now
		_ = s.save(ctx, ss) // a failed touch costs an earlier idle timeout at worst
	}
	return ss, true
}

func (s *sessions) end(ctx context.Context, id string) error {
	return s.store.DeleteDeskSession(ctx, id)
}

func (s *sessions) begin(ctx context.Context, state string, p pending, now time.Time) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.store.BeginDeskSignIn(ctx, state, data, now.Add(signInWithin))
}

// finish takes the sign-in of state, once.
func (s *sessions) finish(ctx context.Context, state string, now time.Time) (pending, bool) {
	var p pending
	data, err := s.store.FinishDeskSignIn(ctx, state, now)
	if err != nil || json.Unmarshal(data, &p) != nil {
		return pending{}, false
	}
	return p, true
}

// validCSRF compares a form's token with the session's in constant time.
func (ss *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(ss.CSRF)) == 1
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
