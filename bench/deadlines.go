package bench

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// DeadlineResult is one burst: n deadlines falling in the same second,
// the bare timer floor measured beside ours on the same server.
type DeadlineResult struct {
	Cases int    `json:"cases"`
	DueIn string `json:"dueIn"`
	// Floor: bare workflows, one timer each, woken to upsert one search
	// attribute; due time to the workflow task that woke them.
	Floor Latencies `json:"floor"`
	// Breach: our cases' firstResponse clocks, due time to the breach
	// recorded (the workflow time of the task that decided it).
	Breach Latencies `json:"breach"`
	// Notice: due time to the escalation notice sent (its delivery row).
	Notice Latencies `json:"notice"`
	// The breach's p50 and p99 as multiples of the floor's.
	P50Ratio float64 `json:"p50RatioToFloor"`
	P99Ratio float64 `json:"p99RatioToFloor"`
	// QuietFor is how long every case had been registered and idle (its
	// warning recorded) before the burst; negative when the start-up ran
	// into it (raise -deadline-lead).
	QuietFor string `json:"quietFor"`
	// FloorQuietFor is the same for the bare timers.
	FloorQuietFor string `json:"floorQuietFor"`
	// The CPU seconds each kind of process the bench started spent per
	// deadline, from the due time until every bare timer had woken
	// (FloorCPU) and until every breach was recorded (BreachCPU): where a
	// burst's work goes, and what ours costs beyond the floor's.
	FloorCPU  map[string]float64 `json:"floorCpuSecondsPerDeadline,omitempty"`
	BreachCPU map[string]float64 `json:"breachCpuSecondsPerDeadline,omitempty"`
	// Cache: how our workers found the cases the burst woke, from the due
	// time until every breach was recorded.
	Cache *BurstCache `json:"cache,omitempty"`
}

// BurstCache counts our cases' workflow tasks during a burst by how the
// worker that took each found its case: the SDK's sticky-cache counters.
// A task neither a hit nor a miss came with the case's whole history: from
// the shared queue, where the server moves a task its worker's sticky
// queue has held too long.
type BurstCache struct {
	// Hits found the case in memory, as the task left it.
	Hits int `json:"hits"`
	// Misses reloaded the case from its history: it had been evicted, or
	// what was cached was out of date.
	Misses int `json:"misses"`
}

// servers are what a measurement runs against: the Temporal client with the
// codec's keys, and the application's database.
type servers struct {
	client client.Client
	keys   *codec.Keyring
	dsn    string
	// workerMetrics are our workers' /metrics, where the SDK counts how
	// each workflow task found its case.
	workerMetrics []string
}

func devServers(sys *systemtest.System) servers {
	return servers{client: sys.Client, keys: sys.Keys, dsn: sys.Postgres.DSN(),
		workerMetrics: []string{sys.WorkerURL() + "/metrics"}}
}

// startCases submits n copies of body through a starter whose cases are all
// received at the instant `at` and held to rules.
func startCases(ctx context.Context, sys servers, rules complaint.Rules, at time.Time, n int) ([]string, error) {
	opts, err := starterOptions(codec.DataConverter(sys.keys), rules)
	if err != nil {
		return nil, err
	}
	if !at.IsZero() {
		opts.Clock = func() time.Time { return at }
	}
	s := starter.New(sys.client, opts)
	in, err := demoIntake()
	if err != nil {
		return nil, err
	}
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

// measureDeadlines measures one burst of n deadlines: first the timer floor,
// then n cases whose firstResponse clocks all fall due in the same second,
// dueIn after they start. Every other target is a hundred days away and the
// warning point is at the start (its notice is part of the start-up), so
// the system is quiescent before the burst, as in life, where a 75 %
// warning comes an hour before a 4-hour breach. It never fails on a time:
// what is not recorded within half an hour is reported as a shorter count.
// profiles, when not "", is a folder for CPU profiles of the bench's own
// process during each burst (floor-N.pprof and breach-N.pprof): on the dev
// server, of the worker that runs it.
func measureDeadlines(ctx context.Context, sys servers, n int, dueIn time.Duration, run, profiles string) (DeadlineResult, error) {
	if dueIn == 0 {
		// Time enough for every case to start and be quiet before the
		// common deadline: a case starts, registers and is warned in about
		// 55–65 ms on two CPUs (5,000 and 10,000 measured on both forms),
		// so 100 ms leaves a third of the lead quiet without an idle wait
		// of minutes; the table prints the quiet time it got.
		dueIn = max(60*time.Second, time.Duration(n)*100*time.Millisecond)
	}
	res := DeadlineResult{Cases: n, DueIn: dueIn.String()}
	profile := func(kind string) string {
		if profiles == "" {
			return ""
		}
		return filepath.Join(profiles, fmt.Sprintf("%s-%d.pprof", kind, n))
	}
	floorLead := max(30*time.Second, time.Duration(n)*60*time.Millisecond)
	floor, err := measureTimerFloor(ctx, sys.client, n, floorLead, fmt.Sprintf("%s-%d", run, n), profile("floor"))
	res.Floor, res.FloorCPU = floor.lateness, floor.cpu
	res.FloorQuietFor = floor.quiet.Round(100 * time.Millisecond).String()
	if err != nil {
		return res, err
	}
	rules := complaint.DefaultRules()
	far := 100 * 24 * time.Hour
	for p, t := range rules.SLA.ByPriority {
		t.Acknowledge, t.InvestigationStart, t.TakeOwnership = far, far, far
		t.Resolution, t.CustomerAnswer, t.Execution = far, far, far
		t.FirstResponse = dueIn
		rules.SLA.ByPriority[p] = t
	}
	rules.SLA.WarnAt = 0.001
	t0 := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	due := t0.Add(dueIn)
	refs, err := startCases(ctx, sys, rules, t0, n)
	if err != nil {
		return res, err
	}
	conn, err := pgx.Connect(ctx, sys.dsn)
	if err != nil {
		return res, err
	}
	defer conn.Close(ctx)
	count := func(sql string) (int, error) {
		var k int
		return k, conn.QueryRow(ctx, sql, refs).Scan(&k)
	}
	// Quiet: every case registered, its warning recorded.
	quiet := time.Now()
	for until := due.Add(30 * time.Minute); time.Now().Before(until); time.Sleep(time.Second) {
		k, err := count(`SELECT count(*) FROM sla_events WHERE clock = 'firstResponse' AND event = 'warned' AND reference = ANY($1)`)
		if err != nil {
			return res, err
		}
		if quiet = time.Now(); k >= n {
			break
		}
	}
	res.QuietFor = due.Sub(quiet).Round(100 * time.Millisecond).String()
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(time.Until(due)):
	}
	cacheBefore, cacheErr := readBurstCache(ctx, sys.workerMetrics)
	window := openBurst(profile("breach"))
	lateness := func(sql, what string) ([]time.Duration, error) {
		var out []time.Duration
		for until := due.Add(30 * time.Minute); time.Now().Before(until); time.Sleep(2 * time.Second) {
			rows, err := conn.Query(ctx, sql, refs)
			if err != nil {
				return nil, err
			}
			if out, err = pgx.CollectRows(rows, pgx.RowTo[time.Duration]); err != nil {
				return nil, err
			}
			if len(out) >= n {
				break
			}
		}
		return out, nil
	}
	breaches, err := lateness(`SELECT occurred_at - due_at FROM sla_events
		WHERE clock = 'firstResponse' AND event = 'breached' AND reference = ANY($1)`, "breaches")
	res.BreachCPU = window.close(n)
	if err != nil {
		return res, err
	}
	// The counts are context: a worker that cannot be read leaves them out,
	// and so does one restarted meanwhile (its counters began again).
	if cacheAfter, err := readBurstCache(ctx, sys.workerMetrics); err == nil && cacheErr == nil &&
		cacheAfter.Hits >= cacheBefore.Hits && cacheAfter.Misses >= cacheBefore.Misses {
		res.Cache = &BurstCache{Hits: cacheAfter.Hits - cacheBefore.Hits, Misses: cacheAfter.Misses - cacheBefore.Misses}
	}
	notices, err := lateness(`SELECT d.sent_at - e.due_at FROM deliveries d
		JOIN sla_events e ON e.reference = d.reference AND e.clock = 'firstResponse' AND e.event = 'breached'
		WHERE d.kind = 'staff_escalation' AND d.status = 'sent' AND d.reference = ANY($1)`, "notices")
	if err != nil {
		return res, err
	}
	res.Breach, res.Notice = summarise(breaches), summarise(notices)
	if res.Floor.P50ms > 0 {
		res.P50Ratio = res.Breach.P50ms / res.Floor.P50ms
	}
	if res.Floor.P99ms > 0 {
		res.P99Ratio = res.Breach.P99ms / res.Floor.P99ms
	}
	return res, nil
}

// starterOptions are those of the API's starter, for cases the bench
// submits in its own process.
func starterOptions(dc converter.DataConverter, rules complaint.Rules) (starter.Options, error) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return starter.Options{}, err
	}
	return starter.Options{Namespace: "default", TaskQueue: complaint.TaskQueue, Location: loc, Rules: rules,
		DataConverter: dc}, nil
}

// demoIntake is the bench's complaint as the starter takes it: the damaged
// parcel of the demo cases, without a customer (each submission adds one).
func demoIntake() (complaint.Intake, error) {
	body, err := systemtest.DemoCase("demo-damaged-parcel-promotion")
	if err != nil {
		return complaint.Intake{}, err
	}
	return complaint.Intake{Channel: complaint.ChannelWeb, Subject: body["subject"].(string),
		Description: body["description"].(string), Category: complaint.CategoryLogistics}, nil
}

// readBurstCache sums the SDK's sticky-cache counters of our cases over the
// workers' /metrics (none: zero counts).
func readBurstCache(ctx context.Context, urls []string) (BurstCache, error) {
	var c BurstCache
	for _, url := range urls {
		families, err := scrape(ctx, url)
		if err != nil {
			return c, err
		}
		c.Hits += caseCounter(families["temporal_sticky_cache_hit_total"])
		c.Misses += caseCounter(families["temporal_sticky_cache_miss_total"])
	}
	return c, nil
}

// scrape reads a Prometheus text exposition, giving up after five seconds
// (a worker too busy to answer leaves the counts out, it does not hold up
// the bench).
func scrape(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// caseCounter is a counter's total over the series of our case workflow
// (an absent counter has not counted yet: 0).
func caseCounter(f *dto.MetricFamily) int {
	total := 0.0
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "workflow_type" && l.GetValue() == complaint.WorkflowName {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return int(total)
}
