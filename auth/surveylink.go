package auth

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// surveyAudience keeps a survey token from being taken for any other token
// signed with the same secret.
const surveyAudience = "complaint-survey"

// SurveyLinks signs and checks the link in a survey invitation: it names
// the case and the round, says that its customer is the one who may answer
// (staff enter answers through the API as themselves), and expires when the
// survey does.
type SurveyLinks struct {
	Secret []byte
	// BaseURL is the public address of the API (https://complaints.example.com).
	BaseURL string
}

// SurveyClaims are what a survey link carries; nothing personal.
type SurveyClaims struct {
	Round    int    `json:"round"`
	Language string `json:"lang,omitempty"`
	// Answerer is who may answer with the link: the case's customer.
	Answerer string `json:"answerer"`
	jwt.RegisteredClaims
}

// AnswererCustomer is the one answerer a survey link names.
const AnswererCustomer = "customer"

// MinSecretLength is the least a secret that signs links or webhooks may
// have: 256 bits, as HS256 wants.
const MinSecretLength = 32

// CheckSecret refuses a secret shorter than MinSecretLength; what names the
// setting in the error.
func CheckSecret(what, secret string) error {
	if len(secret) < MinSecretLength {
		return fmt.Errorf("%s must have at least %d bytes (has %d)", what, MinSecretLength, len(secret))
	}
	return nil
}

// Reference is the case the link answers for.
func (c SurveyClaims) Reference() string { return c.Subject }

// Enabled tells whether links can be made: without a secret, invitations
// go out without one.
func (l SurveyLinks) Enabled() bool { return len(l.Secret) > 0 && l.BaseURL != "" }

// Link is the survey page's address for one case and round.
func (l SurveyLinks) Link(reference string, round int, language string, issued, expires time.Time) (string, error) {
	token, err := l.Token(reference, round, language, issued, expires)
	if err != nil {
		return "", err
	}
	return l.BaseURL + "/survey?t=" + url.QueryEscape(token), nil
}

// Token signs the claims of one case and round.
func (l SurveyLinks) Token(reference string, round int, language string, issued, expires time.Time) (string, error) {
	claims := SurveyClaims{Round: round, Language: language, Answerer: AnswererCustomer, RegisteredClaims: jwt.RegisteredClaims{
		Subject: reference, Audience: jwt.ClaimStrings{surveyAudience},
		IssuedAt: jwt.NewNumericDate(issued), ExpiresAt: jwt.NewNumericDate(expires),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(l.Secret)
	if err != nil {
		return "", fmt.Errorf("sign survey link: %w", err)
	}
	return s, nil
}

// ErrSurveyLinkExpired is a genuine link whose survey has closed.
var ErrSurveyLinkExpired = errors.New("the survey link has expired")

// Parse checks a token from a link: signed by us, for a survey, not expired.
func (l SurveyLinks) Parse(token string, now time.Time) (SurveyClaims, error) {
	var c SurveyClaims
	if len(l.Secret) == 0 {
		return c, errors.New("survey links are not configured (SURVEY_LINK_SECRET)")
	}
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return l.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithAudience(surveyAudience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return c, ErrSurveyLinkExpired
	case err != nil:
		return c, fmt.Errorf("not a valid survey link: %w", err)
	case c.Subject == "" || c.Round < 1:
		return c, errors.New("not a valid survey link: no case named")
	// Links signed before the claim existed went to customers only.
	case c.Answerer != "" && c.Answerer != AnswererCustomer:
		return c, errors.New("not a valid survey link: it names no customer to answer")
	}
	return c, nil
}
