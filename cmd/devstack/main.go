// Command devstack is `make dev`: it brings up the whole system on this
// machine — a private PostgreSQL, the Temporal dev server with its Web UI,
// the worker and the API — waits until each is healthy, starts again any
// that dies (see devenv.Supervisor), and on Ctrl-C stops everything it
// started, last started first. Data stays in DEV_DIR, so the
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
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/idp"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
	"github.com/complaintdesk/complaintdesk/store"
)

type config struct {
	// Connection: the namespace, task queue and Temporal TLS the worker and
	// the API are given; their Temporal address and database URL are those
	// of the servers started here.
	connection.Config
	Dir          string `env:"DEV_DIR" envDefault:".dev"`
	BinDir       string `env:"BIN_DIR" envDefault:"bin"`
	PostgresPort int    `env:"POSTGRES_PORT" envDefault:"55432"`
	TemporalIP   string `env:"TEMPORAL_IP" envDefault:"127.0.0.1"`
	TemporalPort int    `env:"TEMPORAL_PORT" envDefault:"7233"`
	UIPort       int    `env:"TEMPORAL_UI_PORT" envDefault:"8233"`
	// HTTPPort is the frontend's HTTP API, on a known port (Temporal's own
	// server uses 7243) rather than one the CLI picks anew at each start,
	// which another process starting at the same moment could also be
	// given.
	HTTPPort    int    `env:"TEMPORAL_HTTP_PORT" envDefault:"7243"`
	APIAddr     string `env:"API_ADDR" envDefault:"127.0.0.1:8080"`
	WorkerAddr  string `env:"WORKER_HTTP_ADDR" envDefault:"127.0.0.1:9090"`
	SMTPAddr    string `env:"MAILBOX_SMTP_ADDR" envDefault:"127.0.0.1:1025"`
	MailboxHTTP string `env:"MAILBOX_HTTP_ADDR" envDefault:"127.0.0.1:8025"`
	// IDPAddr is the development OpenID provider's address: the desk signs
	// staff in there, the API accepts its access tokens.
	IDPAddr string `env:"DEV_IDP_ADDR" envDefault:"127.0.0.1:8099"`
	// InboundAddr is the API's inbound SMTP server: the customers' replies
	// (to reply+token@complaintdesk.local) are sent there.
	InboundAddr string `env:"INBOUND_SMTP_ADDR" envDefault:"127.0.0.1:2525"`
	// LogFormat of the worker and the API: text on a terminal, JSON
	// otherwise, unless set.
	LogFormat string `env:"LOG_FORMAT"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

// nameWidth aligns the prefixes of the processes' lines.
const nameWidth = 8

func run() error {
	cfg, err := connection.ParseAs[config](nil)
	if err != nil {
		return err
	}
	// Refused before any server starts, not when the worker exits on it.
	if _, err := connection.Compression(cfg.Compression); err != nil {
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
	say := func(line string) { fmt.Fprint(os.Stdout, launcherLine(line)) }
	// Every process is supervised: one that dies is started again, the
	// others keep running; only Ctrl-C stops them, last started first.
	sup := &devenv.Supervisor{Event: say}
	var mb *mailbox.Server
	defer func() {
		if err := sup.Stop(20 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		if mb != nil {
			mb.Close() // after the worker, which may be sending
		}
	}()

	startCtx, startDone := context.WithTimeout(ctx, 3*time.Minute)
	defer startDone()

	pg := devenv.Postgres{
		Dir: filepath.Join(dir, "postgres"), Port: cfg.PostgresPort,
		User: "complaints", Password: "complaints", Database: "complaints", Log: logFile(logs, "postgres"),
	}
	step("PostgreSQL", fmt.Sprintf("127.0.0.1:%d", cfg.PostgresPort))
	if _, err := sup.Start(startCtx, devenv.Service{Name: "postgres", Start: pg.Start}); err != nil {
		return err
	}
	if err := store.Migrate(startCtx, pg.DSN()); err != nil {
		return err
	}
	secrets, creds, err := credentials(startCtx, dir, pg.DSN())
	if err != nil {
		return err
	}

	tp := devenv.Temporal{
		Binary: filepath.Join(cfg.BinDir, "temporal"), DBFile: filepath.Join(dir, "temporal.db"),
		IP: cfg.TemporalIP, Port: cfg.TemporalPort, UIPort: cfg.UIPort, HTTPPort: cfg.HTTPPort,
		Namespace: cfg.TemporalNamespace, Log: logFile(logs, "temporal"),
	}
	// The UI decodes the cases' payloads with the API's codec server, as an
	// operator: the dev server's UI has no login of its own. Its token is
	// short-lived, so the supervision renews it before it expires and
	// starts the dev server again with the new one (cases wait meanwhile).
	codec := &codecToken{token: creds.CodecToken}
	startTemporal := func(ctx context.Context) (*devenv.Process, error) {
		t := tp
		t.CodecEndpoint = "http://" + cfg.APIAddr + "/codec/k/" + codec.get()
		return t.Start(ctx)
	}
	step("Temporal dev server", tp.Address())
	if _, err := sup.Start(startCtx, devenv.Service{Name: "temporal", Start: startTemporal}); err != nil {
		return err
	}
	go codec.renew(ctx, secrets, auth.DefaultMaxLifetime, func() error { return sup.Renew("temporal", 20*time.Second) })

	// The mailbox keeps every email the worker sends, as .eml files too.
	step("mailbox (SMTP)", cfg.SMTPAddr)
	mb, err = mailbox.Start(ctx, cfg.SMTPAddr, cfg.MailboxHTTP, filepath.Join(dir, "mail"),
		slog.New(slog.NewTextHandler(logFile(logs, "mailbox"), nil)))
	if err != nil {
		return err
	}
	smtpHost, smtpPort, err := net.SplitHostPort(mb.SMTPAddr())
	if err != nil {
		return err
	}
	// The development OpenID provider, in process: the desk and the API
	// know only its issuer URL, as they know the organisation's provider in
	// production. Its users are in DEV_DIR/idp.json (made once).
	step("OpenID provider", "http://"+cfg.IDPAddr)
	users, issuer, deskSecret, closeIDP, err := startIDP(filepath.Join(dir, "idp.json"), cfg.IDPAddr, "http://"+cfg.APIAddr,
		slog.New(slog.NewTextHandler(logFile(logs, "idp"), nil)))
	if err != nil {
		return err
	}
	defer closeIDP()
	conn := cfg.Config
	conn.TemporalAddress, conn.DatabaseURL = tp.Address(), pg.DSN()
	appEnv := append(os.Environ(), conn.Env()...)
	appEnv = append(appEnv,
		"WORKER_HTTP_ADDR="+cfg.WorkerAddr, "API_ADDR="+cfg.APIAddr, "LOG_FORMAT="+logFormat(cfg.LogFormat),
		"SMTP_HOST="+smtpHost, "SMTP_PORT="+smtpPort, "SMTP_TLS=none", "STAFF_MAIL_DOMAIN=staff.complaintdesk.local",
		"PUBLIC_URL=http://"+cfg.APIAddr, "DEV_MAILBOX_URL=http://"+mb.HTTPAddr(),
		"INBOUND_SMTP_ADDR="+cfg.InboundAddr,
		// A rebuilt worker is the version meant to run: it takes over the
		// open cases at their next task.
		"WORKER_PROMOTE=always",
		"CASE_LINK_BASE="+tp.UIURL()+"/namespaces/"+cfg.TemporalNamespace+"/workflows/",
		fmt.Sprintf("CODEC_CORS_ORIGINS=%s,http://localhost:%d", tp.UIURL(), cfg.UIPort))
	appEnv = append(appEnv, secrets.Env()...)
	appEnv = append(appEnv, "OIDC_ISSUER="+issuer, "OIDC_CLIENT_ID="+idp.DeskClientID, "OIDC_CLIENT_SECRET="+deskSecret)
	for _, app := range []struct{ name, health string }{
		{"worker", "http://" + cfg.WorkerAddr + "/healthz"},
		{"api", "http://" + cfg.APIAddr + "/readyz"},
	} {
		step(app.name, app.health)
		// Each line on the terminal behind the process's name; the log
		// file keeps the lines as they were written.
		out := io.MultiWriter(devenv.Prefixed(app.name, nameWidth, os.Stderr), logFile(logs, app.name))
		_, err := sup.Start(startCtx, devenv.Service{Name: app.name, Start: func(ctx context.Context) (*devenv.Process, error) {
			cmd := exec.Command(filepath.Join(cfg.BinDir, app.name))
			cmd.Env = appEnv
			proc, err := devenv.StartProcess(app.name, cmd, out)
			if err != nil {
				return nil, err
			}
			if err := devenv.WaitHTTP(ctx, proc, app.health); err != nil {
				proc.Kill()
				return nil, err
			}
			return proc, nil
		}})
		if err != nil {
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
  Replies      SMTP %s (the customers' replies to reply+...@ addresses; status page: the link in each email)
  Logs         %s

Credentials (also in %s; both kinds go as Authorization: Bearer ...):
  API_KEY=%s        (upstream system dev-shop)
  STAFF_TOKEN=%s    (supervisor dev.supervisor)
  ADMIN_TOKEN=%s    (admin dev.admin)
More: bin/complaintctl token -sub NAME -role ROLE, with AUTH_TOKEN_SECRET from %s.

Staff desk  http://%s/desk — sign in at the development OpenID provider %s
as one of (users, roles and passwords in %s):
%s
A process that dies is started again; press Ctrl-C to stop everything.
`, cfg.APIAddr, tp.UIURL(), tp.Address(), cfg.TemporalNamespace, pg.DSN(), mb.SMTPAddr(), mb.HTTPAddr(),
		filepath.Join(dir, "mail"), cfg.InboundAddr, logs,
		filepath.Join(dir, "credentials.env"), creds.APIKey, creds.StaffToken, creds.AdminToken,
		filepath.Join(dir, "secrets.env"), cfg.APIAddr, issuer, filepath.Join(dir, "idp.json"), users)

	<-ctx.Done()
	fmt.Println("\nshutting down")
	return nil
}

// launcherLine is a line of the launcher's own, behind its name.
func launcherLine(line string) string { return fmt.Sprintf("%-*s | %s\n", nameWidth, "devstack", line) }

// logFormat is the worker's and the API's: as asked, else text for a person
// at a terminal and JSON for anything reading the output.
func logFormat(asked string) string {
	if asked != "" {
		return asked
	}
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return "text"
	}
	return "json"
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

// codecToken is the Temporal UI's operator token for the codec server.
type codecToken struct {
	mu    sync.Mutex
	token string
}

func (c *codecToken) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// renew mints a new token an hour before the current one (of lifetime ttl)
// expires, then has the UI take it up (restart), until ctx ends.
func (c *codecToken) renew(ctx context.Context, secrets devenv.Secrets, ttl time.Duration, restart func() error) {
	every := max(ttl-time.Hour, ttl/2)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		token, err := auth.MintHS256(devenv.DevTokenConfig(secrets.TokenSecret), "temporal-ui", auth.RoleOperator, nil, ttl)
		if err != nil {
			fmt.Print(launcherLine("cannot renew the Temporal UI's codec token: " + err.Error()))
			continue
		}
		c.mu.Lock()
		c.token = token
		c.mu.Unlock()
		fmt.Print(launcherLine("renewing the Temporal UI's codec token: restarting the dev server"))
		if err := restart(); err != nil {
			fmt.Print(launcherLine("cannot restart the dev server with the renewed token: " + err.Error()))
		}
	}
}

// startIDP serves the development OpenID provider on addr with the users
// of the directory at path (written with development users when absent),
// the desk at deskURL as its client. It returns the users as lines to
// print, the issuer, the desk's client secret and how to stop it.
func startIDP(path, addr, deskURL string, logger *slog.Logger) (string, string, string, func(), error) {
	directory, err := idp.LoadOrCreate(path, deskURL)
	if err != nil {
		return "", "", "", nil, err
	}
	ln, issuer, err := idp.Listen(addr)
	if err != nil {
		return "", "", "", nil, err
	}
	p, err := idp.Start(ln, issuer, directory, idp.Options{Logger: logger})
	if err != nil {
		_ = ln.Close()
		return "", "", "", nil, err
	}
	var users strings.Builder
	for _, u := range directory.Users {
		fmt.Fprintf(&users, "  %-15s %-18s %-12s %s\n", u.Username, u.Password, strings.Join(u.Roles, ","), strings.Join(u.Departments, ","))
	}
	desk, _ := directory.Client(idp.DeskClientID)
	return users.String(), issuer, desk.Secret, func() { _ = p.Close() }, nil
}

func step(what, where string) { fmt.Print(launcherLine(fmt.Sprintf("starting %-20s %s", what, where))) }

func logFile(dir, name string) io.Writer {
	f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot write %s log: %v\n", name, err)
		return io.Discard
	}
	return f
}
