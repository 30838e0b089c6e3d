// Package auth says who is calling: upstream systems with API keys, staff
// with signed bearer tokens (JWT), each with one role.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Role is what a caller may do.
type Role string

const (
	// RoleSystem is an upstream system holding an API key: it submits
	// complaints and reads the cases it submitted.
	RoleSystem     Role = "system"
	RoleAgent      Role = "agent"      // owns cases: the owner's tasks on its own cases
	RoleDepartment Role = "department" // department staff, scoped to their departments
	RoleSupervisor Role = "supervisor"
	RoleManager    Role = "manager"
	RoleDirector   Role = "director"
	RoleOperator   Role = "operator" // reads everything, changes nothing
	RoleAdmin      Role = "admin"
)

// StaffRoles are the roles a token may carry.
var StaffRoles = []Role{RoleAgent, RoleDepartment, RoleSupervisor, RoleManager, RoleDirector, RoleOperator, RoleAdmin}

// Identity is the authenticated caller.
type Identity struct {
	// Subject is the staff member's user name (the actor in the audit
	// trail), or key:<id> for an API key.
	Subject     string
	Role        Role
	Departments []string // RoleDepartment: the departments they work in
	System      string   // RoleSystem: the upstream system's name
	KeyID       string   // RoleSystem: the key's id
}

// InDepartment reports whether a department member works in d.
func (id Identity) InDepartment(d string) bool { return slices.Contains(id.Departments, d) }

type identityKey struct{}

// WithIdentity puts the caller into ctx.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// From reads the caller from ctx.
func From(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// ErrUnauthenticated is a missing, malformed, expired or unknown credential.
var ErrUnauthenticated = errors.New("unauthenticated")

// APIKeyPrefix starts every API key, so that a key is told from a token at
// a glance (and by secret scanners).
const APIKeyPrefix = "cdk_"

// NewAPIKey makes a key: its id (public, for listing and revoking), the
// secret the system sends, and the hash that is stored.
func NewAPIKey() (id, secret, hash string, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", "", err
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	body := strings.ToLower(enc.EncodeToString(raw))
	id = body[:8]
	secret = APIKeyPrefix + body
	return id, secret, HashAPIKey(secret), nil
}

// HashAPIKey is what is stored of a key: a 256-bit random secret needs no
// slow hash, SHA-256 cannot be reversed.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Claims are a staff token's claims.
type Claims struct {
	Role        Role     `json:"role"`
	Departments []string `json:"departments,omitempty"`
	jwt.RegisteredClaims
}

// TokenConfig checks staff tokens: HS256 with a shared secret, or RS256/ES256
// with a public key (PEM) when the tokens come from an identity provider.
type TokenConfig struct {
	Secret    []byte
	PublicKey string // PEM, RSA or EC; optional
	Issuer    string
	Audience  string
	// MaxLifetime caps how long a token may be valid, from its issue (or
	// from now when it names none) to its expiry; zero: DefaultMaxLifetime.
	MaxLifetime time.Duration
}

// DefaultMaxLifetime is the longest a staff token is accepted for: a
// token cannot be revoked on its own, so none outlives a working day.
const DefaultMaxLifetime = 12 * time.Hour

// Verifier checks staff tokens.
type Verifier struct {
	cfg    TokenConfig
	parser *jwt.Parser
	pub    any
}

// NewVerifier checks the configuration once.
func NewVerifier(cfg TokenConfig) (*Verifier, error) {
	v := &Verifier{cfg: cfg}
	methods := []string{}
	if len(cfg.Secret) > 0 {
		if len(cfg.Secret) < 32 {
			return nil, fmt.Errorf("the token secret must have at least 32 bytes")
		}
		methods = append(methods, "HS256")
	}
	if cfg.PublicKey != "" {
		pemBytes := []byte(cfg.PublicKey)
		if k, err := jwt.ParseRSAPublicKeyFromPEM(pemBytes); err == nil {
			v.pub = k
			methods = append(methods, "RS256")
		} else if k, err := jwt.ParseECPublicKeyFromPEM(pemBytes); err == nil {
			v.pub = k
			methods = append(methods, "ES256")
		} else {
			return nil, fmt.Errorf("the token public key is neither an RSA nor an EC key in PEM")
		}
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("no token secret or public key configured")
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(30 * time.Second)}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks a token and returns its identity.
func (v *Verifier) Verify(token string) (Identity, error) {
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if t.Method.Alg() == "HS256" {
			return v.cfg.Secret, nil
		}
		return v.pub, nil
	})
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	// A subject with ':' could pass for an API key (key:<id>) or a system's
	// own agent (system:name) in the audit trail.
	if c.Subject == "" || strings.Contains(c.Subject, ":") || !slices.Contains(StaffRoles, c.Role) {
		return Identity{}, fmt.Errorf("%w: the token needs a subject without ':' and a staff role", ErrUnauthenticated)
	}
	maxLife := v.cfg.MaxLifetime
	if maxLife <= 0 {
		maxLife = DefaultMaxLifetime
	}
	from := time.Now()
	if c.IssuedAt != nil {
		from = c.IssuedAt.Time
	}
	if c.ExpiresAt.Sub(from) > maxLife+30*time.Second {
		return Identity{}, fmt.Errorf("%w: the token is valid for longer than %s", ErrUnauthenticated, maxLife)
	}
	if c.Role == RoleDepartment && len(c.Departments) == 0 {
		return Identity{}, fmt.Errorf("%w: a department role names its departments", ErrUnauthenticated)
	}
	return Identity{Subject: c.Subject, Role: c.Role, Departments: c.Departments}, nil
}

// MintHS256 signs a staff token with the shared secret: for development,
// tests and `complaintctl token`.
func MintHS256(cfg TokenConfig, subject string, role Role, departments []string, ttl time.Duration) (string, error) {
	if !slices.Contains(StaffRoles, role) {
		return "", fmt.Errorf("unknown role %q", role)
	}
	now := time.Now()
	c := Claims{Role: role, Departments: departments, RegisteredClaims: jwt.RegisteredClaims{
		Subject: subject, Issuer: cfg.Issuer, IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	if cfg.Audience != "" {
		c.Audience = jwt.ClaimStrings{cfg.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(cfg.Secret)
}

// Config is how a process reads the token settings from the environment.
type Config struct {
	// Secret signs and checks HS256 tokens; at least 32 bytes.
	Secret string `env:"AUTH_TOKEN_SECRET"`
	// PublicKey (PEM, RSA or EC) checks RS256/ES256 tokens of an identity provider.
	PublicKey string `env:"AUTH_TOKEN_PUBLIC_KEY"`
	Issuer    string `env:"AUTH_TOKEN_ISSUER" envDefault:"complaintdesk"`
	Audience  string `env:"AUTH_TOKEN_AUDIENCE" envDefault:"complaints-api"`
	// MaxLifetime is the longest a staff token may be valid for.
	MaxLifetime time.Duration `env:"AUTH_TOKEN_MAX_LIFETIME" envDefault:"12h"`
	// OIDC is the organisation's OpenID provider (its access tokens, the
	// desk's sign-in).
	OIDC OIDCConfig
}

// Tokens is the configuration as a TokenConfig.
func (c Config) Tokens() TokenConfig {
	return TokenConfig{Secret: []byte(c.Secret), PublicKey: c.PublicKey, Issuer: c.Issuer, Audience: c.Audience,
		MaxLifetime: c.MaxLifetime}
}
