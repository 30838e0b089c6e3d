package activities

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// RedeliverWebhook sends a failed webhook again, with the same id and body
// and a fresh signature. The delivery goes back to pending with its
// attempts counted afresh, and then runs as the step's did: retried until
// delivered or given up, and recorded either way.
func (a *Activities) RedeliverWebhook(ctx context.Context, r complaint.Redelivery) error {
	d, err := a.Store.Delivery(ctx, r.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("no such delivery", "NotFound", err)
	}
	if err != nil {
		return err
	}
	wh := a.Channels.Webhooks
	if d.Channel != "webhook" || d.Payload == nil || !wh.Subscribed(d.Recipient) {
		return temporal.NewNonRetryableApplicationError(
			"only a webhook whose body is on record, to a subscribed system, can be sent again", "NotRedeliverable", nil)
	}
	// A retry of this activity finds the row pending and leaves it so; a
	// delivery given up again stays failed until the next request.
	if err := a.Store.ReopenDelivery(ctx, d.ID); err != nil {
		return err
	}
	eventID := strings.TrimSuffix(d.ID, "/webhook")
	return a.deliver(ctx, d, a.Channels.MaxAttempts, func(ctx context.Context) error {
		return wh.Post(ctx, d.Recipient, eventID, d.Payload)
	})
}
