package idp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

const loginPath = "/login"

// Provider is a running development OpenID provider.
type Provider struct {
	issuer  string
	store   *storage
	handler http.Handler
	srv     *http.Server
	ln      net.Listener
}

// Options tune the provider; zero values are the defaults.
type Options struct {
	// AccessTokenLifetime is how long an access token is valid; 10 h, a
	// working day at the desk (the provider issues no refresh tokens).
	AccessTokenLifetime time.Duration
	Logger              *slog.Logger
}

// Listen opens addr (host:port; port 0 picks a free one), so that the
// issuer URL is known before the provider is built.
func Listen(addr string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, "http://" + ln.Addr().String(), nil
}

// Start serves the provider for issuer on ln until Close.
func Start(ln net.Listener, issuer string, dir Directory, opts Options) (*Provider, error) {
	p, err := New(issuer, dir, opts)
	if err != nil {
		return nil, err
	}
	p.ln = ln
	p.srv = &http.Server{Handler: p.handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// New builds the provider's handler for issuer without serving it.
func New(issuer string, dir Directory, opts Options) (*Provider, error) {
	if opts.AccessTokenLifetime <= 0 {
		opts.AccessTokenLifetime = 10 * time.Hour
	}
	st, err := newStorage(dir, opts.AccessTokenLifetime)
	if err != nil {
		return nil, err
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	cfg := &op.Config{
		CryptoKey:          key,
		CodeMethodS256:     true,
		AuthMethodPost:     true,
		SupportedUILocales: []language.Tag{language.English, language.Chinese},
	}
	popts := []op.Option{op.WithAllowInsecure()} // http:// on loopback: development only
	if opts.Logger != nil {
		popts = append(popts, op.WithLogger(opts.Logger))
	}
	provider, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), popts...)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	login := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	callback := op.AuthCallbackURL(provider)
	mux.HandleFunc("GET "+loginPath, func(w http.ResponseWriter, r *http.Request) {
		renderLogin(w, r.URL.Query().Get("authRequestID"), "", "")
	})
	mux.Handle("POST "+loginPath, login.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, user := r.PostFormValue("id"), r.PostFormValue("username")
		if err := st.checkPassword(user, r.PostFormValue("password"), id); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			renderLogin(w, id, user, err.Error())
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	mux.HandleFunc("GET /logged-out", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintln(w, "signed out")
	})
	mux.Handle("/", provider)
	return &Provider{issuer: issuer, store: st, handler: mux}, nil
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// Handler serves the provider.
func (p *Provider) Handler() http.Handler { return p.handler }

// RotateKey signs new tokens with a new key; the old key stays in the
// JWKS, as an organisation's provider does while tokens it signed live.
func (p *Provider) RotateKey() error { return p.store.rotate() }

// Close stops serving.
func (p *Provider) Close() error {
	if p.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · development provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;margin:.3rem 0}input,button{padding:.5rem;font-size:1rem}
.error{color:#b00020}</style></head>
<body><h1>Sign in</h1><p>Development OpenID provider: the users are in <code>.dev/idp.json</code>.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label for="username">User name</label><input id="username" name="username" value="{{.Username}}" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></body></html>`))

func renderLogin(w http.ResponseWriter, id, user, errMsg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'")
	_ = loginPage.Execute(w, struct{ ID, Username, Error string }{id, user, errMsg})
}

// SignIn drives the login page as a browser would, for tests and scripts:
// it follows authURL (an application's authorization request) to the login
// page, posts user and password, and returns the address the provider
// sends the browser back to (the application's redirect URI with the code).
func SignIn(ctx context.Context, hc *http.Client, authURL, user, password string) (*url.URL, error) {
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	next := authURL
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("GET %s: %s without a redirect", next, resp.Status)
		}
		if loc.Path != loginPath {
			return loc, nil // already signed in: back to the application
		}
		form := url.Values{"id": {loc.Query().Get("authRequestID")}, "username": {user}, "password": {password}}
		post, err := http.NewRequestWithContext(ctx, http.MethodPost, loc.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = noFollow.Do(post)
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return nil, fmt.Errorf("sign-in as %s: %s", user, resp.Status)
		}
		if next, err = resolve(loc, resp.Header.Get("Location")); err != nil {
			return nil, err
		}
		// The provider's callback then redirects to the application.
	}
	return nil, errors.New("too many redirects")
}

func resolve(base *url.URL, ref string) (string, error) {
	u, err := base.Parse(ref)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
