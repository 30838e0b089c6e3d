package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
)

// OIDCConfig is the organisation's OpenID provider, whose access tokens the
// API accepts besides its own staff tokens and whose sign-in the desk uses.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; empty: no provider.
	Issuer string `env:"OIDC_ISSUER"`
	// ClientID and ClientSecret are the desk's client at the provider.
	ClientID     string `env:"OIDC_CLIENT_ID" envDefault:"complaint-desk"`
	ClientSecret string `env:"OIDC_CLIENT_SECRET"`
	// Audiences are the audiences an access token must name one of;
	// default the desk's client id.
	Audiences []string `env:"OIDC_AUDIENCES" envSeparator:","`
	Claims    ClaimMapping
}

// ClaimMapping says where a provider puts who someone is. A claim is a
// name or a dotted path into nested objects (Keycloak's realm roles are
// realm_access.roles).
type ClaimMapping struct {
	Username    string `env:"OIDC_USERNAME_CLAIM" envDefault:"preferred_username"`
	Roles       string `env:"OIDC_ROLES_CLAIM" envDefault:"roles"`
	Departments string `env:"OIDC_DEPARTMENTS_CLAIM" envDefault:"departments"`
	// RolePrefix is stripped from the provider's role names (a realm shared
	// with other applications names them complaints-agent ...); roles without
	// it are ignored when it is set.
	RolePrefix string `env:"OIDC_ROLE_PREFIX"`
}

// seniority orders the staff roles for a person who holds several: the
// most senior counts.
var seniority = []Role{RoleAdmin, RoleDirector, RoleManager, RoleSupervisor, RoleOperator, RoleDepartment, RoleAgent}

// Identity maps a token's claims onto a staff identity.
func (m ClaimMapping) Identity(claims map[string]any) (Identity, error) {
	user, _ := lookup(claims, cmpOr(m.Username, "preferred_username")).(string)
	if user == "" {
		user, _ = claims["sub"].(string)
	}
	if user == "" || strings.Contains(user, ":") {
		return Identity{}, fmt.Errorf("%w: the token names no user (claim %s or sub) without ':'", ErrUnauthenticated, m.Username)
	}
	var held []Role
	for _, r := range strings_(lookup(claims, cmpOr(m.Roles, "roles"))) {
		if m.RolePrefix != "" {
			var ok bool
			if r, ok = strings.CutPrefix(r, m.RolePrefix); !ok {
				continue
			}
		}
		held = append(held, Role(r))
	}
	id := Identity{Subject: user, Departments: strings_(lookup(claims, cmpOr(m.Departments, "departments")))}
	for _, r := range seniority {
		if slices.Contains(held, r) {
			id.Role = r
			break
		}
	}
	if id.Role == "" {
		return Identity{}, fmt.Errorf("%w: %s holds no staff role in claim %s", ErrUnauthenticated, user, m.Roles)
	}
	if id.Role == RoleDepartment && len(id.Departments) == 0 {
		return Identity{}, fmt.Errorf("%w: a department role names its departments (claim %s)", ErrUnauthenticated, m.Departments)
	}
	return id, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lookup follows a dotted path through nested claims.
func lookup(claims map[string]any, path string) any {
	var v any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// strings_ reads a claim that is a list of strings, or one string
// (space- or comma-separated, as some providers send groups).
func strings_(v any) []string {
	switch t := v.(type) {
	case string:
		return strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// OIDC checks the provider's tokens. It discovers the provider on first
// use, and again after a failure, so the API starts while the provider is
// away; its keys come from the JWKS, fetched again when a token names a key
// it does not know (the provider rotated its keys).
type OIDC struct {
	cfg         OIDCConfig
	maxLifetime time.Duration

	mu       sync.Mutex
	provider *oidc.Provider
	tried    time.Time
}

// NewOIDC checks the configuration; nil when no issuer is configured.
func NewOIDC(cfg OIDCConfig, maxLifetime time.Duration) *OIDC {
	if cfg.Issuer == "" {
		return nil
	}
	if len(cfg.Audiences) == 0 {
		cfg.Audiences = []string{cfg.ClientID}
	}
	if maxLifetime <= 0 {
		maxLifetime = DefaultMaxLifetime
	}
	return &OIDC{cfg: cfg, maxLifetime: maxLifetime}
}

// Config is the configuration it was made with.
func (o *OIDC) Config() OIDCConfig { return o.cfg }

// ErrProviderUnavailable is a provider whose discovery document cannot be
// read now.
var ErrProviderUnavailable = errors.New("the OpenID provider does not answer")

// Provider is the discovered provider.
func (o *OIDC) Provider(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	if time.Since(o.tried) < 2*time.Second {
		return nil, ErrProviderUnavailable // not a discovery per request while it is down
	}
	o.tried = time.Now()
	// The key set outlives this request: its fetches use a context of their
	// own, bounded by the client's timeout.
	kctx := oidc.ClientContext(context.WithoutCancel(ctx), &http.Client{Timeout: 5 * time.Second})
	p, err := oidc.NewProvider(kctx, o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProviderUnavailable, err)
	}
	o.provider = p
	return p, nil
}

// IssuedHere reports whether token (a JWT, unverified) names this
// provider as its issuer: such a token is checked here, any other by the
// staff token verifier.
func (o *OIDC) IssuedHere(token string) bool {
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return false
	}
	return c.Issuer == o.cfg.Issuer
}

// Verify checks an access token (a JWT) of the provider and maps its claims.
func (o *OIDC) Verify(ctx context.Context, token string) (Identity, error) {
	p, err := o.Provider(ctx)
	if err != nil {
		return Identity{}, err
	}
	// The audience is checked below against any of the configured ones.
	idt, err := p.VerifierContext(context.WithoutCancel(ctx), &oidc.Config{SkipClientIDCheck: true}).Verify(ctx, token)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if !slices.ContainsFunc(idt.Audience, func(a string) bool { return slices.Contains(o.cfg.Audiences, a) }) {
		return Identity{}, fmt.Errorf("%w: the token is not for audience %v", ErrUnauthenticated, o.cfg.Audiences)
	}
	if from := idt.IssuedAt; !from.IsZero() && idt.Expiry.Sub(from) > o.maxLifetime+30*time.Second {
		return Identity{}, fmt.Errorf("%w: the token is valid for longer than %s", ErrUnauthenticated, o.maxLifetime)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	return o.cfg.Claims.Identity(claims)
}
