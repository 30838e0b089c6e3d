// Command worker runs the complaint workflows and activities.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the same zone rules on every machine: deadlines depend on them

	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/telemetry"
	"github.com/complaintdesk/complaintdesk/worker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := connection.ParseAs[worker.Config](nil)
	if err != nil {
		return err
	}
	logger, err := telemetry.NewLogger(cfg.Logging)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return worker.Run(ctx, cfg, logger)
}
