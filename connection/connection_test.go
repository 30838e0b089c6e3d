package connection

import (
	"reflect"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
)

type process struct {
	Config
	Own string `env:"OWN" envDefault:"x"`
}

func TestDefaultsAreTheDevelopmentServersAndTheDomainsQueue(t *testing.T) {
	cfg, err := ParseAs[process](map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	// INTERFACE.md: Temporal on 127.0.0.1:7233, namespace default, task queue
	// "complaints"; the dev database on 55432.
	if cfg.TemporalAddress != "127.0.0.1:7233" || cfg.TemporalNamespace != "default" || cfg.TaskQueue != "complaints" ||
		!strings.Contains(cfg.DatabaseURL, "127.0.0.1:55432") || cfg.Own != "x" {
		t.Errorf("defaults: %+v", cfg)
	}
	opts, err := cfg.ClientOptions(nil)
	if err != nil || opts.ConnectionOptions.TLS != nil {
		t.Errorf("TLS without being asked: %v %v", opts.ConnectionOptions.TLS, err)
	}
	// README, Configuration: requests to Temporal are not compressed
	// unless TEMPORAL_GRPC_COMPRESSION says gzip.
	if _, none := opts.ConnectionOptions.GrpcCompression.(*client.GrpcCompressionNone); !none {
		t.Errorf("compression by default: %T, want none", opts.ConnectionOptions.GrpcCompression)
	}
}

func TestCompressionIsNoneOrGzipAndAnythingElseIsRefusedAtStart(t *testing.T) {
	for value, want := range map[string]client.GrpcCompression{
		"none": &client.GrpcCompressionNone{}, "gzip": &client.GrpcCompressionGzip{},
	} {
		cfg, err := ParseAs[Config](map[string]string{"TEMPORAL_GRPC_COMPRESSION": value})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := cfg.ClientOptions(nil)
		if err != nil || reflect.TypeOf(opts.ConnectionOptions.GrpcCompression) != reflect.TypeOf(want) {
			t.Errorf("%s: %T %v", value, opts.ConnectionOptions.GrpcCompression, err)
		}
	}
	for _, bad := range []string{"zstd", "GZIP ", "true"} {
		cfg, err := ParseAs[Config](map[string]string{"TEMPORAL_GRPC_COMPRESSION": bad})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.ClientOptions(nil); err == nil || !strings.Contains(err.Error(), "TEMPORAL_GRPC_COMPRESSION") {
			t.Errorf("%q: want an error naming TEMPORAL_GRPC_COMPRESSION, got %v", bad, err)
		}
	}
}

func TestSettingsRoundTripThroughAChildsEnvironment(t *testing.T) {
	in := Config{TemporalAddress: "10.0.0.1:7233", TemporalNamespace: "prod", TaskQueue: "q2",
		DatabaseURL: "postgres://a@b/c", TLS: TLS{Enabled: true, ServerName: "temporal.internal"}, Compression: "gzip",
		Token: Token{URL: "https://login.example.com/oauth/token", ClientID: "complaintdesk-app", ClientSecret: "s3cret",
			Scopes: []string{"temporal", "openid"}}}
	env := map[string]string{}
	for _, kv := range in.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	out, err := ParseAs[Config](env)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("got %+v, want %+v", out, in)
	}
	opts, err := out.ClientOptions(nil)
	if err != nil || opts.ConnectionOptions.TLS == nil || opts.ConnectionOptions.TLS.ServerName != "temporal.internal" {
		t.Errorf("TLS: %+v %v", opts.ConnectionOptions.TLS, err)
	}
	if opts.Credentials == nil || opts.ConnectionOptions.TLSDisabled {
		t.Errorf("a token over TLS: credentials %v, TLS disabled %v", opts.Credentials, opts.ConnectionOptions.TLSDisabled)
	}
}

// A client id without where to get its token, or without its secret, is a
// configuration error at start, not a refused call later; a token to a
// frontend without TLS leaves TLS off (the SDK would turn it on).
func TestATokenNeedsItsEndpointAndSecret(t *testing.T) {
	for _, tok := range []Token{{ClientID: "app", ClientSecret: "s"}, {ClientID: "app", URL: "http://idp/token"}} {
		if _, err := (Config{Token: tok}).ClientOptions(nil); err == nil || !strings.Contains(err.Error(), "TEMPORAL_TOKEN_URL") {
			t.Errorf("%+v: %v", tok, err)
		}
	}
	opts, err := (Config{Token: Token{ClientID: "app", ClientSecret: "s", URL: "http://idp/token"}}).ClientOptions(nil)
	if err != nil || opts.Credentials == nil || !opts.ConnectionOptions.TLSDisabled {
		t.Errorf("plain frontend: %v, credentials %v, TLS disabled %v", err, opts.Credentials, opts.ConnectionOptions.TLSDisabled)
	}
}

func TestHalfAClientCertificateIsRefused(t *testing.T) {
	cfg := Config{TLS: TLS{CertFile: "client.pem"}}
	if _, err := cfg.ClientOptions(nil); err == nil || !strings.Contains(err.Error(), "TEMPORAL_TLS_KEY") {
		t.Errorf("a certificate without its key: %v", err)
	}
	if _, err := (Config{TLS: TLS{CAFile: "/nonexistent/ca.pem"}}).ClientOptions(nil); err == nil ||
		!strings.Contains(err.Error(), "TEMPORAL_TLS_CA") {
		t.Errorf("a missing CA file: %v", err)
	}
}
