package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// PostgresBin is where Debian's postgresql-15 package puts the server.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// Postgres is a private PostgreSQL server in a data folder of ours.
type Postgres struct {
	Name     string // of its process; "postgres" when empty
	Dir      string // data folder; created with initdb when empty
	Port     int
	User     string // superuser created by initdb, also owns Database
	Password string
	Database string // created when missing; empty creates none
	// Ephemeral trades durability for speed (no fsync); for tests only.
	Ephemeral bool
	Log       io.Writer
}

// DSN is the connection string of the application database.
func (p Postgres) DSN() string { return p.dsn(p.Database) }

func (p Postgres) dsn(db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", p.User, p.Password, p.Port, db)
}

// Start initialises the data folder if needed, runs the server and creates
// the application database if it does not exist.
func (p Postgres) Start(ctx context.Context) (*Process, error) {
	if _, err := os.Stat(filepath.Join(PostgresBin, "postgres")); err != nil {
		return nil, fmt.Errorf("PostgreSQL 15 is not installed (%w): apt-get install postgresql-15", err)
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	if err := p.initdb(cred); err != nil {
		return nil, err
	}
	args := []string{"-D", p.Dir, "-p", strconv.Itoa(p.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"}
	if p.Ephemeral {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(PostgresBin, "postgres"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	name := p.Name
	if name == "" {
		name = "postgres"
	}
	proc, err := start(name, cmd, p.Log)
	if err != nil {
		return nil, err
	}
	err = proc.waitFor(ctx, "accepting connections", func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, p.dsn("postgres"))
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if err == nil {
		err = p.createDatabase(ctx)
	}
	if err != nil {
		proc.Kill()
		return nil, err
	}
	return proc, nil
}

// postgresCredential is who the server runs as: PostgreSQL refuses to run
// as root, so root hands it to the `postgres` account the Debian package
// creates; anyone else runs it as themselves.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres account (apt-get install postgresql-15): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid) // user.Lookup returns numeric ids on Unix
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (p Postgres) initdb(cred *syscall.Credential) error {
	if _, err := os.Stat(filepath.Join(p.Dir, "PG_VERSION")); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// The server's account must reach the data folder through its parent.
	if err := os.MkdirAll(filepath.Dir(p.Dir), 0o755); err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chmod(filepath.Dir(p.Dir), 0o755); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return err
	}
	pwfile := filepath.Join(p.Dir, "..", filepath.Base(p.Dir)+".pw")
	if err := os.WriteFile(pwfile, []byte(p.Password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if cred != nil {
		for _, f := range []string{p.Dir, pwfile} {
			if err := os.Chown(f, int(cred.Uid), int(cred.Gid)); err != nil {
				return err
			}
		}
	}
	cmd := exec.Command(filepath.Join(PostgresBin, "initdb"), "-D", p.Dir, "-U", p.User, "--pwfile", pwfile,
		"--auth=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-instructions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", p.Dir, err, out)
	}
	return nil
}

func (p Postgres) createDatabase(ctx context.Context) error {
	if p.Database == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, p.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", p.Database).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{p.Database}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", p.Database, err)
	}
	return nil
}
