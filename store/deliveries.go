package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery is one message on its way out. ID is derived from the case, the
// step and the channel, so every attempt at the same message finds the
// same row.
type Delivery struct {
	ID        string     `json:"id"`
	Reference string     `json:"reference"`
	EventKey  string     `json:"eventKey"`
	Channel   string     `json:"channel"`
	Kind      string     `json:"kind"`
	Recipient string     `json:"recipient"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"lastError,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	SentAt    *time.Time `json:"sentAt,omitempty"`
	FailedAt  *time.Time `json:"failedAt,omitempty"`
}

// Delivery statuses.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
)

// BeginDelivery records an attempt at d and returns its status and how
// many attempts it has had, this one included: pending means send it now;
// sent or failed means it was settled before and must not go out again.
func (s *Store) BeginDelivery(ctx context.Context, d Delivery) (string, int, error) {
	var status string
	var attempts int
	err := s.pool.QueryRow(ctx, `
		INSERT INTO deliveries (id, reference, event_key, channel, kind, recipient, attempts)
		VALUES ($1,$2,$3,$4,$5,$6,1)
		ON CONFLICT (id) DO UPDATE SET attempts = deliveries.attempts + (deliveries.status = 'pending')::int
		RETURNING status, attempts`,
		d.ID, d.Reference, d.EventKey, d.Channel, d.Kind, d.Recipient).Scan(&status, &attempts)
	if err != nil {
		return "", 0, fmt.Errorf("begin delivery %s: %w", d.ID, err)
	}
	return status, attempts, nil
}

// DeliveryDone settles a delivery: sent, or failed for good with the error
// an operator will read.
func (s *Store) DeliveryDone(ctx context.Context, id string, sendErr error) error {
	var err error
	if sendErr == nil {
		_, err = s.pool.Exec(ctx, `UPDATE deliveries SET status = 'sent', sent_at = now(), last_error = NULL
			WHERE id = $1 AND status = 'pending'`, id)
	} else {
		_, err = s.pool.Exec(ctx, `UPDATE deliveries SET status = 'failed', failed_at = now(), last_error = $2
			WHERE id = $1 AND status = 'pending'`, id, sendErr.Error())
	}
	if err != nil {
		return fmt.Errorf("settle delivery %s: %w", id, err)
	}
	return nil
}

// DeliveryRetrying notes why an attempt failed; the delivery stays pending.
func (s *Store) DeliveryRetrying(ctx context.Context, id string, sendErr error) error {
	if _, err := s.pool.Exec(ctx, `UPDATE deliveries SET last_error = $2 WHERE id = $1 AND status = 'pending'`,
		id, sendErr.Error()); err != nil {
		return fmt.Errorf("note delivery attempt %s: %w", id, err)
	}
	return nil
}

// DeliveryFilter narrows Deliveries.
type DeliveryFilter struct {
	Reference string
	Status    string
	Channel   string
	Limit     int
}

// Deliveries lists messages, newest first: a case's, or every failed one
// for an operator.
func (s *Store) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, reference, event_key, channel, kind, recipient, status, attempts, COALESCE(last_error, ''),
			created_at, sent_at, failed_at
		FROM deliveries
		WHERE ($1 = '' OR reference = $1) AND ($2 = '' OR status = $2) AND ($4 = '' OR channel = $4)
		ORDER BY created_at DESC, id
		LIMIT $3`, f.Reference, f.Status, f.Limit, f.Channel)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Delivery])
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}
