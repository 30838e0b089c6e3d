package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
)

// APIKey is an upstream system's key, without its secret.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	System    string     `json:"system"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// ErrNoKey is a key that does not exist or was revoked.
var ErrNoKey = errors.New("no such API key")

// ErrBadSystemName is a system name an API key cannot be issued to.
var ErrBadSystemName = errors.New("a system name is 1 to 64 lower-case letters, digits, _ or -, starting with a letter or digit")

// CreateAPIKey stores a new key by the SHA-256 of its secret.
func (s *Store) CreateAPIKey(ctx context.Context, k APIKey, keyHash string) error {
	if !complaint.ValidSystemName(k.System) {
		return fmt.Errorf("%w: %q", ErrBadSystemName, k.System)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (id, name, system, key_hash) VALUES ($1, $2, $3, $4)`,
		k.ID, k.Name, k.System, keyHash)
	return err
}

// APIKeyByHash finds the live key whose secret hashes to keyHash.
func (s *Store) APIKeyByHash(ctx context.Context, keyHash string) (APIKey, error) {
	var k APIKey
	err := s.pool.QueryRow(ctx, `SELECT id, name, system, created_at FROM api_keys
		WHERE key_hash = $1 AND revoked_at IS NULL`, keyHash).Scan(&k.ID, &k.Name, &k.System, &k.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, ErrNoKey
	}
	return k, err
}

// RevokeAPIKey revokes a key by its id; ErrNoKey when it is unknown or
// already revoked.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNoKey
	}
	return nil
}

// APIKeys lists every key, revoked ones too, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, system, created_at, revoked_at FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIKey, error) {
		var k APIKey
		err := row.Scan(&k.ID, &k.Name, &k.System, &k.CreatedAt, &k.RevokedAt)
		return k, err
	})
}

// RecordSubmitter notes which system submitted a case; the first system to
// do so keeps it. It returns the system on record.
func (s *Store) RecordSubmitter(ctx context.Context, reference, system, keyID string) (string, error) {
	var recorded string
	// The no-op update makes RETURNING give the row already there.
	err := s.pool.QueryRow(ctx, `INSERT INTO case_submitters (reference, system, key_id) VALUES ($1, $2, $3)
		ON CONFLICT (reference) DO UPDATE SET reference = EXCLUDED.reference
		RETURNING system`, reference, system, keyID).Scan(&recorded)
	return recorded, readError(err)
}

// Submitter is the system that submitted a case; ErrNotFound when none did.
func (s *Store) Submitter(ctx context.Context, reference string) (string, error) {
	var system string
	err := s.pool.QueryRow(ctx, `SELECT system FROM case_submitters WHERE reference = $1`, reference).Scan(&system)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return system, readError(err)
}

// DataKey is the codec's own type: the store keeps the codec's keys
// (codec.KeyStore) without the codec knowing of the store.
type DataKey = codec.DataKey

// DataKeys reads every version of a scope's data key, newest first.
func (s *Store) DataKeys(ctx context.Context, scope string) ([]DataKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT scope, version, master_key_id, wrapped FROM data_keys
		WHERE scope = $1 ORDER BY version DESC`, scope)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DataKey])
}

// AddDataKey stores version k.Version of a scope's key unless a process
// racing with this one stored it first; either way it returns the version
// that is stored.
func (s *Store) AddDataKey(ctx context.Context, k DataKey) (DataKey, error) {
	var out DataKey
	// One round trip when this process is first, the usual case.
	err := s.pool.QueryRow(ctx, `INSERT INTO data_keys (scope, version, master_key_id, wrapped)
		VALUES ($1, $2, $3, $4) ON CONFLICT (scope, version) DO NOTHING
		RETURNING scope, version, master_key_id, wrapped`, k.Scope, k.Version, k.MasterKeyID, k.Wrapped).
		Scan(&out.Scope, &out.Version, &out.MasterKeyID, &out.Wrapped)
	if !errors.Is(err, pgx.ErrNoRows) {
		return out, err
	}
	err = s.pool.QueryRow(ctx, `SELECT scope, version, master_key_id, wrapped FROM data_keys
		WHERE scope = $1 AND version = $2`, k.Scope, k.Version).Scan(&out.Scope, &out.Version, &out.MasterKeyID, &out.Wrapped)
	return out, err
}

// ReplaceWrapping re-wraps a stored key under another master key (master key
// rotation); a destroyed key stays destroyed.
func (s *Store) ReplaceWrapping(ctx context.Context, k DataKey) error {
	_, err := s.pool.Exec(ctx, `UPDATE data_keys SET master_key_id = $3, wrapped = $4
		WHERE scope = $1 AND version = $2 AND wrapped IS NOT NULL`, k.Scope, k.Version, k.MasterKeyID, k.Wrapped)
	return err
}

// AllDataKeys reads every live data key (for re-wrapping).
func (s *Store) AllDataKeys(ctx context.Context) ([]DataKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT scope, version, master_key_id, wrapped FROM data_keys
		WHERE wrapped IS NOT NULL ORDER BY scope, version`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DataKey])
}

// Subject names whose personal data an erasure is about: a customer by the
// upstream id, email or phone, or the customer of one case. At least one is
// set; every case matching any of them is erased.
type Subject struct {
	CustomerID string `json:"customerId,omitempty" maxLength:"128"`
	Email      string `json:"email,omitempty" maxLength:"254"`
	Phone      string `json:"phone,omitempty" maxLength:"32"`
	Reference  string `json:"reference,omitempty" maxLength:"32"`
}

// CustomerRecords are every case of one customer and the contact details
// they were found by.
type CustomerRecords struct {
	References []string
	Emails     []string // case-folded
	Phones     []string // digits only
}

// maxErasureRounds bounds the search for a customer's cases: each round
// follows the identifiers the cases found so far carry.
const maxErasureRounds = 8

// CustomerCases finds every case of the subject's customer by any of their
// identifiers: the cases the given fields (or the named case's customer)
// match, then the cases those cases' other identifiers match, and so on —
// erasing by email also finds the same customer's phone-only cases. Emails
// match case-folded; phones by their digits, with or without a country code.
func (s *Store) CustomerCases(ctx context.Context, sub Subject) (CustomerRecords, error) {
	refs, ids, emails, phones := set{}, set{}, set{}, set{}
	refs.add(sub.Reference)
	ids.add(sub.CustomerID)
	emails.add(FoldEmail(sub.Email))
	phones.add(PhoneDigits(sub.Phone))
	for range maxErasureRounds {
		rows, err := s.pool.Query(ctx, `
			SELECT reference, coalesce(customer_id, ''), coalesce(lower(trim(email)), ''), `+phoneDigitsSQL("phone")+`
			FROM customer_contacts c
			WHERE reference = ANY($1) OR customer_id = ANY($2) OR lower(trim(email)) = ANY($3)
			   OR EXISTS (SELECT 1 FROM unnest($4::text[]) AS p WHERE `+phonesMatchSQL(phoneDigitsSQL("c.phone"), "p")+`)`,
			refs.list(), ids.list(), emails.list(), phones.list())
		if err != nil {
			return CustomerRecords{}, err
		}
		grew := false
		var ref, id, email, phone string
		_, err = pgx.ForEachRow(rows, []any{&ref, &id, &email, &phone}, func() error {
			for _, added := range []bool{refs.add(ref), ids.add(id), emails.add(email), phones.add(phone)} {
				grew = grew || added
			}
			return nil
		})
		if err != nil {
			return CustomerRecords{}, err
		}
		if !grew {
			break
		}
	}
	// The named reference counts only when it exists.
	found, err := s.pool.Query(ctx, `SELECT reference FROM customer_contacts WHERE reference = ANY($1) ORDER BY 1`, refs.list())
	if err != nil {
		return CustomerRecords{}, err
	}
	out := CustomerRecords{Emails: emails.list(), Phones: phones.list()}
	if out.References, err = pgx.CollectRows(found, pgx.RowTo[string]); err != nil {
		return CustomerRecords{}, err
	}
	return out, nil
}

// FoldEmail is an email address as erasure compares it.
func FoldEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// PhoneDigits is a phone number as erasure compares it: its digits, without
// leading zeros (a trunk prefix).
func PhoneDigits(phone string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	return strings.TrimLeft(digits, "0")
}

// phoneDigitsSQL is PhoneDigits in SQL.
func phoneDigitsSQL(col string) string {
	return `ltrim(regexp_replace(coalesce(` + col + `, ''), '[^0-9]', '', 'g'), '0')`
}

// phonesMatchSQL: the same digits, or the same national number of at least
// nine digits with a country code of one to three digits before it on one
// side (+86 139 0000 7777 and 139 0000 7777).
func phonesMatchSQL(a, b string) string {
	return `(` + a + ` <> '' AND (` + a + ` = ` + b + `
		OR (length(` + b + `) >= 9 AND length(` + a + `) - length(` + b + `) BETWEEN 1 AND 3 AND right(` + a + `, length(` + b + `)) = ` + b + `)
		OR (length(` + a + `) >= 9 AND length(` + b + `) - length(` + a + `) BETWEEN 1 AND 3 AND right(` + b + `, length(` + a + `)) = ` + a + `)))`
}

// set is a set of non-empty strings.
type set map[string]bool

// add adds v and reports whether it was new.
func (s set) add(v string) bool {
	if v == "" || s[v] {
		return false
	}
	s[v] = true
	return true
}

func (s set) list() []string {
	out := make([]string, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// erasures clear, for one case ($1), every column that can
// hold personal data or the customer's own words beyond the contact row:
// what stays is counts, categories, channels, departments, times, SLA
// events, outcomes and scores. The README lists them; keep it in step.
var erasures = []struct{ what, sql string }{
	{"the case's free text and identifiers", `UPDATE cases SET external_id = NULL, order_id = NULL, subject = '` + ErasedName + `',
		close_summary = NULL WHERE reference = $1`},
	// The survey's comment is the customer's own words; its score stays.
	{"survey comments", `UPDATE surveys SET comment = NULL WHERE reference = $1`},
	// Findings and follow-ups may quote the customer; root causes stay for
	// the reports' hot spots.
	{"findings", `UPDATE findings SET findings = '` + ErasedName + `', evidence = '{}' WHERE reference = $1`},
	{"follow-up summaries", `UPDATE follow_ups SET summary = NULL WHERE reference = $1 AND summary IS NOT NULL`},
	// Proposals quote the case; their amounts stay for the reports.
	{"proposal messages", `UPDATE resolutions SET message = '` + ErasedName + `' WHERE reference = $1`},
	// Every step's summary: notes, findings, reasons, answers.
	{"the audit trail's summaries", `UPDATE case_events SET summary = '` + ErasedName + `' WHERE reference = $1
		AND event_key <> 'personal_data_erased'`},
	// The customer's address and a server's answer quoting it.
	{"message recipients", `UPDATE deliveries SET recipient = '` + ErasedName + `', last_error = NULL
		WHERE reference = $1 AND channel IN ('email', 'sms')`},
	// A key's hash is of the caller's own id, which may be guessable (an
	// order number); nothing needs it once the case is erased.
	{"intake keys", `DELETE FROM intake_keys WHERE reference = $1`},
	// The customer's files: sealed with the keys destroyed below, and gone.
	{"attachments", `DELETE FROM customer_attachments WHERE reference = $1`},
}

// ErasedName stands in for the customer's name once erased.
const ErasedName = "[erased]"

// EraseCase anonymises one case's personal data and destroys its data keys
// in one transaction, recording who did it in the audit trail: counts,
// categories, timings and scores stay, the person does not.
func (s *Store) EraseCase(ctx context.Context, reference, actor string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO case_events (reference, event_key, occurred_at, actor, step, summary)
			VALUES ($1, 'personal_data_erased', now(), $2, 'personal_data_erased',
				'The customer''s personal data was erased and the case''s data keys destroyed')
			ON CONFLICT (reference, event_key) DO NOTHING`, reference, actor); err != nil {
			return fmt.Errorf("record the erasure of %s: %w", reference, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE customer_contacts SET customer_id = NULL, name = $2, email = NULL,
			phone = NULL, description = $2, already_tried = NULL, erased_at = coalesce(erased_at, now())
			WHERE reference = $1`, reference, ErasedName); err != nil {
			return fmt.Errorf("anonymise %s: %w", reference, err)
		}
		for _, stmt := range erasures {
			if _, err := tx.Exec(ctx, stmt.sql, reference); err != nil {
				return fmt.Errorf("erase %s of %s: %w", stmt.what, reference, err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE data_keys SET wrapped = NULL, destroyed_at = coalesce(destroyed_at, now())
			WHERE scope = $1`, "case:"+reference); err != nil {
			return fmt.Errorf("destroy keys of %s: %w", reference, err)
		}
		return nil
	})
}
