// Command devstack is `make dev`: it brings up the whole system on this
// machine — a private PostgreSQL, the Temporal dev server with its Web UI,
// the worker and the API — waits until each is healthy, and on Ctrl-C stops
// everything it started, last started first. Data stays in DEV_DIR, so the
// next start finds the same cases.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
	"github.com/complaintdesk/complaintdesk/store"
)

type config struct {
	Dir          string `env:"DEV_DIR" envDefault:".dev"`
	BinDir       string `env:"BIN_DIR" envDefault:"bin"`
	PostgresPort int    `env:"POSTGRES_PORT" envDefault:"55432"`
	TemporalIP   string `env:"TEMPORAL_IP" envDefault:"127.0.0.1"`
	TemporalPort int    `env:"TEMPORAL_PORT" envDefault:"7233"`
	UIPort       int    `env:"TEMPORAL_UI_PORT" envDefault:"8233"`
	APIAddr      string `env:"API_ADDR" envDefault:"127.0.0.1:8080"`
	WorkerAddr   string `env:"WORKER_HTTP_ADDR" envDefault:"127.0.0.1:9090"`
	Namespace    string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	SMTPAddr     string `env:"MAILBOX_SMTP_ADDR" envDefault:"127.0.0.1:1025"`
	MailboxHTTP  string `env:"MAILBOX_HTTP_ADDR" envDefault:"127.0.0.1:8025"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

type stack struct {
	procs []*devenv.Process
}

func (s *stack) add(p *devenv.Process) { s.procs = append(s.procs, p) }

func (s *stack) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		fmt.Printf("stopping %s\n", p.Name)
		if err := p.Stop(20 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

func run() error {
	cfg, err := env.ParseAs[config]()
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return err
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	var s stack
	defer s.stop()

	startCtx, startDone := context.WithTimeout(ctx, 3*time.Minute)
	defer startDone()

	pg := devenv.Postgres{
		Dir: filepath.Join(dir, "postgres"), Port: cfg.PostgresPort,
		User: "complaints", Password: "complaints", Database: "complaints", Log: logFile(logs, "postgres"),
	}
	step("PostgreSQL", fmt.Sprintf("127.0.0.1:%d", cfg.PostgresPort))
	proc, err := pg.Start(startCtx)
	if err != nil {
		return err
	}
	s.add(proc)
	if err := store.Migrate(startCtx, pg.DSN()); err != nil {
		return err
	}
	secrets, creds, err := credentials(startCtx, dir, pg.DSN())
	if err != nil {
		return err
	}

	tp := devenv.Temporal{
		Binary: filepath.Join(cfg.BinDir, "temporal"), DBFile: filepath.Join(dir, "temporal.db"),
		IP: cfg.TemporalIP, Port: cfg.TemporalPort, UIPort: cfg.UIPort, Namespace: cfg.Namespace,
		Log: logFile(logs, "temporal"),
		// The UI decodes the cases' payloads with the API's codec server,
		// as an operator: the dev server's UI has no login of its own.
		CodecEndpoint: "http://" + cfg.APIAddr + "/codec/k/" + creds.CodecToken,
	}
	step("Temporal dev server", tp.Address())
	if proc, err = tp.Start(startCtx); err != nil {
		return err
	}
	s.add(proc)

	// The mailbox keeps every email the worker sends, as .eml files too.
	step("mailbox (SMTP)", cfg.SMTPAddr)
	mb, err := mailbox.Start(ctx, cfg.SMTPAddr, cfg.MailboxHTTP, filepath.Join(dir, "mail"),
		slog.New(slog.NewTextHandler(logFile(logs, "mailbox"), nil)))
	if err != nil {
		return err
	}
	defer mb.Close()
	smtpHost, smtpPort, err := net.SplitHostPort(mb.SMTPAddr())
	if err != nil {
		return err
	}
	appEnv := append(os.Environ(),
		"TEMPORAL_ADDRESS="+tp.Address(), "TEMPORAL_NAMESPACE="+cfg.Namespace, "DATABASE_URL="+pg.DSN(),
		"WORKER_HTTP_ADDR="+cfg.WorkerAddr, "API_ADDR="+cfg.APIAddr,
		"SMTP_HOST="+smtpHost, "SMTP_PORT="+smtpPort, "SMTP_TLS=none", "STAFF_MAIL_DOMAIN=staff.complaintdesk.local",
		"PUBLIC_URL=http://"+cfg.APIAddr, "DEV_MAILBOX_URL=http://"+mb.HTTPAddr(),
		// A rebuilt worker is the version meant to run: it takes over the
		// open cases at their next task.
		"WORKER_PROMOTE=always",
		"CASE_LINK_BASE="+tp.UIURL()+"/namespaces/"+cfg.Namespace+"/workflows/",
		fmt.Sprintf("CODEC_CORS_ORIGINS=%s,http://localhost:%d", tp.UIURL(), cfg.UIPort))
	appEnv = append(appEnv, secrets.Env()...)
	for _, app := range []struct{ name, health string }{
		{"worker", "http://" + cfg.WorkerAddr + "/healthz"},
		{"api", "http://" + cfg.APIAddr + "/readyz"},
	} {
		step(app.name, app.health)
		cmd := exec.Command(filepath.Join(cfg.BinDir, app.name))
		cmd.Env = appEnv
		if proc, err = devenv.StartProcess(app.name, cmd, io.MultiWriter(os.Stderr, logFile(logs, app.name))); err != nil {
			return err
		}
		s.add(proc)
		if err := devenv.WaitHTTP(startCtx, proc, app.health); err != nil {
			return err
		}
	}
	startDone()

	fmt.Printf(`
The complaint system is up.
  API          http://%s   (OpenAPI: /openapi.json, docs: /docs)
  Temporal UI  %s
  Temporal     %s, namespace %s
  PostgreSQL   %s
  Mailbox      SMTP %s; what it received: http://%s/messages and %s
  Logs         %s

Credentials (also in %s; both kinds go as Authorization: Bearer ...):
  API_KEY=%s        (upstream system dev-shop)
  STAFF_TOKEN=%s    (supervisor dev.supervisor)
  ADMIN_TOKEN=%s    (admin dev.admin)
More: bin/complaintctl token -sub NAME -role ROLE, with AUTH_TOKEN_SECRET from %s.
Press Ctrl-C to stop everything.
`, cfg.APIAddr, tp.UIURL(), tp.Address(), cfg.Namespace, pg.DSN(), mb.SMTPAddr(), mb.HTTPAddr(),
		filepath.Join(dir, "mail"), logs,
		filepath.Join(dir, "credentials.env"), creds.APIKey, creds.StaffToken, creds.AdminToken,
		filepath.Join(dir, "secrets.env"))

	select {
	case <-ctx.Done():
		fmt.Println("\nshutting down")
		return nil
	case name := <-firstExit(s.procs):
		return fmt.Errorf("%s stopped unexpectedly; see %s", name, logs)
	}
}

// credentials loads (or makes) the installation's secrets and writes
// working credentials to DEV_DIR/credentials.env; the tokens last as long
// as a staff token may (auth.DefaultMaxLifetime): a new start mints new ones.
func credentials(ctx context.Context, dir, dsn string) (devenv.Secrets, devenv.Credentials, error) {
	secrets, err := devenv.LoadSecrets(filepath.Join(dir, "secrets.env"))
	if err != nil {
		return secrets, devenv.Credentials{}, err
	}
	creds, err := devenv.WriteCredentials(ctx, dsn, filepath.Join(dir, "credentials.env"), secrets, auth.DefaultMaxLifetime)
	return secrets, creds, err
}

func step(what, where string) { fmt.Printf("starting %-20s %s\n", what, where) }

func firstExit(procs []*devenv.Process) <-chan string {
	ch := make(chan string, len(procs))
	for _, p := range procs {
		go func() {
			<-p.Done()
			ch <- p.Name
		}()
	}
	return ch
}

func logFile(dir, name string) io.Writer {
	f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot write %s log: %v\n", name, err)
		return io.Discard
	}
	return f
}
