package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/complaintdesk/complaintdesk/activities/notify"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
)

// adminCommands work on the database and Temporal directly.
func adminCommands() []*cobra.Command {
	migrate := &cobra.Command{
		Use: "migrate", Short: "Apply the database migrations", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return store.Migrate(cmd.Context(), cfg.DatabaseURL)
		}),
	}
	calendar := &cobra.Command{
		Use: "calendar", Short: "The years the working-day calendar covers, and how to add one", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return showCalendar(cmd.OutOrStdout(), cfg.Cases, time.Now())
		}),
	}
	searchAttributes := &cobra.Command{
		Use: "search-attributes", Short: "Register the case search attributes in the namespace", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			c, err := dial(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			return starter.EnsureSearchAttributes(cmd.Context(), c, cfg.TemporalNamespace)
		}),
	}
	submit := &cobra.Command{
		Use: "submit FILE", Short: "Submit the complaint(s) in FILE (one JSON object or an array) straight to Temporal",
		Long: "Submits straight to Temporal through the starter, as the API would, without a token: it needs the\n" +
			"database and the codec's master key (CODEC_MASTER_KEYS).",
		Args: cobra.ExactArgs(1),
		RunE: runs(func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return submitFile(cmd, cfg, args[0])
		}),
	}
	webhookSecret := &cobra.Command{
		Use: "webhook-secret", Short: "Print a new webhook secret (whsec_...) for WEBHOOK_SECRETS", Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			secret := notify.NewWebhookSecret()
			return printOut(cmd, map[string]string{"secret": secret}, func(w io.Writer) { row(w, secret) })
		}),
	}
	return []*cobra.Command{migrate, searchAttributes, calendar, submit, seedCommand(), apiKeyCommand(), tokenCommand(),
		keysCommand(), webhookSecret}
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

// clientOptions are the connection's client options (address, namespace,
// TLS) with warnings on standard error.
func clientOptions(cfg config) (client.Options, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return cfg.ClientOptions(sdklog.NewStructuredLogger(logger))
}

func dial(ctx context.Context, cfg config) (client.Client, error) {
	opts, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}
	return client.DialContext(ctx, opts)
}

// submitted is one line of submit's output.
type submitted struct {
	Reference string `json:"reference,omitempty"`
	Created   bool   `json:"created"`
	Subject   string `json:"subject"`
	Error     string `json:"error,omitempty"`
}

func submitFile(cmd *cobra.Command, cfg config, path string) error {
	ctx := cmd.Context()
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
	opts, err := clientOptions(cfg)
	if err != nil {
		return err
	}
	copts := codec.ClientOptions(opts, ring)
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
	results := make([]submitted, len(intakes))
	for i, in := range intakes {
		res, err := s.Submit(ctx, starter.Submission{Intake: in})
		results[i] = submitted{Reference: res.Reference, Created: res.Created, Subject: in.Subject}
		if err != nil {
			failed++
			results[i].Error = err.Error()
		}
	}
	if err := printOut(cmd, results, func(w io.Writer) {
		for _, r := range results {
			state := "created"
			switch {
			case r.Error != "":
				state = "failed: " + r.Error
			case !r.Created:
				state = "already submitted"
			}
			row(w, r.Reference, state, r.Subject)
		}
	}); err != nil {
		return err
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
