// Command complaintctl is the operator's command line: it submits complaints
// from a JSON file straight to Temporal through the starter, applies the
// database migrations and registers the search attributes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // the same zone rules on every machine: deadlines depend on them

	"github.com/caarlos0/env/v11"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
)

type config struct {
	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TaskQueue         string `env:"TASK_QUEUE" envDefault:"complaints"`
	DatabaseURL       string `env:"DATABASE_URL" envDefault:"postgres://complaints:complaints@127.0.0.1:55432/complaints?sslmode=disable"`
	ReferenceTimeZone string `env:"REFERENCE_TIME_ZONE" envDefault:"Asia/Shanghai"`
	Cases             starter.CaseConfig
	Auth              auth.Config
	Codec             codec.Config
}

const usage = `usage:
  complaintctl submit FILE        submit the complaint(s) in FILE (one JSON object or an array)
  complaintctl migrate            apply the database migrations
  complaintctl search-attributes  register the case search attributes in the namespace
  complaintctl seed [-n N] [-seed S]  write N made-up cases of the last 12 months into the database
  complaintctl apikey create -name NAME -system SYSTEM   a key for an upstream system (printed once)
  complaintctl apikey revoke ID | apikey list
  complaintctl token -sub USER -role ROLE [-departments a,b] [-ttl 12h]   a staff token (AUTH_TOKEN_SECRET)
  complaintctl keys rotate (-case REFERENCE | -default)  a new version of a data key
  complaintctl keys rewrap        wrap every data key with the current master key (CODEC_MASTER_KEYS)
  complaintctl keys new-master ID print a new master key entry for CODEC_MASTER_KEYS
  complaintctl calendar           the years the working-day calendar covers, and how to add one
Configuration comes from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TASK_QUEUE,
DATABASE_URL, REFERENCE_TIME_ZONE, CODEC_MASTER_KEYS, AUTH_TOKEN_*), with the same defaults as
the services.`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "complaintctl:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cfg, err := env.ParseAs[config]()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "migrate":
		return store.Migrate(ctx, cfg.DatabaseURL)
	case "calendar":
		return showCalendar(os.Stdout, cfg.Cases, time.Now())
	case "search-attributes":
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		return starter.EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace)
	case "seed":
		return seedCases(ctx, cfg, args[1:])
	case "apikey":
		return apiKey(ctx, cfg, args[1:])
	case "token":
		return token(cfg, args[1:])
	case "keys":
		return keys(ctx, cfg, args[1:])
	case "submit":
		fs := flag.NewFlagSet("submit", flag.ContinueOnError)
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
			return errors.New(usage)
		}
		return submit(ctx, cfg, fs.Arg(0))
	}
	return errors.New(usage)
}

// openKeyring opens the database and the payload codec's keys kept in it.
func openKeyring(ctx context.Context, cfg config) (*store.Store, *codec.Keyring, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	ring, err := codec.Open(ctx, cfg.Codec, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, ring, nil
}

func dial(ctx context.Context, cfg config) (client.Client, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return client.DialContext(ctx, client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Logger: sdklog.NewStructuredLogger(logger),
	})
}

func submit(ctx context.Context, cfg config, path string) error {
	intakes, err := readIntakes(path)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.ReferenceTimeZone)
	if err != nil {
		return fmt.Errorf("REFERENCE_TIME_ZONE: %w", err)
	}
	rules, err := cfg.Cases.Build()
	if err != nil {
		return err
	}
	db, ring, err := openKeyring(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	copts := codec.ClientOptions(client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Logger: sdklog.NewStructuredLogger(logger),
	}, ring)
	c, err := client.DialContext(ctx, copts)
	if err != nil {
		return err
	}
	defer c.Close()
	s := starter.New(c, starter.Options{
		Namespace: cfg.TemporalNamespace, TaskQueue: cfg.TaskQueue, Location: loc, Rules: rules,
		DataConverter: copts.DataConverter, IntakeKeys: db,
	})
	var failed int
	for i, in := range intakes {
		res, err := s.Submit(ctx, starter.Submission{Intake: in})
		if err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "complaint %d (%q): %v\n", i+1, in.Subject, err)
			continue
		}
		state := "created"
		if !res.Created {
			state = "already submitted"
		}
		fmt.Printf("%s\t%s\t%s\n", res.Reference, state, in.Subject)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d complaints were not submitted", failed, len(intakes))
	}
	return nil
}

// readIntakes reads one complaint or an array of them, strictly: a field the
// API would reject is rejected here too.
func readIntakes(path string) ([]complaint.Intake, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		data = append(append([]byte{'['}, data...), ']')
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var intakes []complaint.Intake
	if err := dec.Decode(&intakes); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return intakes, nil
}
