package devenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"text/template"
)

// WebUI is Temporal's Web UI server (github.com/temporalio/ui-server), the
// UI the dev server embeds, here pointed at a Temporal cluster.
type WebUI struct {
	Binary          string // ui-server
	Dir             string // where its configuration goes
	IP              string
	Port            int
	TemporalAddress string // the frontend's host:port
	Namespace       string
	// CodecEndpoint, when set, is the codec server that decodes the
	// payloads the UI shows (the API's /codec, with its credential).
	CodecEndpoint string
	// SignIn, when set, makes the UI sign its users in at an OpenID
	// provider; their access token then goes with every call to the
	// Temporal frontend (whose authorizer decides) and to the codec server.
	SignIn *UISignIn
	Log    io.Writer
}

// UISignIn is the UI's client at the OpenID provider.
type UISignIn struct {
	Issuer, ClientID, ClientSecret string
}

// URL is where the UI answers.
func (u WebUI) URL() string { return fmt.Sprintf("http://%s:%d", u.IP, u.Port) }

// The UI server reads <root>/<config>/<env>.yaml; ours holds only what
// differs from its built-in defaults. The browser's origin is the UI's own
// address, under both names of the loopback interface.
var uiConfig = template.Must(template.New("ui").Parse(`# Written by devenv (WebUI.Start) on every start; edits are lost.
temporalGrpcAddress: {{printf "%q" .TemporalAddress}}
host: {{printf "%q" .IP}}
port: {{.Port}}
enableUi: true
defaultNamespace: {{printf "%q" .Namespace}}
showTemporalSystemNamespace: false
disableNewsFetch: true
notifyOnNewVersion: false
refreshInterval: 0s
cors:
  cookieInsecure: true
  allowOrigins:
    - "http://{{.IP}}:{{.Port}}"
    - "http://localhost:{{.Port}}"
{{- with .SignIn}}
auth:
  enabled: true
  maxSessionDuration: 10h
  providers:
    - label: "Sign in"
      type: oidc
      providerUrl: {{printf "%q" .Issuer}}
      issuerUrl: {{printf "%q" .Issuer}}
      clientId: {{printf "%q" .ClientID}}
      clientSecret: {{printf "%q" .ClientSecret}}
      callbackUrl: {{printf "%q" $.CallbackURL}}
      scopes: [openid, profile, email]
{{- else}}
auth:
  enabled: false
{{- end}}
{{- if .CodecEndpoint}}
codec:
  endpoint: {{printf "%q" .CodecEndpoint}}
  passAccessToken: {{if .SignIn}}true{{else}}false{{end}}
{{- end}}
`))

// CallbackURL is where the provider sends the UI's users back.
func (u WebUI) CallbackURL() string { return u.URL() + "/auth/sso/callback" }

// Start writes the configuration, runs the UI server and waits for its
// /healthz.
func (u WebUI) Start(ctx context.Context) (*Process, error) {
	cfgDir := filepath.Join(u.Dir, "ui-config")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(cfgDir, "complaintdesk.yaml"))
	if err != nil {
		return nil, err
	}
	err = uiConfig.Execute(f, u)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the UI's configuration: %w", err)
	}
	cmd := exec.Command(u.Binary, "--root", u.Dir, "--config", "ui-config", "--env", "complaintdesk", "start")
	proc, err := start("temporal-ui", cmd, u.Log)
	if err != nil {
		return nil, err
	}
	if err := WaitHTTP(ctx, proc, u.URL()+"/healthz"); err != nil {
		proc.Kill()
		return nil, err
	}
	return proc, nil
}
