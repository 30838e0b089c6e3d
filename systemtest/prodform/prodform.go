// Package prodform runs the production form for tests: Temporal's server on
// PostgreSQL with its Web UI, the application's PostgreSQL, two workers and
// two API replicas (bin/worker, bin/api) behind nginx, every port free, the
// data in a temporary folder. The fault tests kill its processes one by one
// through Form.Process; the form's supervision (the same as `make prod`'s)
// starts them again, and Form.WaitRunning waits for that.
package prodform

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
	"github.com/complaintdesk/complaintdesk/store"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// Form is a running production form.
type Form struct {
	*devenv.Prod
	ServerVersion string // the Temporal server's release, from deploy/versions.env
	Dir           string
	Client        client.Client // to the Temporal server, namespace default, with the codec
	Store         *store.Store  // the application's database
	Keys          *codec.Keyring
	// Mailbox receives the workers' email.
	Mailbox *mailbox.Server
	// AdminToken and APIKey (system "dev-shop") are working credentials for
	// the API.
	AdminToken, APIKey string
	// StaffToken is a supervisor's who handles no case: survey answers are
	// entered with it (nobody who handled a case rates it).
	StaffToken string

	logs []*os.File
}

// Options choose the form's size and the applications' environment.
type Options struct {
	Workers, APIs int // 2 each when zero
	// HistoryShards of the new cluster; 4 when zero, which is enough for a
	// test and starts faster on two cores than make prod's 16.
	HistoryShards int
	AppEnv        []string // for the workers and API replicas, e.g. SURVEY_DELAY=2s
	// Log, when set, also receives every process's output (os.Stderr to
	// watch); each process's output is kept in Dir/logs/<name>.log.
	Log io.Writer
}

// Start brings a production form up on free ports; Stop takes it down and
// removes its data.
func Start(ctx context.Context, o Options) (f *Form, err error) {
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.APIs == 0 {
		o.APIs = 2
	}
	if o.HistoryShards == 0 {
		o.HistoryShards = 4
	}
	root := systemtest.RepoRoot()
	bin := filepath.Join(root, "bin")
	versionsFile := filepath.Join(root, "deploy", "versions.env")
	tools, err := devenv.ProdToolsIn(bin, versionsFile)
	if err != nil {
		return nil, err
	}
	versions, err := devenv.ReadVersions(versionsFile)
	if err != nil {
		return nil, err
	}
	for _, app := range []string{"worker", "api"} {
		if _, err := os.Stat(filepath.Join(bin, app)); err != nil {
			return nil, fmt.Errorf("%w: `make build` builds bin/%s", err, app)
		}
	}
	ports, err := devenv.FreeProdPorts(o.Workers, o.APIs)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "complaints-prodform-")
	if err != nil {
		return nil, err
	}
	f = &Form{Dir: dir, ServerVersion: versions["TEMPORAL_VERSION"]}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		return f, err
	}
	defer func() {
		if err != nil {
			f.Stop()
			f = nil
		}
	}()
	secrets, err := devenv.NewSecrets()
	if err != nil {
		return f, err
	}
	// Held apart from the start's deadline: the mailbox lives as long as the form.
	f.Mailbox, err = mailbox.Start(context.WithoutCancel(ctx), "127.0.0.1:0", "", "",
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return f, err
	}
	smtpHost, smtpPort, err := net.SplitHostPort(f.Mailbox.SMTPAddr())
	if err != nil {
		return f, err
	}
	mail := []string{"SMTP_HOST=" + smtpHost, "SMTP_PORT=" + smtpPort, "SMTP_TLS=none"}
	f.Prod, err = devenv.StartProd(ctx, devenv.ProdOptions{
		Dir: dir, Tools: tools, AppBinDir: bin,
		DynamicConfig: filepath.Join(root, "deploy", "temporal", "dynamicconfig", "development-sql.yaml"),
		Ports:         ports, HistoryShards: o.HistoryShards, Namespace: "default", Ephemeral: true,
		AppEnv: slices.Concat([]string{"LOG_LEVEL=warn", "RATE_LIMIT=0"}, mail, secrets.Env(), o.AppEnv),
		Log:    f.logTo(o.Log),
	})
	if err != nil {
		return f, err
	}
	if f.Store, err = store.Open(ctx, f.AppDB.DSN()); err != nil {
		return f, err
	}
	if f.Keys, err = codec.Open(context.WithoutCancel(ctx), codec.Config{MasterKeys: secrets.MasterKeys}, f.Store); err != nil {
		return f, err
	}
	creds, err := devenv.MakeCredentials(ctx, f.Store, secrets, "", auth.DefaultMaxLifetime)
	if err != nil {
		return f, err
	}
	f.AdminToken, f.APIKey, f.StaffToken = creds.AdminToken, creds.APIKey, creds.StaffToken
	// The test acts on the cluster as its installer: the frontend checks
	// tokens. It compresses as the form's processes do: they have this
	// process's environment, then AppEnv.
	compression, err := connection.Compression(lastSetting(connection.CompressionVar, os.Environ(), o.AppEnv))
	if err != nil {
		return f, err
	}
	if f.Client, err = client.DialContext(ctx, codec.ClientOptions(client.Options{
		HostPort: f.Server.Address(), Namespace: "default", Logger: quiet{}, Credentials: f.Installer(),
		ConnectionOptions: client.ConnectionOptions{TLSDisabled: true, GrpcCompression: compression},
	}, f.Keys)); err != nil {
		return f, err
	}
	return f, nil
}

func (f *Form) logTo(also io.Writer) func(string) io.Writer {
	return func(name string) io.Writer {
		// Appended to: a process started again keeps its earlier output.
		file, err := os.OpenFile(filepath.Join(f.Dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return also // the form runs; only this log is lost
		}
		f.logs = append(f.logs, file)
		if also == nil {
			return file
		}
		return io.MultiWriter(file, also)
	}
}

// LogTail is the end of a process's output, for a failing test's message.
func (f *Form) LogTail(name string, max int64) string {
	file, err := os.Open(filepath.Join(f.Dir, "logs", name+".log"))
	if err != nil {
		return err.Error()
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return err.Error()
	}
	buf := make([]byte, min(max, info.Size()))
	if _, err := file.ReadAt(buf, info.Size()-int64(len(buf))); err != nil && err != io.EOF {
		return err.Error()
	}
	return string(buf)
}

// Stop ends every process and removes the data.
func (f *Form) Stop() error {
	if f.Client != nil {
		f.Client.Close()
	}
	if f.Store != nil {
		f.Store.Close()
	}
	var err error
	if f.Prod != nil {
		err = f.Prod.Stop()
	}
	if f.Mailbox != nil {
		f.Mailbox.Close() // after the workers, which may be sending
	}
	for _, file := range f.logs {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if rerr := os.RemoveAll(f.Dir); err == nil {
		err = rerr
	}
	return err
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}

// lastSetting is the value the last of the environments gives key ("" if
// none does), as a process started with them in that order sees it.
func lastSetting(key string, environs ...[]string) string {
	value := ""
	for _, env := range environs {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, key+"="); ok {
				value = v
			}
		}
	}
	return value
}
