package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Attachment is a file a customer sent, sealed with the case's data key.
// The store never sees the plain bytes.
type Attachment struct {
	ID          string
	Reference   string
	MessageID   string
	Filename    string
	ContentType string
	Size        int64
	KeyID       string
	Sealed      []byte
	ReceivedAt  time.Time
}

// SaveAttachment keeps a sealed attachment; added is false when it was kept
// before. Its id is derived from the message and the part, so the same mail
// delivered twice stores it once.
func (s *Store) SaveAttachment(ctx context.Context, a Attachment) (added bool, err error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO customer_attachments
		(id, reference, message_id, filename, content_type, size, key_id, sealed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
		a.ID, a.Reference, a.MessageID, a.Filename, a.ContentType, a.Size, a.KeyID, a.Sealed)
	if err != nil {
		return false, fmt.Errorf("save attachment of %s: %w", a.Reference, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteAttachments removes files of a case by id: those of a message its
// case refused.
func (s *Store) DeleteAttachments(ctx context.Context, reference string, ids []string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM customer_attachments WHERE reference = $1 AND id = ANY($2)`,
		reference, ids); err != nil {
		return fmt.Errorf("delete attachments of %s: %w", reference, err)
	}
	return nil
}

// AttachmentBytes is the size of a case's files, but those of the message
// exceptMessageID.
func (s *Store) AttachmentBytes(ctx context.Context, reference, exceptMessageID string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(SUM(size), 0) FROM customer_attachments
		WHERE reference = $1 AND message_id <> $2`, reference, exceptMessageID).Scan(&n)
	if err != nil {
		return 0, readError(fmt.Errorf("size of the attachments of %s: %w", reference, err))
	}
	return n, nil
}

// Attachment reads one attachment of a case; ErrNotFound when the case has
// none of that id (or it was erased).
func (s *Store) Attachment(ctx context.Context, reference, id string) (Attachment, error) {
	a := Attachment{ID: id, Reference: reference}
	err := s.pool.QueryRow(ctx, `SELECT message_id, filename, content_type, size, key_id, sealed, received_at
		FROM customer_attachments WHERE reference = $1 AND id = $2`, reference, id).
		Scan(&a.MessageID, &a.Filename, &a.ContentType, &a.Size, &a.KeyID, &a.Sealed, &a.ReceivedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("read attachment %s of %s: %w", id, reference, err)
	}
	return a, nil
}

// Attachments lists a case's attachments, oldest first, without their bytes.
func (s *Store) Attachments(ctx context.Context, reference string) ([]Attachment, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, message_id, filename, content_type, size, key_id, received_at
		FROM customer_attachments WHERE reference = $1 ORDER BY received_at, id`, reference)
	if err != nil {
		return nil, fmt.Errorf("list attachments of %s: %w", reference, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attachment, error) {
		a := Attachment{Reference: reference}
		err := r.Scan(&a.ID, &a.MessageID, &a.Filename, &a.ContentType, &a.Size, &a.KeyID, &a.ReceivedAt)
		return a, err
	})
}
