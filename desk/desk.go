// Package desk is the staff desk under /desk: sign-in at the
// organisation's OpenID provider (authorization code with PKCE), work
// queues from the read model, the case page and task forms built from the
// tasks endpoint's JSON schemas. Pages are rendered by the server; a small
// script of our own counts the clocks down and notices a changed case.
//
// The desk acts through the API's own handler, in process, with the signed-in
// person's access token: the API's roles and case checks hold for the desk
// exactly as for any client.
package desk

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/store"
)

// Config is the desk's configuration.
type Config struct {
	// PublicURL is the API as browsers reach it: the provider sends them
	// back to PublicURL/desk/auth/callback. HTTPS makes the cookies Secure.
	PublicURL string `env:"PUBLIC_URL" envDefault:"http://127.0.0.1:8080"`
	// IdleTimeout ends a session nobody used for that long; MaxSession ends
	// any session that long after its sign-in.
	IdleTimeout time.Duration `env:"DESK_IDLE_TIMEOUT" envDefault:"30m"`
	MaxSession  time.Duration `env:"DESK_MAX_SESSION" envDefault:"10h"`
	// PollInterval is how often an open case page asks whether the case changed.
	PollInterval time.Duration `env:"DESK_POLL_INTERVAL" envDefault:"5s"`
}

// Store is what the desk keeps and reads in the database; *store.Store is one.
type Store interface {
	QueueReader
	SessionStore
}

// QueueReader reads the work queues; *store.Store is one.
type QueueReader interface {
	QueueCases(ctx context.Context, f store.QueueFilter) ([]store.QueueItem, error)
	QueueCounts(ctx context.Context, f store.QueueFilter) (map[store.Queue]int, error)
}

// Desk serves /desk.
type Desk struct {
	cfg      Config
	oidc     *auth.OIDC
	api      http.Handler
	queues   QueueReader
	zone     *time.Location // default for people whose provider names none
	log      *slog.Logger
	sessions *sessions
	secure   bool
	now      func() time.Time
	// schemas keeps each task's payload schema as the API last listed it:
	// the same for every case (the OpenAPI document's), so a form sent
	// needs no second read of the case's tasks to be shaped.
	schemas sync.Map
}

// New makes the desk: provider is the organisation's OpenID provider, api
// the API's handler it acts through, zone the default time zone.
func New(cfg Config, provider *auth.OIDC, api http.Handler, db Store, zone *time.Location, log *slog.Logger) *Desk {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.MaxSession <= 0 {
		cfg.MaxSession = 10 * time.Hour
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if zone == nil {
		zone = time.UTC
	}
	if log == nil {
		log = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Desk{cfg: cfg, oidc: provider, api: api, queues: db, zone: zone, log: log,
		sessions: &sessions{store: db, idle: cfg.IdleTimeout, max: cfg.MaxSession},
		secure:   strings.HasPrefix(cfg.PublicURL, "https://"), now: time.Now}
}

//go:embed assets
var assets embed.FS

// Handler serves every path under /desk/.
func (d *Desk) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /desk/assets/", http.StripPrefix("/desk/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /desk/sign-in", d.signIn)
	mux.HandleFunc("GET /desk/auth/callback", d.callback)
	mux.HandleFunc("GET /desk/signed-out", d.signedOut)
	mux.HandleFunc("POST /desk/sign-out", d.withSession(d.signOut))
	mux.HandleFunc("GET /desk/{$}", d.withSession(d.queuePage))
	mux.HandleFunc("GET /desk/cases/{reference}", d.withSession(d.casePage))
	mux.HandleFunc("GET /desk/cases/{reference}/version", d.withSession(d.caseVersion))
	mux.HandleFunc("POST /desk/cases/{reference}/tasks/{task}", d.withSession(d.runTask))
	mux.HandleFunc("GET /desk/cases/{reference}/attachments/{id}", d.withSession(d.attachment))
	mux.HandleFunc("POST /desk/preferences", d.withSession(d.preferences))
	// The reports page reads its figures here with the desk's session
	// instead of a token in its address.
	mux.HandleFunc("GET /desk/api/v1/reports/", d.withSession(d.reportsProxy))
	mux.HandleFunc("/desk/", func(w http.ResponseWriter, r *http.Request) {
		d.notFound(w, r, nil)
	})
	return headers(mux, d.providerOrigin())
}

// providerOrigin is the provider's scheme and host: the sign-out form's
// redirect goes on there, the only place besides the desk a form may lead.
func (d *Desk) providerOrigin() string {
	if d.oidc == nil {
		return ""
	}
	u, err := url.Parse(d.oidc.Config().Issuer)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// headers: a strict Content-Security-Policy (our script and style only,
// forms only to ourselves, no framing), no caching of people's pages.
func headers(next http.Handler, provider string) http.Handler {
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self' " + provider + "; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/desk/assets/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

type sessionHandler func(http.ResponseWriter, *http.Request, *session)

// withSession passes the request's live session, or sends the browser to
// sign in (and back here after); every POST must carry the session's CSRF
// token and come from this origin.
func (d *Desk) withSession(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var ss *session
		if c, err := r.Cookie(d.sessionCookie()); err == nil {
			ss, _ = d.sessions.get(r.Context(), c.Value, d.now())
		}
		if ss == nil {
			if !signInByRedirect(r) {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/desk/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err := d.renew(r.Context(), ss); err != nil {
			d.log.InfoContext(r.Context(), "desk session: the access token cannot be renewed", "error", err)
			_ = d.sessions.end(r.Context(), ss.ID)
			d.setCookie(w, d.sessionCookie(), "", -1)
			if !signInByRedirect(r) {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/desk/sign-in?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil || !ss.validCSRF(r.PostForm.Get("csrf")) || !d.sameOrigin(r) {
				http.Error(w, "the form has expired; reload the page", http.StatusForbidden)
				return
			}
		}
		h(w, r, ss)
	}
}

// signInByRedirect: a page the browser asked for is sent to the sign-in; a
// form sent, the case page's poll and the desk's JSON get 401 instead (a
// script cannot follow the provider's page, and a form must not be lost in
// a redirect).
func signInByRedirect(r *http.Request) bool {
	return r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/version") && !strings.HasPrefix(r.URL.Path, "/desk/api/")
}

// renew refreshes the session's access token shortly before it expires,
// with the refresh token the provider gave (Keycloak's access tokens last
// minutes, a working day is hours).
func (d *Desk) renew(ctx context.Context, ss *session) error {
	t := ss.Token
	if t == nil || t.RefreshToken == "" || t.Expiry.IsZero() || d.now().Add(30*time.Second).Before(t.Expiry) {
		return nil
	}
	conf, _, err := d.oauth(ctx)
	if err != nil {
		return err
	}
	expired := *t
	expired.Expiry = d.now().Add(-time.Second) // make the source refresh now
	fresh, err := conf.TokenSource(ctx, &expired).Token()
	if err != nil {
		return err
	}
	ss.Token = &oauth2.Token{AccessToken: fresh.AccessToken, TokenType: fresh.TokenType, RefreshToken: fresh.RefreshToken,
		Expiry: fresh.Expiry}
	if ss.Token.RefreshToken == "" {
		ss.Token.RefreshToken = t.RefreshToken // providers that do not rotate it
	}
	return d.sessions.save(ctx, ss)
}

// sameOrigin checks the Origin header when the browser sends one.
func (d *Desk) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	return o == d.cfg.PublicURL || o == "http://"+r.Host || o == "https://"+r.Host
}

func (d *Desk) oauth(ctx context.Context) (*oauth2.Config, *oidc.Provider, error) {
	if d.oidc == nil {
		return nil, nil, errors.New("no OpenID provider is configured (OIDC_ISSUER)")
	}
	p, err := d.oidc.Provider(ctx)
	if err != nil {
		return nil, nil, err
	}
	c := d.oidc.Config()
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: d.cfg.PublicURL + "/desk/auth/callback",
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"}}, p, nil
}

// signIn starts the authorization code flow with PKCE.
func (d *Desk) signIn(w http.ResponseWriter, r *http.Request) {
	conf, _, err := d.oauth(r.Context())
	if err != nil {
		d.log.WarnContext(r.Context(), "desk sign-in: provider unavailable", "error", err)
		d.errorPage(w, r, http.StatusServiceUnavailable, "sign-in.unavailable")
		return
	}
	next := r.URL.Query().Get("next")
	if !ownPage(next, "/desk/", "/reports") {
		next = "/desk/" // only our own pages: never an address elsewhere
	}
	state, nonce, verifier := randomID(), randomID(), oauth2.GenerateVerifier()
	if err := d.sessions.begin(r.Context(), state, pending{Verifier: verifier, Nonce: nonce, Next: next}, d.now()); err != nil {
		d.log.WarnContext(r.Context(), "desk sign-in: cannot keep the sign-in", "error", err)
		d.errorPage(w, r, http.StatusServiceUnavailable, "sign-in.unavailable")
		return
	}
	// The state is also bound to this browser: a callback in another browser
	// (a link sent to someone) does not sign that one in.
	d.setCookie(w, d.stateCookie(), state, 600)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
	if lang := preferredLang(r); lang != "" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", lang))
	}
	http.Redirect(w, r, conf.AuthCodeURL(state, opts...), http.StatusSeeOther)
}

// callback finishes the sign-in: the code is exchanged with its verifier,
// the ID token checked (issuer, audience, expiry, nonce), its claims mapped
// to a staff identity.
func (d *Desk) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := r.Cookie(d.stateCookie())
	if err != nil || q.Get("state") == "" || c.Value != q.Get("state") {
		d.errorPage(w, r, http.StatusBadRequest, "sign-in.expired")
		return
	}
	d.setCookie(w, d.stateCookie(), "", -1)
	p, ok := d.sessions.finish(r.Context(), q.Get("state"), d.now())
	if !ok {
		d.errorPage(w, r, http.StatusBadRequest, "sign-in.expired")
		return
	}
	if e := q.Get("error"); e != "" {
		d.log.InfoContext(r.Context(), "desk sign-in refused by the provider", "error", e, "description", q.Get("error_description"))
		d.errorPage(w, r, http.StatusForbidden, "sign-in.refused")
		return
	}
	conf, provider, err := d.oauth(r.Context())
	if err != nil {
		d.errorPage(w, r, http.StatusServiceUnavailable, "sign-in.unavailable")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.Verifier))
	if err != nil {
		d.log.WarnContext(ctx, "desk sign-in: code exchange failed", "error", err)
		d.errorPage(w, r, http.StatusBadGateway, "sign-in.failed")
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: conf.ClientID}).Verify(ctx, rawID)
	if err != nil || idt.Nonce != p.Nonce {
		d.log.WarnContext(ctx, "desk sign-in: ID token refused", "error", err)
		d.errorPage(w, r, http.StatusBadGateway, "sign-in.failed")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		d.errorPage(w, r, http.StatusBadGateway, "sign-in.failed")
		return
	}
	who, err := d.oidc.Config().Claims.Identity(claims)
	if err != nil {
		d.log.InfoContext(ctx, "desk sign-in: no staff identity", "error", err)
		d.errorPage(w, r, http.StatusForbidden, "sign-in.norole")
		return
	}
	now := d.now()
	// The session keeps the access token the desk acts with, and the
	// refresh token that renews it when the provider gives one; without
	// one a session ends with its access token, or sooner.
	kept := &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
		Expiry: tok.Expiry}
	ss := &session{ID: randomID(), CSRF: randomID(), Who: who, Token: kept, IDToken: rawID, Started: now, LastSeen: now,
		ZoneName: d.zone.String()}
	ss.Name, _ = claims["name"].(string)
	if ss.Name == "" {
		ss.Name = who.Subject
	}
	ss.Lang = langOf(claimString(claims, "locale"))
	if ss.Lang == "" {
		ss.Lang = langOf(preferredLang(r))
	}
	if z := claimString(claims, "zoneinfo"); z != "" {
		if _, err := time.LoadLocation(z); err == nil {
			ss.ZoneName = z
		}
	}
	if err := d.sessions.save(ctx, ss); err != nil {
		d.log.WarnContext(ctx, "desk sign-in: cannot keep the session", "error", err)
		d.errorPage(w, r, http.StatusServiceUnavailable, "sign-in.unavailable")
		return
	}
	d.setCookie(w, d.sessionCookie(), ss.ID, 0)
	http.Redirect(w, r, p.Next, http.StatusSeeOther)
}

// ownPage is true for an address of one of our pages under one of the
// prefixes ("/desk/" and below, or exactly "/reports", with any query): a
// path of ours as it stands, with no "..", "//", backslash or control
// character that a browser or http.Redirect's cleaning could turn into
// another site (http.Redirect cleans "/desk/../\evil.com" to
// "/\evil.com", which browsers read as "//evil.com").
func ownPage(addr string, prefixes ...string) bool {
	u, err := url.Parse(addr)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		strings.ContainsAny(addr, "\\\x00\t\r\n") {
		return false
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	if clean != u.Path {
		return false
	}
	for _, p := range prefixes {
		if strings.HasSuffix(p, "/") && strings.HasPrefix(u.Path, p) || u.Path == p {
			return true
		}
	}
	return false
}

func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// signOut ends the desk's session, then the provider's (RP-initiated
// logout) when it offers an end-session endpoint.
func (d *Desk) signOut(w http.ResponseWriter, r *http.Request, ss *session) {
	if err := d.sessions.end(r.Context(), ss.ID); err != nil {
		d.log.WarnContext(r.Context(), "desk sign-out: the session stays until it times out", "error", err)
	}
	d.setCookie(w, d.sessionCookie(), "", -1)
	target := "/desk/signed-out"
	if _, p, err := d.oauth(r.Context()); err == nil {
		var meta struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if p.Claims(&meta) == nil && meta.EndSession != "" {
			v := url.Values{"id_token_hint": {ss.IDToken}, "post_logout_redirect_uri": {d.cfg.PublicURL + "/desk/signed-out"},
				"client_id": {d.oidc.Config().ClientID}}
			target = meta.EndSession + "?" + v.Encode()
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (d *Desk) signedOut(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, "signedout", page{Lang: langOf(preferredLang(r))}, nil)
}

func (d *Desk) preferences(w http.ResponseWriter, r *http.Request, ss *session) {
	if l := langOf(r.PostForm.Get("lang")); l != "" {
		ss.Lang = l
	}
	if z := r.PostForm.Get("zone"); z != "" {
		if _, err := time.LoadLocation(z); err == nil {
			ss.ZoneName = z
		}
	}
	if err := d.sessions.save(r.Context(), ss); err != nil {
		d.log.WarnContext(r.Context(), "desk preferences not kept", "error", err)
	}
	back := r.PostForm.Get("back")
	if !ownPage(back, "/desk/") {
		back = "/desk/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// reportsProxy passes a read of the reports to the API as the signed-in
// person: their role decides, as with a token.
func (d *Desk) reportsProxy(w http.ResponseWriter, r *http.Request, ss *session) {
	path := strings.TrimPrefix(r.URL.Path, "/desk/api")
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	res, err := d.call(r, ss, http.MethodGet, path, nil)
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	passHeaders(w, res, "Content-Type", "Content-Disposition", "Retry-After")
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

// apiResponse is what the API answered the desk.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// call runs one request through the API's handler as the signed-in person.
func (d *Desk) call(r *http.Request, ss *session, method, path string, body any) (apiResponse, error) {
	return d.callOnce(r, ss, method, path, body, "")
}

// callOnce is call with an Idempotency-Key (none when empty): the API
// applies a task sent twice with the same key once, and answers the
// second time with the first outcome.
func (d *Desk) callOnce(r *http.Request, ss *session, method, path string, body any, key string) (apiResponse, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return apiResponse{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, rd)
	if err != nil {
		return apiResponse{}, err
	}
	req.RemoteAddr = r.RemoteAddr // the API's limits count this browser's address
	req.Header.Set("Authorization", "Bearer "+ss.Token.AccessToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := &recorder{header: http.Header{}}
	d.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return apiResponse{status: rec.status, header: rec.header, body: rec.buf.Bytes()}, nil
}

// passHeaders gives the browser the API's answer's headers of these names.
func passHeaders(w http.ResponseWriter, res apiResponse, names ...string) {
	for _, h := range names {
		if v := res.header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
}

// recorder keeps an in-process answer of the API.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(b)
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

// problem is an RFC 9457 answer of the API.
type problem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func problemOf(res apiResponse) problem {
	var p problem
	_ = json.Unmarshal(res.body, &p)
	if p.Status == 0 {
		p.Status = res.status
	}
	return p
}

func (p problem) String() string {
	if p.Detail != "" {
		return p.Detail
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}
