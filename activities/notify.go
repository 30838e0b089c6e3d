package activities

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
)

// MessageKind is which message the customer gets.
type MessageKind string

const (
	MsgAcknowledgement      MessageKind = "acknowledgement"
	MsgInvestigationStarted MessageKind = "investigation_started"
	MsgResolutionProposal   MessageKind = "resolution_proposal"
	MsgClosingSummary       MessageKind = "closing_summary"
	MsgSurveyInvitation     MessageKind = "survey_invitation"
	MsgSurveyReminder       MessageKind = "survey_reminder"
)

// Message is one message to the customer. Key identifies it within the case
// (the workflow derives it), so a provider can drop a repeat.
type Message struct {
	Kind      MessageKind
	Key       string
	Reference string
	Language  string
	Name      string
	Email     string
	Phone     string
	// Text is the case-specific part: the proposal, the closing summary.
	Text string
}

// Notifier reaches the customer and the staff.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
	NotifyStaff(ctx context.Context, m StaffMessage) error
}

// StaffMessage tells a person that a deadline of a case is near or missed.
type StaffMessage struct {
	Kind      string // warning, escalation
	Key       string
	Reference string
	To        string
	Clock     string
	Level     int
	DueAt     time.Time
}

func (n LogNotifier) NotifyStaff(ctx context.Context, m StaffMessage) error {
	n.Logger.WarnContext(ctx, "deadline notice to staff", "kind", m.Kind, "key", m.Key, "reference", m.Reference,
		"to", m.To, "clock", m.Clock, "level", m.Level, "dueAt", m.DueAt)
	return nil
}

// LogNotifier writes each message to the log instead of sending it; it stands
// in until a real channel is configured. It logs which case and which
// channel, never the customer's address or name.
type LogNotifier struct {
	Logger *slog.Logger
}

func (n LogNotifier) Notify(ctx context.Context, m Message) error {
	channel := "email"
	if m.Email == "" {
		channel = "sms"
	}
	n.Logger.InfoContext(ctx, "message to the customer",
		"kind", m.Kind, "key", m.Key, "reference", m.Reference,
		"workflowId", activity.GetInfo(ctx).WorkflowExecution.ID,
		"channel", channel, "language", m.Language, "subject", Subject(m))
	return nil
}

// Subject is the message's subject line in the customer's language.
func Subject(m Message) string {
	zh := map[MessageKind]string{
		MsgAcknowledgement:      "您的投诉已受理（编号 %s）",
		MsgInvestigationStarted: "您的投诉正在调查中（编号 %s）",
		MsgResolutionProposal:   "关于您投诉的处理方案（编号 %s）",
		MsgClosingSummary:       "您的投诉已处理完毕（编号 %s）",
		MsgSurveyInvitation:     "请评价我们对您投诉的处理（编号 %s）",
		MsgSurveyReminder:       "提醒：请评价我们对您投诉的处理（编号 %s）",
	}
	en := map[MessageKind]string{
		MsgAcknowledgement:      "We have received your complaint (reference %s)",
		MsgInvestigationStarted: "We are investigating your complaint (reference %s)",
		MsgResolutionProposal:   "Our proposal for your complaint (reference %s)",
		MsgClosingSummary:       "Your complaint has been resolved (reference %s)",
		MsgSurveyInvitation:     "How did we handle your complaint? (reference %s)",
		MsgSurveyReminder:       "Reminder: how did we handle your complaint? (reference %s)",
	}
	table := zh
	if m.Language == "en" {
		table = en
	}
	return fmt.Sprintf(table[m.Kind], m.Reference)
}
