package devenv

import (
	"context"
	"fmt"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"go.temporal.io/sdk/client"

	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/devenv/idp"
)

// Clients of the production form's provider besides the desk, the Temporal
// UI and the applications (idp's constants): the installer that registers
// the namespace and search attributes.
const installerClientID = "complaintdesk-installer"

// prodSignIn is how the form's parts sign in at its provider.
type prodSignIn struct {
	jwks   string             // the provider's keys, for Temporal's claim mapper
	admin  client.Credentials // the installer's, for the namespace and search attributes
	ui     UISignIn
	app    connection.Token // the workers' and API replicas' towards Temporal
	appEnv []string         // the desk's client and the audiences the API accepts
}

// startIDP serves the form's OpenID provider with the staff of the options
// and one client for each part: the desk (behind nginx), the Temporal UI,
// the applications (client credentials, "<namespace>:write": start, signal,
// update, query and poll) and the installer ("temporal-system:admin").
// Client secrets are made anew at each start.
func (p *Prod) startIDP(ctx context.Context) (prodSignIn, error) {
	o := p.opts
	users := o.Staff
	if len(users) == 0 {
		var err error
		if users, err = idp.DevUsers(); err != nil {
			return prodSignIn{}, err
		}
	}
	secrets := make([]string, 4)
	for i := range secrets {
		var err error
		if secrets[i], err = randomSecret(); err != nil {
			return prodSignIn{}, err
		}
	}
	apiURL := fmt.Sprintf("http://127.0.0.1:%d", o.Ports.API)
	ui := WebUI{IP: "127.0.0.1", Port: o.Ports.UI}
	p.Staff = idp.Directory{Users: users, Clients: []idp.Client{
		{ID: idp.DeskClientID, Secret: secrets[0], RedirectURIs: []string{apiURL + "/desk/auth/callback"},
			PostLogoutRedirectURIs: []string{apiURL + "/desk/signed-out"}},
		{ID: idp.TemporalUIClientID, Secret: secrets[1], RedirectURIs: []string{ui.CallbackURL()}},
		{ID: idp.ServiceClientID, Secret: secrets[2], Service: true, Permissions: []string{o.Namespace + ":write"}},
		{ID: installerClientID, Secret: secrets[3], Service: true, Permissions: []string{"temporal-system:admin"}},
	}}
	ln, issuer, err := idp.Listen(fmt.Sprintf("127.0.0.1:%d", o.Ports.IDP))
	if err != nil {
		return prodSignIn{}, err
	}
	if p.IDP, err = idp.Start(ln, issuer, p.Staff, idp.Options{}); err != nil {
		_ = ln.Close()
		return prodSignIn{}, err
	}
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return prodSignIn{}, err
	}
	var discovery struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := provider.Claims(&discovery); err != nil {
		return prodSignIn{}, err
	}
	token := func(id string) connection.Token {
		c, _ := p.Staff.Client(id)
		return connection.Token{URL: provider.Endpoint().TokenURL, ClientID: c.ID, ClientSecret: c.Secret}
	}
	installer, err := connection.Config{Token: token(installerClientID)}.ClientOptions(nil)
	if err != nil {
		return prodSignIn{}, err
	}
	desk, _ := p.Staff.Client(idp.DeskClientID)
	uiClient, _ := p.Staff.Client(idp.TemporalUIClientID)
	p.signIn = prodSignIn{
		jwks:  discovery.JWKS,
		admin: installer.Credentials,
		ui:    UISignIn{Issuer: issuer, ClientID: uiClient.ID, ClientSecret: uiClient.Secret},
		app:   token(idp.ServiceClientID),
		appEnv: []string{"OIDC_ISSUER=" + issuer, "OIDC_CLIENT_ID=" + desk.ID, "OIDC_CLIENT_SECRET=" + desk.Secret,
			// The codec server takes the Temporal UI's users' tokens too.
			"OIDC_AUDIENCES=" + strings.Join([]string{desk.ID, uiClient.ID}, ",")},
	}
	return p.signIn, nil
}

// Installer is the credential of the form's installer at Temporal's
// frontend ("temporal-system:admin"), for tools and tests that act on the
// cluster as a whole.
func (p *Prod) Installer() client.Credentials { return p.signIn.admin }

// AccessToken signs a staff member of the form's provider in through the
// Temporal UI's client and returns their access token: what the UI sends to
// Temporal's frontend and the codec server for them, and what an operator
// gives the Temporal CLI (--api-key).
func (p *Prod) AccessToken(ctx context.Context, username string) (string, error) {
	u, ok := p.Staff.User(username)
	if !ok {
		return "", fmt.Errorf("no staff member %q at the provider", username)
	}
	c, _ := p.Staff.Client(idp.TemporalUIClientID)
	return idp.AccessToken(ctx, p.IDP.Issuer(), c, u.Username, u.Password)
}
