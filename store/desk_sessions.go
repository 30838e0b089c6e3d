package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoSession is a desk session or sign-in that does not exist or has
// expired.
var ErrNoSession = errors.New("no such desk session")

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// SaveDeskSession writes a session under its cookie value id (stored
// hashed), to expire at expires; expired sessions and sign-ins go.
func (s *Store) SaveDeskSession(ctx context.Context, id, subject string, data []byte, started, lastSeen, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO desk_sessions (id_hash, subject, data, started_at, last_seen, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id_hash) DO UPDATE SET data = $3, last_seen = $5, expires_at = $6`,
		hashKey(id), subject, data, started, lastSeen, expires)
	if err != nil {
		return readError(err)
	}
	_, err = s.pool.Exec(ctx, `DELETE FROM desk_sessions WHERE expires_at < $1`, lastSeen)
	if err == nil {
		_, err = s.pool.Exec(ctx, `DELETE FROM desk_sign_ins WHERE expires_at < $1`, lastSeen)
	}
	return readError(err)
}

// DeskSession reads the live session of cookie value id.
func (s *Store) DeskSession(ctx context.Context, id string, now time.Time) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM desk_sessions WHERE id_hash = $1 AND expires_at > $2`,
		hashKey(id), now).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoSession
	}
	return data, readError(err)
}

// DeleteDeskSession ends a session.
func (s *Store) DeleteDeskSession(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM desk_sessions WHERE id_hash = $1`, hashKey(id))
	return readError(err)
}

// BeginDeskSignIn keeps what the sign-in of state needs at its callback.
func (s *Store) BeginDeskSignIn(ctx context.Context, state string, data []byte, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO desk_sign_ins (state_hash, data, expires_at) VALUES ($1, $2, $3)`,
		hashKey(state), data, expires)
	return readError(err)
}

// FinishDeskSignIn takes the sign-in of state, once.
func (s *Store) FinishDeskSignIn(ctx context.Context, state string, now time.Time) ([]byte, error) {
	var data []byte
	var live bool
	err := s.pool.QueryRow(ctx, `DELETE FROM desk_sign_ins WHERE state_hash = $1 RETURNING data, expires_at > $2`,
		hashKey(state), now).Scan(&data, &live)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !live {
		return nil, ErrNoSession
	}
	return data, readError(err)
}
