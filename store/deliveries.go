package store

import (
	"context"
	"errors"
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
	// Payload is a webhook's body, kept so that a failed one can be sent
	// again as it was; nil for the other channels.
	Payload []byte `json:"-" db:"-"`
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
		INSERT INTO deliveries (id, reference, event_key, channel, kind, recipient, attempts, payload)
		VALUES ($1,$2,$3,$4,$5,$6,1,$7)
		ON CONFLICT (id) DO UPDATE SET attempts = deliveries.attempts + (deliveries.status = 'pending')::int
		RETURNING status, attempts`,
		d.ID, d.Reference, d.EventKey, d.Channel, d.Kind, d.Recipient, d.Payload).Scan(&status, &attempts)
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
	Cursor    string // where the previous page ended
}

// DeliveryPage is one page of deliveries, newest first.
type DeliveryPage struct {
	Deliveries []Delivery `json:"deliveries"`
	// NextCursor continues the list after this page; empty on the last page.
	NextCursor string `json:"nextCursor,omitempty"`
}

// Deliveries lists messages, newest first: a case's, or every failed one
// for an operator; one page of them.
func (s *Store) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	p, err := s.DeliveryPage(ctx, f)
	return p.Deliveries, err
}

// DeliveryPage is a page of Deliveries. Pages are cut on (created_at, id),
// so paging on never skips or repeats a delivery, whatever is added
// meanwhile.
func (s *Store) DeliveryPage(ctx context.Context, f DeliveryFilter) (DeliveryPage, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var afterAt *time.Time // nil: the first page
	var afterID string
	if f.Cursor != "" {
		c, err := parseCursor(f.Cursor)
		if err != nil {
			return DeliveryPage{}, err
		}
		afterAt, afterID = &c.at, c.key
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, reference, event_key, channel, kind, recipient, status, attempts, COALESCE(last_error, ''),
			created_at, sent_at, failed_at
		FROM deliveries
		WHERE ($1 = '' OR reference = $1) AND ($2 = '' OR status = $2) AND ($4 = '' OR channel = $4)
			AND ($5::timestamptz IS NULL OR created_at < $5 OR (created_at = $5 AND id > $6))
		ORDER BY created_at DESC, id
		LIMIT $3`, f.Reference, f.Status, f.Limit+1, f.Channel, afterAt, afterID)
	if err != nil {
		return DeliveryPage{}, readError(fmt.Errorf("list deliveries: %w", err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Delivery])
	if err != nil {
		return DeliveryPage{}, readError(fmt.Errorf("list deliveries: %w", err))
	}
	page := DeliveryPage{Deliveries: out}
	if len(out) > f.Limit {
		page.Deliveries = out[:f.Limit]
		last := page.Deliveries[f.Limit-1]
		page.NextCursor = cursor{at: last.CreatedAt, key: last.ID}.String()
	}
	return page, nil
}

// Delivery reads one delivery, with its payload.
func (s *Store) Delivery(ctx context.Context, id string) (Delivery, error) {
	var d Delivery
	err := s.pool.QueryRow(ctx, `
		SELECT id, reference, event_key, channel, kind, recipient, status, attempts, COALESCE(last_error, ''),
			created_at, sent_at, failed_at, payload
		FROM deliveries WHERE id = $1`, id).Scan(&d.ID, &d.Reference, &d.EventKey, &d.Channel, &d.Kind,
		&d.Recipient, &d.Status, &d.Attempts, &d.LastError, &d.CreatedAt, &d.SentAt, &d.FailedAt, &d.Payload)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, readError(fmt.Errorf("read delivery %s: %w", id, err))
	}
	return d, nil
}

// ReopenDelivery puts a failed delivery back to pending with its attempts
// counted afresh, for an operator's redelivery; a delivery that is not
// failed is left as it is.
func (s *Store) ReopenDelivery(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE deliveries SET status = 'pending', attempts = 0, failed_at = NULL
		WHERE id = $1 AND status = 'failed'`, id); err != nil {
		return fmt.Errorf("reopen delivery %s: %w", id, err)
	}
	return nil
}
