// Command api serves the complaint-handling HTTP API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the same zone rules on every machine: deadlines depend on them

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := connection.ParseAs[api.Config](nil)
	if err != nil {
		return err
	}
	logger, err := telemetry.NewLogger(cfg.Logging)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return api.Run(ctx, cfg, logger)
}
