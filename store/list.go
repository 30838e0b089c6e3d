package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable marks a read that failed because the database could not be
// reached, or not in time.
var ErrUnavailable = errors.New("the database is unavailable")

// ErrBadCursor is returned for a list cursor this store did not make.
var ErrBadCursor = errors.New("not a cursor of this list")

// readError tells the database being away (or too slow) from a query
// going wrong: only the first is ErrUnavailable.
func readError(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &pgErr):
		// connection exceptions, shutting down, too many connections, cancelled by a timeout
		if !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57") && pgErr.Code != "53300" {
			return err
		}
	case errors.As(err, &connectErr), errors.As(err, &netErr), pgconn.Timeout(err),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
	default:
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// DefaultListLimit and MaxListLimit bound a page of the list.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// ListFilter selects cases; every field set narrows the list.
type ListFilter struct {
	Status     string
	Category   string
	Department string // routed to this department (among others)
	Owner      string
	Channel    string
	Breached   *bool  // an SLA clock was breached, or none was
	From, To   string // received on these days (YYYY-MM-DD, inclusive) in the reports' time zone
	Q          string // words in the subject, case-insensitive
	Cursor     string // where the previous page ended
	Limit      int    // 0: DefaultListLimit
}

// ListItem is one case of the list: the record, no personal data.
type ListItem struct {
	Reference       string     `json:"reference"`
	Status          string     `json:"status"`
	Category        string     `json:"category"`
	Priority        string     `json:"priority"`
	Channel         string     `json:"channel"`
	Owner           string     `json:"owner"`
	Departments     []string   `json:"departments"`
	Subject         string     `json:"subject"`
	ReceivedAt      time.Time  `json:"receivedAt"`
	AcknowledgedAt  *time.Time `json:"acknowledgedAt,omitempty"`
	ClosedAt        *time.Time `json:"closedAt,omitempty"`
	Outcome         *string    `json:"outcome,omitempty"`
	EscalationLevel int        `json:"escalationLevel"`
	SLABreached     bool       `json:"slaBreached"`
	RepeatOf        *string    `json:"repeatOf,omitempty"`
}

// CasePage is one page of the list, newest first.
type CasePage struct {
	Items []ListItem `json:"items"`
	// NextCursor continues the list after this page; empty on the last page.
	NextCursor string `json:"nextCursor,omitempty"`
}

// cursor is the position of the last row of a page: the case list is
// ordered by (received_at DESC, reference), the deliveries by (created_at
// DESC, id), so the next page starts after it.
type cursor struct {
	at  time.Time
	key string
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "1:%d:%s", c.at.UnixMicro(), c.key))
}

func parseCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	parts := strings.SplitN(string(raw), ":", 3)
	if len(parts) != 3 || parts[0] != "1" || parts[2] == "" || len(parts[2]) > 256 {
		return cursor{}, ErrBadCursor
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	return cursor{at: time.UnixMicro(micros).UTC(), key: parts[2]}, nil
}

// escapeLike quotes the wildcards of a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListCases reads a page of cases matching f, newest first. Pages are cut
// on (received_at, reference), so paging on through the cursor never skips
// or repeats a case, whatever is received meanwhile.
func (s *Store) ListCases(ctx context.Context, f ListFilter) (CasePage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	var where []string
	args := []any{pgx.QueryExecModeExec} // plans made for these values, not generic ones
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args)-1)
	}
	for _, eq := range []struct{ column, value string }{
		{"status", f.Status}, {"category", f.Category}, {"owner", f.Owner}, {"channel", f.Channel},
	} {
		if eq.value != "" {
			where = append(where, eq.column+" = "+arg(eq.value))
		}
	}
	if f.Department != "" {
		where = append(where, "departments @> ARRAY["+arg(f.Department)+"]::text[]")
	}
	if f.Breached != nil {
		where = append(where, map[bool]string{true: "sla_breached", false: "NOT sla_breached"}[*f.Breached])
	}
	for _, d := range []struct{ day, cond string }{
		{f.From, "received_at >= (%s::date)::timestamp AT TIME ZONE (SELECT time_zone FROM report_settings)"},
		{f.To, "received_at < (%s::date + 1)::timestamp AT TIME ZONE (SELECT time_zone FROM report_settings)"},
	} {
		if d.day != "" {
			if _, err := time.Parse(time.DateOnly, d.day); err != nil {
				return CasePage{}, fmt.Errorf("day %q: %w", d.day, err)
			}
			where = append(where, fmt.Sprintf(d.cond, arg(d.day)))
		}
	}
	if f.Q != "" {
		where = append(where, "subject ILIKE "+arg("%"+escapeLike(f.Q)+"%"))
	}
	if f.Cursor != "" {
		c, err := parseCursor(f.Cursor)
		if err != nil {
			return CasePage{}, err
		}
		t, r := arg(c.at), arg(c.key)
		where = append(where, fmt.Sprintf("received_at <= %s AND (received_at < %s OR reference > %s)", t, t, r))
	}
	q := `SELECT reference, status, category, priority, channel, owner, departments, subject, received_at,
		acknowledged_at, closed_at, outcome, escalation_level, sla_breached, repeat_of FROM cases`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY received_at DESC, reference LIMIT %d", limit+1)
	var items []ListItem
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// A page is a few milliseconds of work: compiling it would take longer.
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ListItem])
		return err
	})
	if err != nil {
		return CasePage{}, readError(err)
	}
	page := CasePage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = cursor{at: last.ReceivedAt, key: last.Reference}.String()
	}
	for i := range page.Items {
		page.Items[i].ReceivedAt = page.Items[i].ReceivedAt.UTC()
	}
	return page, nil
}
