package store

import "context"

// ClaimIntakeKey records that the submission with keyHash becomes the case
// ref, unless one with the same key came first; it returns the reference on
// record: ref, or the earlier submission's.
func (s *Store) ClaimIntakeKey(ctx context.Context, keyHash, ref string) (string, error) {
	var claimed string
	// The no-op update makes RETURNING give the row already there; a
	// concurrent first claim is waited for, so both see the same reference.
	err := s.pool.QueryRow(ctx, `INSERT INTO intake_keys (key_hash, reference) VALUES ($1, $2)
		ON CONFLICT (key_hash) DO UPDATE SET key_hash = EXCLUDED.key_hash
		RETURNING reference`, keyHash, ref).Scan(&claimed)
	return claimed, err
}

// MoveIntakeKey moves a key from the reference from, taken by another key's
// case, to the next candidate to; a concurrent move to the same candidate
// has done it already.
func (s *Store) MoveIntakeKey(ctx context.Context, keyHash, from, to string) error {
	_, err := s.pool.Exec(ctx, `UPDATE intake_keys SET reference = $3 WHERE key_hash = $1 AND reference = $2`,
		keyHash, from, to)
	return err
}
