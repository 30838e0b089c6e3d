package idp

import (
	"context"
	"errors"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// AccessToken signs user in with client c's authorization code flow (with
// PKCE) as a browser would, and returns the access token the client gets:
// how the production form hands an operator a token for the Temporal CLI,
// and how tests hold a staff member's token.
func AccessToken(ctx context.Context, issuer string, c Client, user, password string) (string, error) {
	if len(c.RedirectURIs) == 0 {
		return "", errors.New("client " + c.ID + " has no redirect address")
	}
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return "", err
	}
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: provider.Endpoint(),
		RedirectURL: c.RedirectURIs[0], Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	verifier := oauth2.GenerateVerifier()
	back, err := SignIn(ctx, http.DefaultClient, conf.AuthCodeURL("cli", oauth2.S256ChallengeOption(verifier)), user, password)
	if err != nil {
		return "", err
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}
