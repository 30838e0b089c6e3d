// Package activities is everything a case does to the world: the database
// record and audit trail, and the messages to the customer. The methods hang
// off one struct holding their dependencies, and each is safe to retry.
package activities

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/activity"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// Activities are registered on the worker as one set.
type Activities struct {
	Store    *store.Store
	Notifier Notifier
}

// RegisterCase writes the new case to the database.
func (a *Activities) RegisterCase(ctx context.Context, c complaint.NewCase) error {
	if err := a.Store.RegisterCase(ctx, c); err != nil {
		return fmt.Errorf("register %s: %w", c.Reference, err)
	}
	return nil
}

// RecordStep appends one step to the case's audit trail.
func (a *Activities) RecordStep(ctx context.Context, st store.Step) error {
	if err := a.Store.RecordStep(ctx, st); err != nil {
		return fmt.Errorf("record %s of %s: %w", st.Key, st.Reference, err)
	}
	return nil
}

// Acknowledgement tells the customer their complaint arrived and which
// reference to quote.
type Acknowledgement struct {
	Reference string
	Language  string
	Email     string
	Phone     string
	Name      string
}

// AcknowledgeCustomer sends the acknowledgement.
func (a *Activities) AcknowledgeCustomer(ctx context.Context, ack Acknowledgement) error {
	if err := a.Notifier.Acknowledge(ctx, ack); err != nil {
		return fmt.Errorf("acknowledge %s: %w", ack.Reference, err)
	}
	return nil
}

// Notifier reaches the customer.
type Notifier interface {
	Acknowledge(ctx context.Context, ack Acknowledgement) error
}

// LogNotifier writes each message to the log instead of sending it; it stands
// in until a real channel is configured. It logs which case and which
// channel, never the customer's address or name.
type LogNotifier struct {
	Logger *slog.Logger
}

func (n LogNotifier) Acknowledge(ctx context.Context, ack Acknowledgement) error {
	channel := "email"
	if ack.Email == "" {
		channel = "sms"
	}
	info := activity.GetInfo(ctx)
	n.Logger.InfoContext(ctx, "acknowledgement sent",
		"reference", ack.Reference, "workflowId", info.WorkflowExecution.ID,
		"channel", channel, "language", ack.Language, "text", AcknowledgementText(ack))
	return nil
}

// AcknowledgementText is the message body, in the customer's language.
func AcknowledgementText(ack Acknowledgement) string {
	if ack.Language == "en" {
		return fmt.Sprintf("We have received your complaint. Your reference is %s; "+
			"the responsible team will contact you within 24 hours.", ack.Reference)
	}
	return fmt.Sprintf("您的投诉已收到，受理编号为 %s。责任部门将在24小时内与您联系。", ack.Reference)
}
