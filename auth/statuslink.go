package auth

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// statusAudience keeps a status token from being taken for a survey link
// or a staff token signed with the same secret.
const statusAudience = "complaint-status"

// StatusLinks signs and checks the link to a case's status page, sent in
// every message to the customer: whoever holds it is the customer of that
// case, and nothing more, until it expires.
type StatusLinks struct {
	Secret []byte
	// BaseURL is the public address of the API.
	BaseURL string
}

// StatusClaims are what a status link carries; nothing personal.
type StatusClaims struct {
	Language string `json:"lang,omitempty"`
	jwt.RegisteredClaims
}

// Reference is the case the link shows.
func (c StatusClaims) Reference() string { return c.Subject }

// Enabled tells whether links can be made.
func (l StatusLinks) Enabled() bool { return len(l.Secret) > 0 && l.BaseURL != "" }

// Link is the status page's address of one case.
func (l StatusLinks) Link(reference, language string, issued, expires time.Time) (string, error) {
	token, err := l.Token(reference, language, issued, expires)
	if err != nil {
		return "", err
	}
	return l.BaseURL + "/status?t=" + url.QueryEscape(token), nil
}

// Token signs a status link's claims.
func (l StatusLinks) Token(reference, language string, issued, expires time.Time) (string, error) {
	claims := StatusClaims{Language: language, RegisteredClaims: jwt.RegisteredClaims{
		Subject: reference, Audience: jwt.ClaimStrings{statusAudience},
		IssuedAt: jwt.NewNumericDate(issued), ExpiresAt: jwt.NewNumericDate(expires),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(l.key())
	if err != nil {
		return "", fmt.Errorf("sign status link: %w", err)
	}
	return s, nil
}

// key is the link secret under a key of the status page's own.
func (l StatusLinks) key() []byte { return derive(l.Secret, "complaintdesk status link") }

// ErrStatusLinkExpired is a genuine link past its time.
var ErrStatusLinkExpired = errors.New("the status link has expired")

// Parse checks a status token: ours, for a status page, not expired.
func (l StatusLinks) Parse(token string, now time.Time) (StatusClaims, error) {
	var c StatusClaims
	if len(l.Secret) == 0 {
		return c, errors.New("status links are not configured (CUSTOMER_LINK_SECRET)")
	}
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return l.key(), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithAudience(statusAudience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return c, ErrStatusLinkExpired
	case err != nil:
		return c, fmt.Errorf("not a valid status link: %w", err)
	case c.Subject == "":
		return c, errors.New("not a valid status link: no case named")
	}
	return c, nil
}
