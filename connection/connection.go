// Package connection holds the settings every process of the system needs
// to reach Temporal and the application's database — the API, the worker,
// complaintctl and the two launchers read the same variables with the same
// defaults, from one struct embedded in each one's configuration.
package connection

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/caarlos0/env/v11"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// Config is where Temporal and the database are, and how to reach Temporal
// over TLS. Embed it (without a prefix) in a process's configuration.
type Config struct {
	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	// TaskQueue defaults to complaint.TaskQueue (set by ParseAs: a struct
	// tag cannot name the constant).
	TaskQueue   string `env:"TASK_QUEUE"`
	DatabaseURL string `env:"DATABASE_URL" envDefault:"postgres://complaints:complaints@127.0.0.1:55432/complaints?sslmode=disable"`
	TLS         TLS
	Token       Token
	// Compression of requests to Temporal, and so of its replies: "none"
	// or "gzip" (the SDK's own default). The cases' payloads are encrypted
	// and do not compress; the rest of a request or a history does, at a
	// cost in CPU on both ends that a frontend on the same network does
	// not need to pay (see the README's Benchmarks).
	Compression string `env:"TEMPORAL_GRPC_COMPRESSION" envDefault:"none"`
}

// Token is how a process signs in to a Temporal frontend that checks JWTs
// (its authorizer and default claim mapper): the OAuth 2.0 client
// credentials grant at the organisation's provider, whose access token
// (with a "permissions" claim such as "default:write") goes with every
// call and is fetched again before it expires. Off unless ClientID is set.
type Token struct {
	// URL is the provider's token endpoint.
	URL          string   `env:"TEMPORAL_TOKEN_URL"`
	ClientID     string   `env:"TEMPORAL_CLIENT_ID"`
	ClientSecret string   `env:"TEMPORAL_CLIENT_SECRET"`
	Scopes       []string `env:"TEMPORAL_TOKEN_SCOPES" envSeparator:","`
}

// TLS to the Temporal frontend: off unless Enabled or a file is named.
type TLS struct {
	Enabled bool `env:"TEMPORAL_TLS"`
	// CAFile verifies the server (the system's roots when empty).
	CAFile string `env:"TEMPORAL_TLS_CA"`
	// CertFile and KeyFile are the client's certificate for mutual TLS.
	CertFile   string `env:"TEMPORAL_TLS_CERT"`
	KeyFile    string `env:"TEMPORAL_TLS_KEY"`
	ServerName string `env:"TEMPORAL_TLS_SERVER_NAME"`
}

// ParseAs reads a process's configuration (a struct embedding Config) from
// environ, or from the process's environment when environ is nil.
func ParseAs[T any](environ map[string]string) (T, error) {
	if environ == nil {
		environ = env.ToMap(os.Environ())
	}
	if _, set := environ["TASK_QUEUE"]; !set {
		environ = withDefault(environ, "TASK_QUEUE", complaint.TaskQueue)
	}
	return env.ParseAsWithOptions[T](env.Options{Environment: environ})
}

func withDefault(environ map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(environ)+1)
	for k, v := range environ {
		out[k] = v
	}
	out[key] = value
	return out
}

// ClientOptions are the Temporal client's options for these settings, with
// logger; callers add their codec and interceptors.
func (c Config) ClientOptions(logger log.Logger) (client.Options, error) {
	opts := client.Options{HostPort: c.TemporalAddress, Namespace: c.TemporalNamespace, Logger: logger}
	compression, err := Compression(c.Compression)
	if err != nil {
		return opts, err
	}
	opts.ConnectionOptions.GrpcCompression = compression
	cfg, err := c.TLS.config()
	if err != nil {
		return opts, err
	}
	opts.ConnectionOptions.TLS = cfg
	if c.Token.ClientID == "" {
		return opts, nil
	}
	if c.Token.URL == "" || c.Token.ClientSecret == "" {
		return opts, errors.New("TEMPORAL_CLIENT_ID needs TEMPORAL_TOKEN_URL and TEMPORAL_CLIENT_SECRET")
	}
	// The token source keeps the token until shortly before it expires.
	tokens := (&clientcredentials.Config{ClientID: c.Token.ClientID, ClientSecret: c.Token.ClientSecret,
		TokenURL: c.Token.URL, Scopes: c.Token.Scopes}).TokenSource(context.Background())
	opts.Credentials = client.NewAPIKeyDynamicCredentials(func(context.Context) (string, error) {
		t, err := tokens.Token()
		if err != nil {
			return "", fmt.Errorf("token for Temporal (TEMPORAL_TOKEN_URL): %w", err)
		}
		return t.AccessToken, nil
	})
	// The SDK turns TLS on with a token unless told otherwise: a frontend
	// without TLS (on loopback, or behind the cluster's own network) is
	// what TEMPORAL_TLS left unset says.
	opts.ConnectionOptions.TLSDisabled = cfg == nil
	return opts, nil
}

// CompressionVar names the compression setting, for the test harness and
// the bench, which hand it to the processes they start.
const CompressionVar = "TEMPORAL_GRPC_COMPRESSION"

// Compression is the SDK's option for a TEMPORAL_GRPC_COMPRESSION value;
// "" is the default, none. Clients built without a Config (the test
// harness's) take it from here, so that they compress as the system does.
func Compression(name string) (client.GrpcCompression, error) {
	switch name {
	case "", "none":
		return &client.GrpcCompressionNone{}, nil
	case "gzip":
		return &client.GrpcCompressionGzip{}, nil
	}
	return nil, fmt.Errorf("%s: %q is neither none nor gzip", CompressionVar, name)
}

func (t TLS) config() (*tls.Config, error) {
	if !t.Enabled && t.CAFile == "" && t.CertFile == "" && t.KeyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: no certificate in %s", t.CAFile)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Env is the settings as environment variables, for a child process (the
// launchers pass their servers' addresses to the worker and the API).
func (c Config) Env() []string {
	out := []string{
		"TEMPORAL_ADDRESS=" + c.TemporalAddress, "TEMPORAL_NAMESPACE=" + c.TemporalNamespace,
		"TASK_QUEUE=" + c.TaskQueue, "DATABASE_URL=" + c.DatabaseURL,
	}
	if c.Compression != "" {
		out = append(out, CompressionVar+"="+c.Compression)
	}
	if c.TLS.Enabled {
		out = append(out, "TEMPORAL_TLS=true")
	}
	for k, v := range map[string]string{"TEMPORAL_TLS_CA": c.TLS.CAFile, "TEMPORAL_TLS_CERT": c.TLS.CertFile,
		"TEMPORAL_TLS_KEY": c.TLS.KeyFile, "TEMPORAL_TLS_SERVER_NAME": c.TLS.ServerName,
		"TEMPORAL_TOKEN_URL": c.Token.URL, "TEMPORAL_CLIENT_ID": c.Token.ClientID,
		"TEMPORAL_CLIENT_SECRET": c.Token.ClientSecret, "TEMPORAL_TOKEN_SCOPES": strings.Join(c.Token.Scopes, ",")} {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}
