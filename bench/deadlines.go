package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// DeadlineResult is how late the breaches of deadlines that all fall in the
// same second were recorded.
type DeadlineResult struct {
	Cases    int       `json:"cases"`
	DueIn    string    `json:"dueIn"`
	Lateness Latencies `json:"lateness"`
}

// servers are what a measurement runs against: the Temporal client with the
// codec's keys, and the application's database.
type servers struct {
	client client.Client
	keys   *codec.Keyring
	dsn    string
}

func devServers(sys *systemtest.System) servers {
	return servers{client: sys.Client, keys: sys.Keys, dsn: sys.Postgres.DSN()}
}

// startCases submits n copies of body through a starter whose cases are all
// received at the instant `at` and held to rules.
func startCases(ctx context.Context, sys servers, rules complaint.Rules, at time.Time, n int) ([]string, error) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return nil, err
	}
	opts := starter.Options{Namespace: "default", TaskQueue: complaint.TaskQueue, Location: loc, Rules: rules,
		DataConverter: codec.DataConverter(sys.keys)}
	if !at.IsZero() {
		opts.Clock = func() time.Time { return at }
	}
	s := starter.New(sys.client, opts)
	body, err := systemtest.DemoCase("demo-damaged-parcel-promotion")
	if err != nil {
		return nil, err
	}
	in := complaint.Intake{Channel: complaint.ChannelWeb, Subject: body["subject"].(string),
		Description: body["description"].(string), Category: complaint.CategoryLogistics}
	var (
		mu   sync.Mutex
		refs []string
		errs []error
	)
	load(n, 16, func(i int) error {
		c := in
		c.Customer = complaint.Customer{Name: "Bench", Email: fmt.Sprintf("bench-%d@example.com", i)}
		r, err := s.Submit(ctx, starter.Submission{Intake: c})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return err
		}
		refs = append(refs, r.Reference)
		return nil
	})
	if len(errs) > 0 {
		return refs, fmt.Errorf("%d of %d cases did not start: %v", len(errs), n, errs[0])
	}
	return refs, nil
}

func measureDeadlines(ctx context.Context, sys servers, n int, dueIn time.Duration) (DeadlineResult, error) {
	if dueIn == 0 { // time enough for every case to start before the common deadline
		dueIn = max(60*time.Second, time.Duration(n)*100*time.Millisecond)
	}
	rules := complaint.DefaultRules()
	for p, t := range rules.SLA.ByPriority {
		t.FirstResponse = dueIn
		rules.SLA.ByPriority[p] = t
	}
	t0 := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	res := DeadlineResult{Cases: n, DueIn: dueIn.String()}
	refs, err := startCases(ctx, sys, rules, t0, n)
	if err != nil {
		return res, err
	}
	if late := time.Since(t0); late > dueIn-5*time.Second {
		return res, fmt.Errorf("starting %d cases took %s, past their deadline; lower -deadlines", n, late)
	}
	conn, err := pgx.Connect(ctx, sys.dsn)
	if err != nil {
		return res, err
	}
	defer conn.Close(ctx)
	var lateness []time.Duration
	for waitUntil := t0.Add(dueIn + 3*time.Minute); time.Now().Before(waitUntil); time.Sleep(2 * time.Second) {
		rows, err := conn.Query(ctx, `SELECT occurred_at - due_at FROM sla_events
			WHERE clock = 'firstResponse' AND event = 'breached' AND reference = ANY($1)`, refs)
		if err != nil {
			return res, err
		}
		lateness, err = pgx.CollectRows(rows, pgx.RowTo[time.Duration])
		if err != nil {
			return res, err
		}
		if len(lateness) == len(refs) {
			break
		}
	}
	res.Lateness = summarise(lateness)
	return res, nil
}
