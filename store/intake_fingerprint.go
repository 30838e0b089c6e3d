package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// MatchIntakeBody records fingerprint as the body of the submission that
// claimed keyHash, unless one is on record already, and tells whether the
// body on record is this one. Concurrent first submissions with different
// bodies are ordered by the row lock: one is recorded, the other differs.
func (s *Store) MatchIntakeBody(ctx context.Context, keyHash, fingerprint string) (bool, error) {
	var same bool
	err := s.pool.QueryRow(ctx, `UPDATE intake_keys SET body_sha256 = COALESCE(body_sha256, $2)
		WHERE key_hash = $1 RETURNING body_sha256 = $2`, keyHash, fingerprint).Scan(&same)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil // no claim to compare with: nothing to refuse
	}
	return same, err
}
