package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/time/rate"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/store"
)

// KeyLookup finds an upstream system's live API key by its hash;
// *store.Store is one.
type KeyLookup interface {
	APIKeyByHash(ctx context.Context, keyHash string) (store.APIKey, error)
}

// Authenticator tells who is calling: an API key (cdk_...) or a staff token,
// both as `Authorization: Bearer ...`; the codec server also takes the token
// from its address (/codec/k/<token>/decode), which is all the Temporal dev
// server's UI can be given.
type Authenticator struct {
	Tokens *auth.Verifier
	Keys   KeyLookup
	// Rate and Burst bound each caller's requests (per API key, per staff
	// member); zero Rate means no limit.
	Rate  rate.Limit
	Burst int
	// TrustedProxies are the load balancers whose X-Forwarded-For names the
	// client: failed authentications are counted per client, not per proxy
	// (behind nginx every caller would share one address and one budget).
	TrustedProxies []netip.Prefix

	mu       sync.Mutex
	limiters map[string]*limiter // by caller, and by address for failed attempts
}

// Failed authentications are limited per client address, so that guessing
// credentials (or flooding the key lookup) is slow whatever the caller's
// own budget.
const (
	failRate  = rate.Limit(2)
	failBurst = 20
)

type limiter struct {
	*rate.Limiter
	seen time.Time
}

// identify authenticates r.
func (a *Authenticator) identify(r *http.Request) (auth.Identity, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if rest, inPath := strings.CutPrefix(r.URL.Path, codecPathToken); !ok && inPath {
		token, _, ok = strings.Cut(rest, "/")
	}
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return auth.Identity{}, fmt.Errorf("%w: send `Authorization: Bearer <API key or token>`", auth.ErrUnauthenticated)
	}
	if strings.HasPrefix(token, auth.APIKeyPrefix) {
		if a.Keys == nil {
			return auth.Identity{}, auth.ErrUnauthenticated
		}
		k, err := a.Keys.APIKeyByHash(r.Context(), auth.HashAPIKey(token))
		switch {
		case errors.Is(err, store.ErrNoKey):
			return auth.Identity{}, fmt.Errorf("%w: unknown or revoked API key", auth.ErrUnauthenticated)
		case err != nil:
			return auth.Identity{}, err
		}
		return auth.Identity{Subject: "key:" + k.ID, Role: auth.RoleSystem, System: k.System, KeyID: k.ID}, nil
	}
	if a.Tokens == nil {
		return auth.Identity{}, auth.ErrUnauthenticated
	}
	return a.Tokens.Verify(token)
}

// allow takes one request from the caller's budget; when it is spent it
// says how long until the next request is allowed.
func (a *Authenticator) allow(id auth.Identity) (bool, time.Duration) {
	if a.Rate == 0 {
		return true, 0
	}
	return a.take("sub:"+id.Subject, a.Rate, a.Burst, 1)
}

// failing answers whether addr has used up its failed attempts (n = 0: only
// look) or takes one (n = 1).
func (a *Authenticator) failing(addr string, n int) (bool, time.Duration) {
	ok, wait := a.take("addr:"+addr, failRate, failBurst, n)
	return !ok, wait
}

// take reserves n tokens of key's bucket; n = 0 only asks whether one is left.
func (a *Authenticator) take(key string, r rate.Limit, burst, n int) (bool, time.Duration) {
	now := time.Now()
	a.mu.Lock()
	if a.limiters == nil {
		a.limiters = map[string]*limiter{}
	}
	l, ok := a.limiters[key]
	if !ok {
		if len(a.limiters) > 10000 { // forget callers idle for ten minutes
			for k, old := range a.limiters {
				if now.Sub(old.seen) > 10*time.Minute {
					delete(a.limiters, k)
				}
			}
		}
		l = &limiter{Limiter: rate.NewLimiter(r, burst)}
		a.limiters[key] = l
	}
	l.seen = now
	a.mu.Unlock()
	if n == 0 {
		if l.TokensAt(now) >= 1 {
			return true, 0
		}
		return false, time.Duration(float64(time.Second) / float64(r))
	}
	res := l.ReserveN(now, n)
	if delay := res.DelayFrom(now); delay > 0 {
		res.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// public requests need no credentials: the probes, the API's own
// description, the reports page (its figures come from an authenticated
// call the page makes) and the survey, whose link carries a signed token
// naming the one case it may answer.
func public(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/healthz", p == "/readyz", p == "/docs", p == "/reports":
		return true
	case p == "/survey", p == "/v1/survey-responses":
		return true
	case strings.HasPrefix(p, "/openapi"), strings.HasPrefix(p, "/schemas/"), strings.HasPrefix(p, "/reports/assets/"),
		strings.HasPrefix(p, "/docs/assets/"):
		return true
	case r.Method == http.MethodOptions && strings.HasPrefix(p, "/codec/"):
		return true // CORS preflight carries no credentials
	}
	return false
}

// authenticate puts the caller's identity into the request's context, or
// answers 401; then it applies the caller's rate limit (429).
func (a *Authenticator) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) {
			next.ServeHTTP(w, r)
			return
		}
		addr := a.clientAddr(r)
		if blocked, wait := a.failing(addr, 0); blocked {
			tooMany(w, wait, "too many failed authentications from this address")
			return
		}
		id, err := a.identify(r)
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthenticated) {
				writeProblem(w, http.StatusServiceUnavailable, "credentials cannot be checked now; retry later")
				return
			}
			if r.Header.Get("Authorization") != "" || strings.HasPrefix(r.URL.Path, codecPathToken) {
				a.failing(addr, 1) // a credential was tried, and it was wrong
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="complaints"`)
			writeProblem(w, http.StatusUnauthorized, err.Error())
			return
		}
		if ok, wait := a.allow(id); !ok {
			tooMany(w, wait, "rate limit reached for this caller; retry after the time in Retry-After")
			return
		}
		// In place rather than a copy: the tracing handler outside names its
		// span by the route the mux records on this very request.
		*r = *r.WithContext(auth.WithIdentity(r.Context(), id))
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the caller's address: the peer's, or, when the peer is a
// trusted proxy, the nearest address in X-Forwarded-For that is not one.
func (a *Authenticator) clientAddr(r *http.Request) string {
	addr, _, _ := net.SplitHostPort(r.RemoteAddr)
	trusted := func(s string) bool {
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		for _, p := range a.TrustedProxies {
			if p.Contains(ip.Unmap()) {
				return true
			}
		}
		return false
	}
	if !trusted(addr) {
		return addr
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		if hop := strings.TrimSpace(hops[i]); hop != "" && !trusted(hop) {
			return hop
		}
	}
	return addr
}

func tooMany(w http.ResponseWriter, wait time.Duration, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	writeProblem(w, http.StatusTooManyRequests, detail)
}

// securityHeaders tell browsers to treat every answer as data of this
// origin only; the pages that need more (/docs, /reports) set their own.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/docs") && !strings.HasPrefix(r.URL.Path, "/reports") {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		if !strings.HasPrefix(r.URL.Path, "/reports") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// authorize is the operation's role check: the roles allowed for it in
// permissions, 403 for the others. Checks that depend on the case (the
// owner, the departments, the submitter) follow in the handlers.
func authorize(api huma.API, operationID string) func(huma.Context, func(huma.Context)) {
	roles, ok := permissions[operationID]
	if !ok {
		panic("no permissions declared for operation " + operationID) // caught by the tests
	}
	return func(ctx huma.Context, next func(huma.Context)) {
		id, ok := auth.From(ctx.Context())
		if !ok {
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "authentication required")
			return
		}
		if !slices.Contains(roles, id.Role) {
			_ = huma.WriteErr(api, ctx, http.StatusForbidden,
				fmt.Sprintf("role %s may not %s", id.Role, operationID))
			return
		}
		next(ctx)
	}
}

// caller is the authenticated identity of a request that passed authorize.
func caller(ctx context.Context) auth.Identity {
	id, _ := auth.From(ctx)
	return id
}

func forbidden(format string, args ...any) error {
	return huma.Error403Forbidden(fmt.Sprintf(format, args...))
}
