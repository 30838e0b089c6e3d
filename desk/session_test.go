package desk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/store"
)

// memorySessions keeps sessions as the database would, for the tests.
type memorySessions struct {
	mu       sync.Mutex
	sessions map[string][]byte
	expires  map[string]time.Time
}

func (m *memorySessions) SaveDeskSession(_ context.Context, id, _ string, data []byte, _, _, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[id], m.expires[id] = data, expires
	return nil
}

func (m *memorySessions) DeskSession(_ context.Context, id string, now time.Time) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.sessions[id]; ok && now.Before(m.expires[id]) {
		return d, nil
	}
	return nil, context.Canceled
}

func (m *memorySessions) DeleteDeskSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	return nil
}

func (m *memorySessions) BeginDeskSignIn(context.Context, string, []byte, time.Time) error {
	return nil
}
func (m *memorySessions) FinishDeskSignIn(context.Context, string, time.Time) ([]byte, error) {
	return nil, context.Canceled
}

// A provider whose access tokens last minutes (Keycloak's default): the
// desk renews the session's token with the refresh token shortly before it
// expires, keeps the renewed one, and leaves a fresh token alone. Without a
// refresh token a session ends with its access token.
func TestSessionsRenewTheAccessToken(t *testing.T) {
	var refreshes int
	var provider *httptest.Server
	provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": provider.URL,
				"authorization_endpoint": provider.URL + "/auth", "token_endpoint": provider.URL + "/token",
				"jwks_uri": provider.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
		case "/token":
			_ = r.ParseForm()
			if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "refresh-1" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
				return
			}
			refreshes++
			_, _ = w.Write([]byte(`{"access_token":"access-2","token_type":"Bearer","expires_in":300,"refresh_token":"refresh-2"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer provider.Close()

	store := &memorySessions{sessions: map[string][]byte{}, expires: map[string]time.Time{}}
	oidc := auth.NewOIDC(auth.OIDCConfig{Issuer: provider.URL, ClientID: "complaint-desk", ClientSecret: "s"}, time.Hour)
	d := New(Config{PublicURL: "https://desk.example.com"}, oidc, http.NotFoundHandler(), deskStore{store}, time.UTC, nil)
	now := time.Now()
	ss := &session{ID: "cookie-1", Who: auth.Identity{Subject: "li.na", Role: auth.RoleAgent}, Started: now, LastSeen: now,
		ZoneName: "UTC", Token: &oauth2.Token{AccessToken: "access-1", RefreshToken: "refresh-1", Expiry: now.Add(10 * time.Second)}}
	ctx := context.Background()
	if err := d.renew(ctx, ss); err != nil {
		t.Fatal(err)
	}
	if refreshes != 1 || ss.Token.AccessToken != "access-2" || ss.Token.RefreshToken != "refresh-2" {
		t.Fatalf("after renewal: %d refreshes, token %+v", refreshes, ss.Token)
	}
	kept, ok := d.sessions.get(ctx, "cookie-1", now)
	if !ok || kept.Token.AccessToken != "access-2" {
		t.Fatalf("the renewed token is not kept: %+v", kept)
	}
	if err := d.renew(ctx, kept); err != nil || refreshes != 1 {
		t.Errorf("a fresh token was renewed again: %d, %v", refreshes, err)
	}

	// Without a refresh token the session ends with its access token.
	short := &session{ID: "cookie-2", Started: now, LastSeen: now, ZoneName: "UTC",
		Token: &oauth2.Token{AccessToken: "a", Expiry: now.Add(time.Minute)}}
	if got := d.sessions.expires(short); !got.Equal(now.Add(time.Minute)) {
		t.Errorf("a session without a refresh token ends at %s, want its token's expiry", got)
	}
	// Idle and absolute timeouts, whichever is first.
	old := &session{Started: now.Add(-9*time.Hour - 50*time.Minute), LastSeen: now, Token: &oauth2.Token{RefreshToken: "r"}}
	if got := d.sessions.expires(old); !got.Equal(old.Started.Add(10 * time.Hour)) {
		t.Errorf("a session of nearly 10 h ends at %s", got)
	}
	if got := d.sessions.expires(ss); !got.Equal(ss.LastSeen.Add(30 * time.Minute)) {
		t.Errorf("an active session ends at %s, want 30 min after its last use", got)
	}
	if d.sessionCookie() != "__Host-desk" || !d.secure {
		t.Error("under HTTPS the cookie is not __Host- and Secure")
	}
}

// deskStore gives the queue reads nothing: the test needs the sessions only.
type deskStore struct{ *memorySessions }

func (deskStore) QueueCases(context.Context, store.QueueFilter) ([]store.QueueItem, error) {
	return nil, nil
}
func (deskStore) QueueCounts(context.Context, store.QueueFilter) (map[store.Queue]int, error) {
	return nil, nil
}

// After sign-in, and after the preferences form, the browser goes back only
// to a page of ours: never to an address a browser reads as another site.
func TestOnlyOurOwnPagesAreGoneBackTo(t *testing.T) {
	for addr, want := range map[string]bool{
		"/desk/":                           true,
		"/desk/cases/CMP-20261123-4F7K2Q":  true,
		"/desk/?queue=breached&category=x": true,
		"/reports":                         true,
		"/reports?category=logistics":      true,
		"/desk/../\\evil.com":              false, // http.Redirect would clean it to /\evil.com
		"/desk/..%2f..%2f%5cevil.com":      false,
		"/desk/%2e%2e/%2e%2e/evil.com":     false,
		"//evil.com/desk/":                 false,
		"/\\evil.com/desk/":                false,
		"https://evil.com/desk/":           false,
		"/desk//evil.com":                  false,
		"/desk/\tx":                        false,
		"/reportsx":                        false,
		"/reports/../v1/complaints":        false,
		"javascript:alert(1)//desk/":       false,
		"":                                 false,
	} {
		if got := ownPage(addr, "/desk/", "/reports"); got != want {
			t.Errorf("ownPage(%q) = %v, want %v", addr, got, want)
		}
	}
}
