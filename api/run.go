package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	sdklog "go.temporal.io/sdk/log"

	"golang.org/x/time/rate"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/desk"
	"github.com/complaintdesk/complaintdesk/inbound"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

// Run serves the API until ctx ends, then drains requests in flight.
// Temporal and the database are reached lazily: the API starts and answers
// /healthz while they come up, and 503 problems while they are away.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if cfg.SurveyLinkSecret != "" {
		if err := auth.CheckSecret("SURVEY_LINK_SECRET", cfg.SurveyLinkSecret); err != nil {
			return err
		}
	}
	loc, err := time.LoadLocation(cfg.ReferenceTimeZone)
	if err != nil {
		return fmt.Errorf("REFERENCE_TIME_ZONE: %w", err)
	}
	rules, err := cfg.Cases.Build()
	if err != nil {
		return err
	}
	logger = telemetry.WithTrace(logger)
	tel, err := telemetry.Start(ctx, telemetry.Config{
		ServiceName: cmp.Or(cfg.ServiceName, "complaints-api"), OTLPEndpoint: cfg.OTLPEndpoint,
		OTLPProtocol: cfg.OTLPProtocol, TracerProvider: cfg.TracerProvider, Logger: logger,
	})
	if err != nil {
		return err
	}
	defer tel.ShutdownBounded(ctx) // last: flushes the spans of everything below
	db, err := store.Open(ctx, cfg.DatabaseURL, store.WithQueryTracer(tel.PgxTracer()))
	if err != nil {
		return err
	}
	defer db.Close()
	tokens, err := auth.NewVerifier(cfg.Auth.Tokens())
	if err != nil {
		return fmt.Errorf("AUTH_TOKEN_SECRET / AUTH_TOKEN_PUBLIC_KEY: %w", err)
	}
	keys, err := codec.Open(ctx, cfg.Codec, db)
	if err != nil {
		return err
	}
	temporal, err := cfg.ClientOptions(sdklog.NewStructuredLogger(logger))
	if err != nil {
		return err
	}
	cases, err := starter.Open(starter.Connection{Options: temporal, Keys: keys, Instrument: tel.TemporalClientOptions},
		starter.Options{Namespace: cfg.TemporalNamespace, TaskQueue: cfg.TaskQueue, Location: loc, Rules: rules,
			IntakeKeys: db})
	if err != nil {
		return err
	}
	defer cases.Close()

	proxies := make([]netip.Prefix, 0, len(cfg.TrustedProxies))
	for _, p := range cfg.TrustedProxies {
		if p = strings.TrimSpace(p); p == "none" || p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("TRUSTED_PROXIES: %w", err)
		}
		proxies = append(proxies, prefix)
	}
	err = telemetry.ObserveTaskQueue(tel.MeterProvider, func(ctx context.Context) (map[string]int, map[string]int64, error) {
		q, err := cases.QueueStatus(ctx)
		return q.Pollers, q.Backlog, err
	}, 15*time.Second, logger)
	if err != nil {
		return err
	}
	s := &Server{
		Cases:          CountingCases{Cases: cases, Metrics: tel.Cases},
		Queue:          cases,
		Redeliveries:   cases,
		Database:       db,
		Records:        db,
		Archive:        db,
		Breakdowns:     db,
		Departments:    cfg.Cases.Departments,
		Deliveries:     db,
		SurveyLinks:    auth.SurveyLinks{Secret: []byte(cfg.SurveyLinkSecret)},
		RequestTimeout: cfg.RequestTimeout,
		Auth: &Authenticator{Tokens: tokens, OIDC: auth.NewOIDC(cfg.Auth.OIDC, cfg.Auth.MaxLifetime), Keys: db, Rate: rate.Limit(cfg.RateLimit), Burst: cfg.RateBurst,
			TrustedProxies: proxies},
		Submitters:   db,
		Codec:        codec.New(keys),
		CodecOrigins: cfg.CodecOrigins,
		Metrics:      tel.Metrics,
		Logger:       logger,
		Eraser:       CustomerEraser{Store: db, Cases: cases, Keys: keys, Mailbox: mailboxOf(cfg.DevMailboxURL)},
	}
	// The customer's own channels: the status page, their files and, when
	// configured, the inbound mail server. The mail server runs in the
	// API's process because it needs exactly what the API has (the
	// starter, the database, the case keys, the link secret) and nothing
	// else: one process fewer to deploy and supervise.
	replies := &inbound.Receiver{Cases: cases, Store: db, Keys: keys, Limits: cfg.Inbound.Limits}
	s.CustomerMail = CustomerMail{Attachments: db, Keys: keys, Receiver: replies}
	s.StatusLinks = auth.StatusLinks{Secret: cfg.CustomerLinks.SecretOr(cfg.SurveyLinkSecret)}
	if cfg.Inbound.Addr != "" {
		mail := &inbound.Server{Receiver: *replies, Replies: cfg.CustomerLinks.Replies(cfg.SurveyLinkSecret), Logger: logger,
			Intake: cases, Ours: []string{cfg.CustomerLinks.MailFrom}}
		if !mail.Replies.Enabled() {
			return errors.New("INBOUND_SMTP_ADDR needs CUSTOMER_LINK_SECRET (or SURVEY_LINK_SECRET) to check reply addresses")
		}
		if err := mail.Start(ctx, cfg.Inbound); err != nil {
			return err
		}
	}
	if cov, err := complaint.CoverageOf(cfg.Cases.Calendar, cfg.Cases.CalendarZone); err == nil {
		s.CalendarNotice = func(now time.Time) string { return cov.Warning(now, cfg.Cases.CalendarWarnDays) }
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	handler := s.Handler()
	if s.Auth.OIDC != nil {
		// The staff desk acts through the API's own handler, as the person
		// signed in: the API's roles hold for it as for any client.
		d := desk.New(cfg.Desk, s.Auth.OIDC, handler, db, loc, logger)
		root := http.NewServeMux()
		root.Handle("/desk/", d.Handler())
		root.Handle("/", handler)
		handler = root
	}
	srv := &http.Server{
		Handler:           Instrument(handler, tel),
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

// Instrument serves h traced (but for the health probes and the metrics)
// and measured; the metrics themselves are h's, behind its authentication.
func Instrument(h http.Handler, tel *telemetry.Telemetry) http.Handler {
	return codecTokenToHeader(tel.HTTPHandler(h, "complaints-api", "/healthz", "/readyz", "/metrics"))
}
