package idp_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/devenv/idp"
)

// The provider serves the authorization code flow with PKCE to a
// confidential client, as the desk uses it; the API's verifier accepts its
// access tokens, maps roles and departments from the claims, and keeps
// accepting them after the provider rotates its signing key.
func TestCodeFlowWithPKCEAndKeyRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const redirect = "http://127.0.0.1:1/desk/auth/callback" // never called: the test reads the code from the redirect
	dir := idp.Directory{
		Users: []idp.User{
			{Username: "wang.wei", Password: "pw-wang", Roles: []string{"department"}, Departments: []string{"logistics"}},
			{Username: "li.na", Password: "pw-li", Roles: []string{"agent", "supervisor"}},
		},
		Clients: []idp.Client{{ID: "complaint-desk", Secret: "desk-secret", RedirectURIs: []string{redirect}}},
	}
	p, provider := serve(ctx, t, dir)
	issuer := p.Issuer()
	conf := oauth2.Config{ClientID: "complaint-desk", ClientSecret: "desk-secret", Endpoint: provider.Endpoint(),
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	api := auth.NewOIDC(auth.OIDCConfig{Issuer: issuer, ClientID: "complaint-desk"}, auth.DefaultMaxLifetime)

	signIn := func(user, password string) (*oauth2.Token, error) {
		verifier := oauth2.GenerateVerifier()
		authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))
		back, err := idp.SignIn(ctx, http.DefaultClient, authURL, user, password)
		if err != nil {
			return nil, err
		}
		if back.Query().Get("state") != "state-1" {
			t.Fatalf("state %q", back.Query().Get("state"))
		}
		return conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	}

	tok, err := signIn("wang.wei", "pw-wang")
	if err != nil {
		t.Fatal(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "complaint-desk"}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != "nonce-1" {
		t.Errorf("nonce %q", idt.Nonce)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	if id, err := (auth.ClaimMapping{}).Identity(claims); err != nil || id.Role != auth.RoleDepartment || !id.InDepartment("logistics") || id.Subject != "wang.wei" {
		t.Errorf("ID token's identity: %+v, %v", id, err)
	}
	if !api.IssuedHere(tok.AccessToken) {
		t.Fatal("the access token does not name the provider as issuer")
	}
	id, err := api.Verify(ctx, tok.AccessToken)
	if err != nil || id.Role != auth.RoleDepartment || id.Subject != "wang.wei" {
		t.Fatalf("access token: %+v, %v", id, err)
	}

	// A token valid for longer than the API's cap is refused (the
	// provider's tokens last 10 h).
	if _, err := auth.NewOIDC(auth.OIDCConfig{Issuer: issuer, ClientID: "complaint-desk"}, time.Hour).Verify(ctx, tok.AccessToken); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("a 10-hour token under a 1-hour cap: %v", err)
	}
	// Wrong password: no code.
	if _, err := signIn("wang.wei", "nope"); err == nil {
		t.Error("a wrong password signed in")
	}
	// A code is good once, and only with its verifier (PKCE).
	verifier := oauth2.GenerateVerifier()
	back, err := idp.SignIn(ctx, http.DefaultClient, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "li.na", "pw-li")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Error("a code was exchanged with the wrong PKCE verifier")
	}

	// Rotation: a token signed by the new key is accepted (the verifier
	// fetches the JWKS again), and the old one still is.
	if err := p.RotateKey(); err != nil {
		t.Fatal(err)
	}
	tok2, err := signIn("li.na", "pw-li")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := api.Verify(ctx, tok2.AccessToken)
	if err != nil || id2.Role != auth.RoleSupervisor {
		t.Fatalf("after rotation (the most senior role counts): %+v, %v", id2, err)
	}
	if _, err := api.Verify(ctx, tok.AccessToken); err != nil {
		t.Errorf("the token of the previous key: %v", err)
	}
	// Another audience is refused.
	other := auth.NewOIDC(auth.OIDCConfig{Issuer: issuer, Audiences: []string{"another-app"}}, auth.DefaultMaxLifetime)
	if _, err := other.Verify(ctx, tok2.AccessToken); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("another audience: %v", err)
	}
}

// A service client (a worker, the API) signs in as itself with the client
// credentials grant and its token carries the permissions Temporal's claim
// mapper reads; a people's client cannot use the grant, nor a wrong secret.
// Of the staff, only operators and admins hold Temporal permissions.
func TestServiceClientsAndTemporalPermissions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := idp.Directory{Clients: []idp.Client{
		{ID: "complaint-desk", Secret: "desk-secret", RedirectURIs: []string{"http://127.0.0.1:1/cb"}},
		{ID: "complaintdesk-app", Secret: "app-secret", Service: true, Permissions: []string{"default:write"}},
	}}
	_, provider := serve(ctx, t, dir)
	grant := func(id, secret string) (*oauth2.Token, error) {
		return (&clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: provider.Endpoint().TokenURL}).Token(ctx)
	}
	tok, err := grant("complaintdesk-app", "app-secret")
	if err != nil {
		t.Fatal(err)
	}
	verified, err := provider.Verifier(&oidc.Config{ClientID: "complaintdesk-app"}).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("the service token is not a JWT the provider's keys verify: %v", err)
	}
	var claims struct {
		Sub         string   `json:"sub"`
		Permissions []string `json:"permissions"`
	}
	if err := verified.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != "complaintdesk-app" || !slices.Equal(claims.Permissions, []string{"default:write"}) {
		t.Errorf("service token: %+v", claims)
	}
	if _, err := grant("complaint-desk", "desk-secret"); err == nil {
		t.Error("the desk's client signed in as itself")
	}
	if _, err := grant("complaintdesk-app", "wrong"); err == nil {
		t.Error("a wrong secret was taken")
	}

	for _, c := range []struct {
		roles []string
		want  []string
	}{
		{[]string{"operator"}, []string{"prod:admin"}},
		{[]string{"admin"}, []string{"temporal-system:admin"}},
		{[]string{"agent", "supervisor", "manager", "director", "department"}, nil},
	} {
		if got := idp.TemporalPermissions(c.roles, "prod"); !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.roles, got, c.want)
		}
	}
}

// serve starts a provider with dir on a free port, closed when the test
// ends, and reads its discovery document.
func serve(ctx context.Context, t *testing.T, dir idp.Directory) (*idp.Provider, *oidc.Provider) {
	t.Helper()
	ln, issuer, err := idp.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := idp.Start(ln, issuer, dir, idp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return p, provider
}
