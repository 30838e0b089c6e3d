package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
)

// Run serves the API until ctx ends, then drains requests in flight.
// Temporal and the database are reached lazily: the API starts and answers
// /healthz while they come up, and 503 problems while they are away.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	loc, err := time.LoadLocation(cfg.ReferenceTimeZone)
	if err != nil {
		return fmt.Errorf("REFERENCE_TIME_ZONE: %w", err)
	}
	rules, err := cfg.Cases.Build()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := client.NewLazyClient(client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Logger: sdklog.NewStructuredLogger(logger),
	})
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer c.Close()

	s := &Server{
		Cases: starter.New(c, starter.Options{
			Namespace: cfg.TemporalNamespace, TaskQueue: cfg.TaskQueue, Location: loc, Rules: rules,
		}),
		Database:       db,
		RequestTimeout: cfg.RequestTimeout,
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	logger.Info("API listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.RequestTimeout+time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
