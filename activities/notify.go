package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/complaintdesk/complaintdesk/activities/notify"
	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// Channels reach customers, staff and upstream systems. A channel left nil
// is logged instead of sent, which is how unit tests and a system without
// SMTP run.
type Channels struct {
	Renderer *notify.Renderer
	Mail     *notify.Mailer
	// MailDomain is the right-hand side of the Message-IDs we make.
	MailDomain string
	SMS        notify.SMSSender
	Webhooks   *notify.Webhooks
	Survey     auth.SurveyLinks
	// Replies makes the signed reply address of every customer email, and
	// Status the status page's link in every customer message; each is
	// good for LinkValidity after the message.
	Replies      auth.ReplyAddresses
	Status       auth.StatusLinks
	LinkValidity time.Duration
	// StaffAddress maps a rung of the escalation ladder to an email address;
	// "" means the notice is logged only.
	StaffAddress func(rung string) string
	// CaseLink is where staff open a case (the Temporal UI or the API).
	CaseLink func(reference string) string
	// Signature closes each customer message, per language.
	Signature map[string]string
	// MaxAttempts is how often a message is tried before it is given up and
	// left for an operator (failed deliveries are listed by the API).
	MaxAttempts int32
	Logger      *slog.Logger
}

func (ch Channels) log() *slog.Logger {
	if ch.Logger == nil {
		return slog.Default()
	}
	return ch.Logger
}

func (a *Activities) deliverToCustomer(ctx context.Context, eventKey string, m complaint.Message) error {
	ch := a.Channels
	channel := "email"
	if m.Email == "" {
		channel = "sms"
	}
	if (channel == "email" && ch.Mail == nil) || (channel == "sms" && ch.SMS == nil) {
		channel = "log"
	}
	d := store.Delivery{ID: m.Reference + "/" + m.Key + "/" + channel, Reference: m.Reference, EventKey: eventKey,
		Channel: channel, Kind: string(m.Kind), Recipient: "customer"}
	return a.deliver(ctx, d, ch.MaxAttempts, func(ctx context.Context) error {
		c := notify.Content{Kind: string(m.Kind), Language: m.Language, Reference: m.Reference, Name: m.Name,
			Text: m.Text, Signature: ch.Signature[m.Language]}
		var err error
		if (m.Kind == complaint.MsgSurveyInvitation || m.Kind == complaint.MsgSurveyReminder) && ch.Survey.Enabled() && !m.LinkExpires.IsZero() {
			link, err := ch.Survey.Link(m.Reference, m.Round, m.Language, activityNow(ctx), m.LinkExpires)
			if err != nil {
				return err
			}
			c.SurveyLink, c.LinkExpires = link, m.LinkExpires.In(shanghai).Format("2006-01-02 15:04 MST")
		}
		linkExpires := activityNow(ctx).Add(ch.LinkValidity)
		if ch.Status.Enabled() && ch.LinkValidity > 0 {
			if c.StatusLink, err = ch.Status.Link(m.Reference, m.Language, activityNow(ctx), linkExpires); err != nil {
				return err
			}
		}
		r, err := ch.Renderer.Render(c)
		if err != nil {
			return notify.Permanent(err)
		}
		switch channel {
		case "email":
			e := notify.Email{MessageID: a.messageID(d.ID), To: m.Email, ToName: m.Name, Rendered: r,
				Thread: ThreadID(m.Reference, ch.MailDomain)}
			if ch.Replies.Enabled() && ch.LinkValidity > 0 {
				e.ReplyTo = ch.Replies.Address(m.Reference, linkExpires)
			}
			return ch.Mail.Send(ctx, e)
		case "sms":
			text := r.Subject
			if c.SurveyLink != "" {
				text += " " + c.SurveyLink
			}
			if c.StatusLink != "" { // the status page, the customer's way back without email
				text += " " + c.StatusLink
			}
			return ch.SMS.SendSMS(ctx, notify.SMS{ID: d.ID, To: m.Phone, Text: text})
		}
		ch.log().InfoContext(ctx, "message to the customer (logged, no channel configured)", "delivery", d.ID,
			"kind", m.Kind, "language", m.Language, "subject", r.Subject)
		return nil
	})
}

func (a *Activities) deliverToStaff(ctx context.Context, eventKey string, m complaint.StaffMessage) error {
	ch := a.Channels
	addr := ""
	if ch.StaffAddress != nil && ch.Mail != nil {
		addr = ch.StaffAddress(m.To)
	}
	channel := "log"
	if addr != "" {
		channel = "email"
	}
	d := store.Delivery{ID: m.Reference + "/" + m.Key + "/" + channel, Reference: m.Reference, EventKey: eventKey,
		Channel: channel, Kind: "staff_" + m.Kind, Recipient: m.To}
	return a.deliver(ctx, d, ch.MaxAttempts, func(ctx context.Context) error {
		if channel == "log" {
			ch.log().WarnContext(ctx, "deadline notice to staff", "kind", m.Kind, "delivery", d.ID,
				"reference", m.Reference, "to", m.To, "clock", m.Clock, "level", m.Level, "dueAt", m.DueAt)
			return nil
		}
		c := notify.Content{Kind: "staff", Notice: m.Kind, Reference: m.Reference, Clock: m.Clock, Level: m.Level,
			DueAt: m.DueAt.In(shanghai).Format("2006-01-02 15:04 MST")}
		if m.Kind == complaint.StaffNoticeCustomerMessage { // not a deadline: the customer wrote
			c = notify.Content{Kind: "staff_customer_message", Language: "en", Reference: m.Reference}
		}
		if ch.CaseLink != nil {
			c.CaseLink = ch.CaseLink(m.Reference)
		}
		r, err := ch.Renderer.Render(c)
		if err != nil {
			return notify.Permanent(err)
		}
		return ch.Mail.Send(ctx, notify.Email{MessageID: a.messageID(d.ID), To: addr, Rendered: r})
	})
}

// WebhookEvent is what an upstream system receives for every step of a
// case it submitted (the type lives with the domain, which the API's
// OpenAPI document describes it from).
type WebhookEvent = complaint.WebhookEvent

// tellUpstream posts the step to the system that submitted the case, if
// it subscribes.
func (a *Activities) tellUpstream(ctx context.Context, st complaint.Step) error {
	wh := a.Channels.Webhooks
	source := st.Source
	if wh == nil || !wh.Subscribed(source) {
		return nil
	}
	ev := WebhookEvent{ID: st.Reference + "/" + st.Key, Type: "complaint." + st.Name, Reference: st.Reference,
		WorkflowID: complaint.WorkflowID(st.Reference), OccurredAt: st.At, Step: st.Name, Actor: st.Actor,
		Status: string(st.Status), Round: st.Round}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	d := store.Delivery{ID: ev.ID + "/webhook", Reference: st.Reference, EventKey: st.Key, Channel: "webhook",
		Kind: ev.Type, Recipient: source, Payload: body}
	attempts := a.Channels.MaxAttempts
	if st.Key == "received" {
		// Registration waits for it, and the acknowledgement for
		// registration: a shop that is down gets three tries, then an
		// operator's attention.
		attempts = min(attempts, 3)
	}
	return a.deliver(ctx, d, attempts, func(ctx context.Context) error { return wh.Post(ctx, source, ev.ID, body) })
}

// deliver sends one message at most once in effect: a message already
// settled is skipped; a failure is retried by the activity's retry policy
// until it is permanent or MaxAttempts is reached, then recorded as failed
// for an operator, and the case goes on.
func (a *Activities) deliver(ctx context.Context, d store.Delivery, maxAttempts int32, send func(context.Context) error) error {
	status, attempts, err := a.Store.BeginDelivery(ctx, d)
	if err != nil {
		return err
	}
	if status != store.DeliveryPending {
		return nil
	}
	sendErr := notify.Redact(send(ctx))
	if sendErr == nil {
		a.Metrics.MessageSent(ctx, d.Channel, d.Kind)
		return a.Store.DeliveryDone(ctx, d.ID, nil)
	}
	if notify.IsPermanent(sendErr) || attempts >= int(maxAttempts) {
		a.Channels.log().ErrorContext(ctx, "message given up; listed for an operator", "delivery", d.ID,
			"channel", d.Channel, "kind", d.Kind, "error", sendErr)
		a.Metrics.MessageFailed(ctx, d.Channel, d.Kind)
		return a.Store.DeliveryDone(ctx, d.ID, sendErr)
	}
	if err := a.Store.DeliveryRetrying(ctx, d.ID, sendErr); err != nil {
		return errors.Join(sendErr, err)
	}
	return fmt.Errorf("%s %s: %w", d.Channel, d.ID, sendErr)
}

// ThreadID is the id every message of a case refers to (In-Reply-To,
// References): the case's thread in the customer's mail client.
func ThreadID(reference, domain string) string { return "case." + reference + "@" + domain }

// messageID is the Message-ID of a delivery: the same for every attempt.
func (a *Activities) messageID(deliveryID string) string {
	return notAtext.ReplaceAllString(deliveryID, ".") + "@" + a.Channels.MailDomain
}

// notAtext is what a Message-ID's left part cannot hold (RFC 5322 atext and
// dots); "/" and ":" of a delivery id become dots.
var notAtext = regexp.MustCompile(`[^A-Za-z0-9!#$%&'*+\-=?^_{|}~.]`)

// shanghai is the zone customers and staff read times in (DOMAIN §4).
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

func activityNow(ctx context.Context) time.Time {
	if !activity.IsActivity(ctx) {
		return time.Now()
	}
	return activity.GetInfo(ctx).StartedTime
}
