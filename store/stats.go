package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CasesByStatus counts the cases in each status (for the worker's gauge).
func (s *Store) CasesByStatus(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM cases GROUP BY status`)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	var status string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		counts[status] = n
		return nil
	})
	return counts, err
}
