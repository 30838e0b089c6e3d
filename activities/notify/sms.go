package notify

import (
	"context"
	"log/slog"
)

// SMS is one text message to one phone number.
type SMS struct {
	ID   string // the same for a repeat, as a provider's idempotency key
	To   string
	Text string
}

// SMSSender is what an SMS provider's adapter implements.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) error
}

// LogSMS stands in until a provider is chosen: it logs that a message went
// out, never the number or the text.
type LogSMS struct{ Logger *slog.Logger }

func (l LogSMS) SendSMS(ctx context.Context, m SMS) error {
	l.Logger.InfoContext(ctx, "SMS to the customer (logged, no provider configured)", "id", m.ID, "chars", len([]rune(m.Text)))
	return nil
}
