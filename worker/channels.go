package worker

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/complaintdesk/complaintdesk/activities"
	"github.com/complaintdesk/complaintdesk/activities/notify"
	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
)

// sendTimeout bounds one email or webhook: a step's activity may send an
// email, a staff notice and a webhook within its 30 s.
const sendTimeout = 8 * time.Second

// channels builds how the activities reach people and systems from the
// configuration.
func channels(cfg Config, logger *slog.Logger) (activities.Channels, error) {
	r, err := notify.NewRenderer()
	if err != nil {
		return activities.Channels{}, err
	}
	ch := activities.Channels{
		Renderer: r, SMS: notify.LogSMS{Logger: logger}, MaxAttempts: max(cfg.DeliveryMaxAttempts, 1), Logger: logger,
		MailDomain: "complaintdesk.local",
		Signature:  map[string]string{"zh": cfg.MailFromName, "en": cfg.MailFromName},
		Survey:     auth.SurveyLinks{Secret: []byte(cfg.SurveyLinkSecret), BaseURL: strings.TrimRight(cfg.PublicURL, "/")},
		CaseLink: func(reference string) string {
			return cfg.CaseLinkBase + url.PathEscape(complaint.WorkflowID(reference))
		},
	}
	if _, domain, ok := strings.Cut(cfg.MailFrom, "@"); ok {
		ch.MailDomain = domain
	}
	if cfg.SMTPHost != "" {
		if cfg.SMTPMaxConnections < 1 {
			return ch, fmt.Errorf("SMTP_MAX_CONNECTIONS=%d: want at least 1", cfg.SMTPMaxConnections)
		}
		if ch.Mail, err = notify.NewMailer(notify.SMTPConfig{
			Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			TLS: cfg.SMTPTLS, From: cfg.MailFrom, FromName: cfg.MailFromName, Timeout: sendTimeout,
			MaxConnections: cfg.SMTPMaxConnections,
		}); err != nil {
			return ch, err
		}
	} else {
		logger.Warn("SMTP_HOST is not set: email to customers and staff is logged, not sent")
	}
	// Every customer message carries a reply address and a status link,
	// signed with the customer link secret (or the survey link's).
	if secret := cfg.CustomerLinks.SecretOr(cfg.SurveyLinkSecret); len(secret) > 0 {
		ch.Replies = auth.ReplyAddresses{Secret: secret, Domain: cmp.Or(cfg.CustomerLinks.ReplyDomain, ch.MailDomain)}
		ch.Status = auth.StatusLinks{Secret: secret, BaseURL: strings.TrimRight(cfg.PublicURL, "/")}
		ch.LinkValidity = cfg.CustomerLinks.Validity
	}
	if cfg.StaffMailDomain != "" {
		ch.StaffAddress = func(rung string) string { return rung + "@" + cfg.StaffMailDomain }
	}
	if len(cfg.Webhooks) > 0 {
		if err := checkWebhooks(cfg); err != nil {
			return ch, err
		}
		keys, err := notify.WebhookKeys(cfg.WebhookSecrets, cfg.WebhookPreviousSecrets)
		if err != nil {
			return ch, err
		}
		ch.Webhooks = &notify.Webhooks{Subscribers: cfg.Webhooks, Keys: keys, Now: time.Now, Client: webhookClient()}
	}
	if cfg.SurveyLinkSecret == "" {
		logger.Warn("SURVEY_LINK_SECRET is not set: survey invitations go out without a link")
	} else if err := auth.CheckSecret("SURVEY_LINK_SECRET", cfg.SurveyLinkSecret); err != nil {
		return ch, err
	}
	return ch, nil
}

// checkWebhooks refuses a subscription the worker could not deliver safely:
// a URL that is not https (http only when WEBHOOK_ALLOW_HTTP says so, for
// development), or a missing or short secret.
func checkWebhooks(cfg Config) error {
	for system, u := range cfg.Webhooks {
		parsed, err := url.ParseRequestURI(u)
		if err != nil {
			return fmt.Errorf("WEBHOOKS: %s: %w", system, err)
		}
		if parsed.Scheme != "https" && !(parsed.Scheme == "http" && cfg.WebhookAllowHTTP) {
			return fmt.Errorf("WEBHOOKS: %s: %s is not https (WEBHOOK_ALLOW_HTTP=true allows http, for development)", system, u)
		}
		if cfg.WebhookSecrets[system] == "" {
			return fmt.Errorf("WEBHOOK_SECRETS: no secret for %s: every webhook is signed", system)
		}
		if err := auth.CheckSecret("WEBHOOK_SECRETS: the secret of "+system, cfg.WebhookSecrets[system]); err != nil {
			return err
		}
	}
	return nil
}

// webhookClient follows no redirect: a subscriber's URL is where its events
// go, and a 3xx is an answer like any other non-2xx (given up, not retried).
func webhookClient() *http.Client {
	return &http.Client{Timeout: sendTimeout, Transport: otelhttp.NewTransport(http.DefaultTransport),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
