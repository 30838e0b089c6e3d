package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// ClaimIntakeKey records that the submission with keyHash becomes the case
// ref, unless one with the same key came first; it returns the reference on
// record, ref or the earlier submission's, and whether this call claimed it.
func (s *Store) ClaimIntakeKey(ctx context.Context, keyHash, ref string) (string, bool, error) {
	var (
		claimed string
		first   bool
	)
	// The no-op update makes RETURNING give the row already there (a row
	// just inserted has no xmax); a concurrent first claim is waited for, so
	// both see the same reference.
	err := s.pool.QueryRow(ctx, `INSERT INTO intake_keys (key_hash, reference) VALUES ($1, $2)
		ON CONFLICT (key_hash) DO UPDATE SET key_hash = EXCLUDED.key_hash
		RETURNING reference, xmax = 0`, keyHash, ref).Scan(&claimed, &first)
	return claimed, first, err
}

// CaseStatus is the status on record of the case ref; false when it has no
// record.
func (s *Store) CaseStatus(ctx context.Context, ref string) (complaint.Status, bool, error) {
	var status complaint.Status
	err := s.pool.QueryRow(ctx, `SELECT status FROM cases WHERE reference = $1`, ref).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return status, err == nil, err
}

// MoveIntakeKey moves a key from the reference from, taken by another key's
// case, to the next candidate to; a concurrent move to the same candidate
// has done it already.
func (s *Store) MoveIntakeKey(ctx context.Context, keyHash, from, to string) error {
	_, err := s.pool.Exec(ctx, `UPDATE intake_keys SET reference = $3 WHERE key_hash = $1 AND reference = $2`,
		keyHash, from, to)
	return err
}
