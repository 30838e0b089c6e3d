package worker

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/complaintdesk/complaintdesk/activities"
	"github.com/complaintdesk/complaintdesk/activities/notify"
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
		Survey:     notify.SurveyLinks{Secret: []byte(cfg.SurveyLinkSecret), BaseURL: strings.TrimRight(cfg.PublicURL, "/")},
		CaseLink: func(reference string) string {
			return cfg.CaseLinkBase + url.PathEscape(complaint.WorkflowID(reference))
		},
	}
	if _, domain, ok := strings.Cut(cfg.MailFrom, "@"); ok {
		ch.MailDomain = domain
	}
	if cfg.SMTPHost != "" {
		if ch.Mail, err = notify.NewMailer(notify.SMTPConfig{
			Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			TLS: cfg.SMTPTLS, From: cfg.MailFrom, FromName: cfg.MailFromName, Timeout: sendTimeout,
		}); err != nil {
			return ch, err
		}
	} else {
		logger.Warn("SMTP_HOST is not set: email to customers and staff is logged, not sent")
	}
	if cfg.StaffMailDomain != "" {
		ch.StaffAddress = func(rung string) string { return rung + "@" + cfg.StaffMailDomain }
	}
	if len(cfg.Webhooks) > 0 {
		for system, u := range cfg.Webhooks {
			if _, err := url.ParseRequestURI(u); err != nil {
				return ch, fmt.Errorf("WEBHOOKS: %s: %w", system, err)
			}
			if cfg.WebhookSecrets[system] == "" {
				return ch, fmt.Errorf("WEBHOOK_SECRETS: no secret for %s: every webhook is signed", system)
			}
		}
		keys, err := notify.WebhookKeys(cfg.WebhookSecrets, cfg.WebhookPreviousSecrets)
		if err != nil {
			return ch, err
		}
		ch.Webhooks = &notify.Webhooks{Subscribers: cfg.Webhooks, Keys: keys, Now: time.Now,
			Client: &http.Client{Timeout: sendTimeout, Transport: otelhttp.NewTransport(http.DefaultTransport)}}
	}
	if cfg.SurveyLinkSecret == "" {
		logger.Warn("SURVEY_LINK_SECRET is not set: survey invitations go out without a link")
	}
	return ch, nil
}
