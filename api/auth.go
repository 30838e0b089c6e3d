package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	lru "github.com/hashicorp/golang-lru/v2"
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
	// OIDC, when set, checks the access tokens of the organisation's OpenID
	// provider (those whose issuer is its own).
	OIDC *auth.OIDC
	Keys KeyLookup
	// Rate and Burst bound each caller's requests (per API key, per staff
	// member); zero Rate means no limit.
	Rate  rate.Limit
	Burst int
	// TrustedProxies are the load balancers whose X-Forwarded-For names the
	// client: failed authentications are counted per client, not per proxy
	// (behind nginx every caller would share one address and one budget).
	// Empty: no header is believed, the peer is the client.
	TrustedProxies []netip.Prefix

	once     sync.Once
	limiters *lru.Cache[string, *rate.Limiter] // by caller, and by address for failed attempts and public requests
}

// Failed authentications are limited per client address, so that guessing
// credentials (or flooding the key lookup) is slow whatever the caller's
// own budget. Only failures count: a valid credential from the same address
// (colleagues behind one NAT) is still let in.
const (
	failRate  = rate.Limit(2)
	failBurst = 20
	// Requests that need no credentials (the probes, the survey, the API's
	// description) have a budget per client address.
	publicRate  = rate.Limit(5)
	publicBurst = 30
	// maxLimiters bounds the memory of the limits: past it the least
	// recently seen caller or address is forgotten.
	maxLimiters = 50_000
)

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
	if a.OIDC != nil && a.OIDC.IssuedHere(token) {
		return a.OIDC.Verify(r.Context(), token) // a provider away is a 503, not a 401
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

// failing answers whether client has used up its failed attempts (n = 0:
// only look) or takes one (n = 1).
func (a *Authenticator) failing(client string, n int) (bool, time.Duration) {
	ok, wait := a.take("fail:"+client, failRate, failBurst, n)
	return !ok, wait
}

// take reserves n tokens of key's bucket; n = 0 only asks whether one is left.
func (a *Authenticator) take(key string, r rate.Limit, burst, n int) (bool, time.Duration) {
	a.once.Do(func() { a.limiters, _ = lru.New[string, *rate.Limiter](maxLimiters) })
	l, ok := a.limiters.Get(key)
	if !ok {
		// Two first requests at once may both make one: the loser's request
		// is then counted in a bucket that is dropped, once.
		l = rate.NewLimiter(r, burst)
		if prev, found, _ := a.limiters.PeekOrAdd(key, l); found {
			l = prev
		}
	}
	now := time.Now()
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

// public requests need no credentials: the probes, the icon, the API's own
// description, the reports page (its figures come from an authenticated
// call the page makes) and the survey, whose link carries a signed token
// naming the one case it may answer.
func public(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/healthz", p == "/readyz", p == "/docs", p == "/reports", p == "/favicon.ico":
		return true
	case p == "/survey", p == "/v1/survey-responses":
		return true
	case p == "/status", strings.HasPrefix(p, "/status/"): // the status link's token is the credential
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
func (a *Authenticator) authenticate(next http.Handler, log func() *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := a.clientAddr(r)
		if public(r) {
			// No credentials to count by: each client address has a budget.
			if ok, wait := a.take("public:"+client, publicRate, publicBurst, 1); !ok {
				tooMany(w, wait, "too many requests from this address; retry after the time in Retry-After")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		id, err := a.identify(r)
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthenticated) {
				writeFault(w, r, log(), http.StatusServiceUnavailable, "credentials cannot be checked now; retry later", err)
				return
			}
			// Only a credential that was tried and was wrong counts; past the
			// budget the answer is 429 until it refills.
			if r.Header.Get("Authorization") != "" || strings.HasPrefix(r.URL.Path, codecPathToken) {
				if blocked, wait := a.failing(client, 1); blocked {
					tooMany(w, wait, "too many failed authentications from this address")
					return
				}
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

// clientAddr is the caller's address as the limits count it: the peer's,
// or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one. An IPv6 client is its /64, the block one
// subscriber is usually given.
func (a *Authenticator) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	client := peer.Unmap()
	if a.trusted(client) {
		hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a hop that is not an address: believe nothing before it
			}
			if hop = hop.Unmap(); !a.trusted(hop) {
				client = hop
				break
			}
		}
	}
	if client.Is6() {
		return netip.PrefixFrom(client, 64).Masked().String()
	}
	return client.String()
}

func (a *Authenticator) trusted(ip netip.Addr) bool {
	for _, p := range a.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
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
