package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
	"github.com/complaintdesk/complaintdesk/systemtest"
	"github.com/complaintdesk/complaintdesk/systemtest/prodform"
)

// Config chooses the sizes of the measurements.
type Config struct {
	Requests    int // intake: calls of each kind
	Concurrency int
	// Deadlines are the sizes of the deadline bursts (the growth curve):
	// for each, that many cases whose deadlines fall in the same second,
	// beside as many bare timers.
	Deadlines []int
	// DeadlineLead is how far ahead of their start that second lies; 0:
	// time enough for the cases to start (at least a minute).
	DeadlineLead time.Duration
	// BurstProfiles, when set, is a folder for CPU profiles of the bench's
	// own process during the dev server's bursts, where it runs the worker
	// of both the floor and our cases (`go tool pprof`).
	BurstProfiles string
	MemoryCases   int // open cases held by one worker
	Out           string
	// Form is where to measure: "dev" (the Temporal dev server, every
	// measure), "prod" (the production form: intake, cost, deadlines), "both", or
	// "none" (only the reports, which need no Temporal).
	Form string
	// The list and report queries: ReportCases made-up cases seeded into a
	// private PostgreSQL from ReportSeed, or the database at ReportDSN as it
	// is; each query run ReportRuns times.
	ReportCases int
	ReportRuns  int
	ReportSeed  uint64
	ReportDSN   string
}

// Results is everything one run measured, with the machine it ran on.
type Results struct {
	When      time.Time        `json:"when"`
	Machine   string           `json:"machine"`
	Server    string           `json:"server"`
	Intake    *IntakeResult    `json:"intake,omitempty"`
	Cost      *CostResult      `json:"cost,omitempty"`
	Deadlines []DeadlineResult `json:"deadlines,omitempty"`
	Memory    *MemoryResult    `json:"memory,omitempty"`
	Reports   *ReportsResult   `json:"reports,omitempty"`
	// Production holds the same measures on the production form.
	Production *FormResult `json:"production,omitempty"`
	// Errors are the measurements that failed; the figures above are what
	// the rest measured.
	Errors []string `json:"errors,omitempty"`
}

// FormResult is what was measured on the production form.
type FormResult struct {
	Server    string           `json:"server"`
	Intake    *IntakeResult    `json:"intake,omitempty"`
	Cost      *CostResult      `json:"cost,omitempty"`
	Deadlines []DeadlineResult `json:"deadlines,omitempty"`
}

// ParseSizes reads "1000,5000,10000"; "0" is none.
func ParseSizes(s string) ([]int, error) {
	out := []int{}
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q: want sizes such as 1000,5000,10000", s)
		}
		if n > 0 {
			out = append(out, n)
		}
	}
	return out, nil
}

// staffToken is an admin's token on the bench's system: the API requires one.
var staffToken string

// surveyToken is a supervisor's who handles no case: the survey answer is
// entered with it.
var surveyToken string

// Run starts its own servers (PostgreSQL and the Temporal dev server, as
// the tests do, and/or the production form), measures, prints a table and
// writes JSON.
func Run(ctx context.Context, cfg Config, out io.Writer) (Results, error) {
	res := Results{When: time.Now().UTC(),
		Machine: fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())}
	run := fmt.Sprint(time.Now().Unix())
	// A measurement that fails is reported with the others, never at the
	// cost of what the run measured before or after it.
	var errs []error
	failed := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(out, "%s: %v (the other figures stand)\n", what, err)
			res.Errors = append(res.Errors, what+": "+err.Error())
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	switch cfg.Form {
	case "", "dev":
		failed("dev server", runDev(ctx, cfg, out, run, &res))
	case "prod":
		failed("production form", runProd(ctx, cfg, out, run, &res))
	case "both":
		failed("dev server", runDev(ctx, cfg, out, run, &res))
		failed("production form", runProd(ctx, cfg, out, run, &res))
	case "none":
	default:
		return res, fmt.Errorf("form %q: want dev, prod, both or none", cfg.Form)
	}
	// Last, with the Temporal servers stopped: seeding loads both CPUs.
	if cfg.ReportCases > 0 || cfg.ReportDSN != "" {
		var err error
		res.Reports, err = measureReports(ctx, cfg, out)
		failed("reports", err)
	}
	printTable(out, res)
	if cfg.Out != "" {
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return res, err
		}
		if err := os.WriteFile(cfg.Out, data, 0o644); err != nil {
			return res, err
		}
		fmt.Fprintf(out, "\nfigures written to %s\n", cfg.Out)
	}
	return res, errors.Join(errs...)
}

// intakeOn measures intake on one form — bare starts of a no-op workflow
// on its own queue, then complaints through the API — and waits until the
// cases it submitted are acknowledged; nil when -requests is 0.
func intakeOn(ctx context.Context, cfg Config, out io.Writer, label string, c client.Client, dc converter.DataConverter,
	apiURL, dsn, run string) (*IntakeResult, error) {
	if cfg.Requests == 0 {
		return nil, nil
	}
	body, err := systemtest.DemoCase("demo-damaged-parcel-promotion")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "%sintake: %d bare workflow starts without a worker, %d with one, %d complaints through the API, "+
		"then %d in process, %d at a time ...\n", label, cfg.Requests, cfg.Requests, cfg.Requests, cfg.Requests, cfg.Concurrency)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	opts, err := starterOptions(dc, complaint.DefaultRules())
	if err != nil {
		return nil, err
	}
	keys := &timedKeys{IntakeKeys: db, took: map[string]time.Duration{}}
	opts.IntakeKeys = keys
	r, err := measureIntake(ctx, c, apiURL, body, cfg.Requests, cfg.Concurrency, run)
	if err != nil {
		return nil, err
	}
	if err := measureInProcess(ctx, starter.New(c, opts), keys, cfg.Requests, cfg.Concurrency, run, &r); err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "waiting for the submitted cases to be acknowledged ...")
	return &r, drain(ctx, dsn)
}

// runProd measures intake (through nginx and both API replicas) and the
// cost of a case on the production form.
func runProd(ctx context.Context, cfg Config, out io.Writer, run string, res *Results) error {
	fmt.Fprintln(out, "starting the production form: Temporal server on PostgreSQL, 2 workers, 2 APIs behind nginx ...")
	// 16 shards, as make prod.
	form, err := prodform.Start(ctx, prodform.Options{HistoryShards: 16, AppEnv: []string{"LOG_LEVEL=error",
		"SURVEY_DELAY=" + quickSurveyDelay.String(), "SURVEY_REMINDER=" + quickSurveyReminder.String(),
		"SURVEY_EXPIRY=" + quickSurveyExpiry.String(), "REOPEN_WINDOW=" + (quickSurveyDelay + quickSurveyExpiry).String()}})
	if err != nil {
		return err
	}
	defer func() {
		if err := form.Stop(); err != nil {
			fmt.Fprintln(out, "stopping the production form:", err)
		}
	}()
	staffToken, surveyToken = form.AdminToken, form.StaffToken
	stopAnchors, err := startAnchorWorker(form.Client)
	if err != nil {
		return err
	}
	defer stopAnchors()
	r := &FormResult{Server: fmt.Sprintf("Temporal server %s on PostgreSQL 15 (%d history shards), 2 workers, 2 APIs behind nginx",
		form.ServerVersion, form.Server.HistoryShards)}
	res.Production = r
	if r.Intake, err = intakeOn(ctx, cfg, out, "production form, ", form.Client, codec.DataConverter(form.Keys), form.APIURL(), form.AppDB.DSN(),
		run+"-prod"); err != nil {
		return err
	}
	fmt.Fprintln(out, "production form, cost: one case from intake to the end of its reopen window ...")
	c, err := driveHappyPath(ctx, form.Client, codec.DataConverter(form.Keys), form.APIURL(), run+"-prod")
	if err != nil {
		return err
	}
	r.Cost = &c
	prod := servers{client: form.Client, keys: form.Keys, dsn: form.AppDB.DSN()}
	for i := 0; ; i++ {
		url, err := form.AppURL(devenv.WorkerName(i))
		if err != nil {
			break // no more workers
		}
		prod.workerMetrics = append(prod.workerMetrics, url+"/metrics")
	}
	for _, n := range cfg.Deadlines {
		fmt.Fprintf(out, "production form, deadlines: %d bare timers, then %d cases, due in the same second ...\n", n, n)
		d, err := measureDeadlines(ctx, prod, n, cfg.DeadlineLead, run+"-prod", "")
		if err != nil {
			return err
		}
		r.Deadlines = append(r.Deadlines, d)
	}
	return nil
}

func runDev(ctx context.Context, cfg Config, out io.Writer, run string, res *Results) error {
	res.Server = "temporal server start-dev (SQLite), PostgreSQL 15"
	fmt.Fprintln(out, "starting PostgreSQL, Temporal dev server, worker and API ...")
	sys, err := systemtest.Start(ctx, systemtest.Options{WorkerEnv: workerEnv()})
	if err != nil {
		return err
	}
	defer sys.Stop()
	staffToken, surveyToken = sys.AdminToken, sys.StaffToken
	stopAnchors, err := startAnchorWorker(sys.Client)
	if err != nil {
		return err
	}
	defer stopAnchors()
	if res.Intake, err = intakeOn(ctx, cfg, out, "", sys.Client, codec.DataConverter(sys.Keys), sys.APIURL, sys.Postgres.DSN(), run); err != nil {
		return err
	}

	fmt.Fprintln(out, "cost: one case from intake to the end of its reopen window ...")
	quick, stopQuick, err := quickAPI(ctx, sys)
	if err != nil {
		return err
	}
	c, err := driveHappyPath(ctx, sys.Client, codec.DataConverter(sys.Keys), quick, run)
	stopQuick()
	if err != nil {
		return err
	}
	res.Cost = &c

	for _, n := range cfg.Deadlines {
		fmt.Fprintf(out, "deadlines: %d bare timers, then %d cases, due in the same second ...\n", n, n)
		d, err := measureDeadlines(ctx, devServers(sys), n, cfg.DeadlineLead, run, cfg.BurstProfiles)
		if err != nil {
			return err
		}
		res.Deadlines = append(res.Deadlines, d)
	}
	if cfg.MemoryCases > 0 {
		fmt.Fprintf(out, "memory: %d open cases on one worker process ...\n", cfg.MemoryCases)
		m, err := measureMemory(ctx, sys, cfg.MemoryCases, run)
		if err != nil {
			return err
		}
		res.Memory = &m
	}
	return nil
}

// The happy path's survey comes two seconds after closing and waits a
// minute for its answer: the bench answers at once, and a busy machine
// cannot let it expire between two polls.
const (
	quickSurveyDelay    = 2 * time.Second
	quickSurveyReminder = 30 * time.Second
	quickSurveyExpiry   = time.Minute
)

// quickAPI serves an API whose cases reach their survey and the end of
// their reopen window in seconds.
func quickAPI(ctx context.Context, sys *systemtest.System) (string, func(), error) {
	port, err := devenv.FreePort()
	if err != nil {
		return "", nil, err
	}
	cfg := sys.APIConfig()
	cfg.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.Cases.SurveyDelay, cfg.Cases.SurveyReminder = quickSurveyDelay, quickSurveyReminder
	cfg.Cases.SurveyExpiry, cfg.Cases.ReopenWindow = quickSurveyExpiry, quickSurveyDelay+quickSurveyExpiry
	actx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- api.Run(actx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			sys.Logger.Error("quick API", "error", err)
		}
	}
	base := "http://" + cfg.Addr
	for range 100 {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("the quick API did not become ready")
}

// driveHappyPath takes the smartwatch case through both departments, one
// accepted proposal, the close and the survey, and counts what it cost.
func driveHappyPath(ctx context.Context, c client.Client, dc converter.DataConverter, base, run string) (CostResult, error) {
	body, err := systemtest.DemoCase("demo-smartwatch-doa")
	if err != nil {
		return CostResult{}, err
	}
	body["externalId"] = "bench-cost-" + run
	body["customer"] = map[string]any{"name": "Bench", "email": "bench-" + run + "@example.com"}
	var created struct{ Reference string }
	if err := call(ctx, base, "/v1/complaints", body, &created); err != nil {
		return CostResult{}, err
	}
	ref := created.Reference
	if err := waitFor(ctx, base, ref, complaint.StatusAcknowledged); err != nil {
		return CostResult{}, err
	}
	steps := []struct {
		task string
		body any
	}{
		{"startInvestigation", map[string]any{"department": "product", "investigator": "p"}},
		{"startInvestigation", map[string]any{"department": "technical", "investigator": "t"}},
		{"submitFindings", map[string]any{"department": "product", "findings": "f", "rootCause": "r", "evidence": []string{}}},
		{"submitFindings", map[string]any{"department": "technical", "findings": "f", "rootCause": "r", "evidence": []string{}}},
		{"proposeResolution", map[string]any{"actions": []string{"Replace"}, "compensation": map[string]any{"kind": "replacement"}, "message": "m"}},
		{"customerResponse", map[string]any{"accepted": true}},
		{"confirmResolved", map[string]any{"resolved": true}},
		{"close", map[string]any{"outcome": "upheld", "summary": "Replaced"}},
	}
	for _, s := range steps {
		if err := call(ctx, base, "/v1/complaints/"+ref+"/"+s.task, s.body, nil); err != nil {
			return CostResult{}, fmt.Errorf("%s: %w", s.task, err)
		}
		if s.task != "customerResponse" {
			continue
		}
		// The owner closes once the resolution has been carried out, so
		// that each step's work is counted as its own.
		if err := waitUntil(ctx, base, ref, "an executed resolution", func(v complaint.CaseView) bool {
			return len(v.Resolutions) > 0 && v.Resolutions[len(v.Resolutions)-1].ExecutedAt != nil
		}); err != nil {
			return CostResult{}, err
		}
	}
	// Waits on what stays on the record once it happened (the survey
	// sent), not on a status that may come and go between two polls.
	if err := waitUntil(ctx, base, ref, "the survey sent", func(v complaint.CaseView) bool { return v.Survey != nil }); err != nil {
		return CostResult{}, err
	}
	if err := call(ctx, base, "/v1/complaints/"+ref+"/surveyResponse", map[string]any{"score": 5}, nil); err != nil {
		return CostResult{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, quickSurveyExpiry+3*time.Minute)
	defer cancel()
	if err := c.GetWorkflow(wctx, complaint.WorkflowID(ref), "").Get(wctx, nil); err != nil {
		return CostResult{}, err
	}
	return costOf(ctx, c, dc, complaint.WorkflowID(ref), []string{
		complaint.DepartmentWorkflowID(ref, complaint.DeptProduct),
		complaint.DepartmentWorkflowID(ref, complaint.DeptTechnical),
	})
}

func call(ctx context.Context, base, path string, body, into any) error {
	token := staffToken
	if strings.HasSuffix(path, "/surveyResponse") {
		token = surveyToken // nobody who handled the case rates it
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, payload)
	}
	if into != nil {
		return json.Unmarshal(payload, into)
	}
	return nil
}

// drain waits until no case is left unacknowledged, so that one
// measurement does not pay for the backlog of the one before.
func drain(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(15 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		var waiting int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM cases WHERE status = 'received'`).Scan(&waiting); err != nil {
			return err
		}
		if waiting == 0 {
			return nil
		}
	}
	return fmt.Errorf("cases still unacknowledged after 15 minutes")
}

func waitFor(ctx context.Context, base, ref string, status complaint.Status) error {
	return waitUntil(ctx, base, ref, string(status), func(v complaint.CaseView) bool { return v.Status == status })
}

func waitUntil(ctx context.Context, base, ref, what string, done func(complaint.CaseView) bool) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/complaints/"+ref, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+staffToken)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var v complaint.CaseView
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if err == nil && done(v) {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("case %s never reached %s", ref, what)
}

func printTable(out io.Writer, r Results) {
	switch {
	case r.Server != "":
	case r.Production != nil:
		r.Server = "production form only"
	default:
		r.Server = "PostgreSQL 15 only"
	}
	fmt.Fprintf(out, "\n%s · %s · %s\n", r.When.Format(time.RFC3339), r.Machine, r.Server)
	if i := r.Intake; i != nil {
		printIntake(out, i)
	}
	if c := r.Cost; c != nil {
		fmt.Fprintf(out, "\nCost of one happy-path case: %d billable actions, %d history events\n", c.Actions, c.Events)
		for _, k := range sortedKeys(c.ByKind) {
			fmt.Fprintf(out, "  %-28s %4d\n", k, c.ByKind[k])
		}
		fmt.Fprintf(out, "  by step (what woke the workflow, and all it did in answer):\n")
		fmt.Fprintf(out, "    %-52s %7s %6s  %s\n", "step", "actions", "events", "of which")
		for _, k := range stepsInOrder(c.ByStep) {
			sc := c.ByStep[k]
			var kinds []string
			for _, kind := range sortedKeys(sc.ByKind) {
				kinds = append(kinds, fmt.Sprintf("%d %s", sc.ByKind[kind], kind))
			}
			fmt.Fprintf(out, "    %-52s %7d %6d  %s\n", k, sc.Actions, sc.Events, strings.Join(kinds, ", "))
		}
	}
	if len(r.Deadlines) > 0 {
		printDeadlines(out, "", r.Deadlines)
	}
	if m := r.Memory; m != nil {
		fmt.Fprintf(out, "\nMemory: worker RSS %.0f MB with %d open cases waiting on their timers (%.0f MB before)\n",
			m.RSSMB, m.OpenCases, m.BaselineMB)
	}
	if p := r.Production; p != nil {
		printForms(out, r)
	}
	if r.Reports != nil {
		printReports(out, r.Reports)
	}
}

// printForms sets the production form's figures beside the dev server's.
func printForms(out io.Writer, r Results) {
	p := r.Production
	fmt.Fprintf(out, "\nProduction form: %s\n", p.Server)
	names := []string{"raw starts, no worker /s", "raw starts + worker (floor) /s", "floor p50 / p99 ms",
		"POST /v1/complaints /s", "POST /v1/complaints p50 / p99 ms", "ours vs floor: throughput %, p99 ×", "intake errors",
		"billable actions of a happy-path case", "history events of that case",
		"first burst: breach p99 ms (× floor)"}
	column := func(i *IntakeResult, c *CostResult, d []DeadlineResult) []string {
		col := []string{"-", "-", "-", "-", "-", "-", "-", "-", "-", "-"}
		if i != nil {
			col[0], col[1] = fmt.Sprintf("%.1f", i.RawPerSecond), fmt.Sprintf("%.1f", i.FloorPerSecond)
			col[2] = fmt.Sprintf("%.0f / %.0f", i.FloorLatency.P50ms, i.FloorLatency.P99ms)
			col[3], col[4] = fmt.Sprintf("%.1f", i.APIPerSecond), fmt.Sprintf("%.0f / %.0f", i.APILatency.P50ms, i.APILatency.P99ms)
			col[5], col[6] = fmt.Sprintf("%.0f %%, ×%.2f", i.ThroughputPctOfFloor, i.P99RatioToFloor), fmt.Sprint(i.Errors)
		}
		if c != nil {
			col[7], col[8] = fmt.Sprint(c.Actions), fmt.Sprint(c.Events)
		}
		if len(d) > 0 {
			col[9] = fmt.Sprintf("%.0f (×%.2f)", d[0].Breach.P99ms, d[0].P99Ratio)
		}
		return col
	}
	dev, prod := column(r.Intake, r.Cost, r.Deadlines), column(p.Intake, p.Cost, p.Deadlines)
	if p.Intake != nil {
		fmt.Fprintf(out, "  (intake: %d calls of each kind, %d concurrent)\n", p.Intake.Requests, p.Intake.Concurrency)
	}
	fmt.Fprintf(out, "  %-40s %20s %20s\n", "", "dev server", "production form")
	for k, name := range names {
		fmt.Fprintf(out, "  %-40s %20s %20s\n", name, dev[k], prod[k])
	}
	if p.Intake != nil && len(p.Intake.APICPU) > 0 {
		fmt.Fprintln(out, "  production form, intake:")
		printIntakeCPU(out, p.Intake)
	}
	if len(p.Deadlines) > 0 {
		printDeadlines(out, "production form, ", p.Deadlines)
	}
}

func printIntake(out io.Writer, i *IntakeResult) {
	fmt.Fprintf(out, "\nIntake (%d calls each, %d concurrent)           per second    p50 ms    p99 ms\n", i.Requests, i.Concurrency)
	fmt.Fprintf(out, "  raw StartWorkflowExecution, no worker      %10.1f  %8.1f  %8.1f\n", i.RawPerSecond, i.RawLatency.P50ms, i.RawLatency.P99ms)
	fmt.Fprintf(out, "  raw start, a worker completing it (floor)  %10.1f  %8.1f  %8.1f\n", i.FloorPerSecond, i.FloorLatency.P50ms, i.FloorLatency.P99ms)
	fmt.Fprintf(out, "  POST /v1/complaints                        %10.1f  %8.1f  %8.1f\n", i.APIPerSecond, i.APILatency.P50ms, i.APILatency.P99ms)
	fmt.Fprintf(out, "  ours vs floor: throughput %.0f %%, p99 ×%.2f; vs starts alone: %.0f %%, p99 ×%.2f; errors %d\n",
		i.ThroughputPctOfFloor, i.P99RatioToFloor, i.ThroughputPct, i.P99Ratio, i.Errors)
	printIntakeBreakdown(out, i)
	printIntakeCPU(out, i)
}

// printIntakeCPU says which processes spent the machine's CPU per call, the
// floor's beside ours.
func printIntakeCPU(out io.Writer, i *IntakeResult) {
	if len(i.APICPU) == 0 {
		return
	}
	fmt.Fprintf(out, "  CPU ms per call, the floor's start: %s\n", cpuLine(i.FloorCPU))
	fmt.Fprintf(out, "  CPU ms per call, our submission:    %s\n", cpuLine(i.APICPU))
}

// cpuLine is the CPU milliseconds per call or deadline in all, then by
// process.
func cpuLine(cpu map[string]float64) string {
	var parts []string
	total := 0.0
	for _, k := range slices.Sorted(maps.Keys(cpu)) {
		parts = append(parts, fmt.Sprintf("%s %.1f", k, 1000*cpu[k]))
		total += cpu[k]
	}
	return fmt.Sprintf("%.1f (%s)", 1000*total, strings.Join(parts, ", "))
}

// printIntakeBreakdown says where a submission's time goes beyond the
// floor's start, by p50: the API's HTTP side (HTTP, JSON, authentication,
// the submitter record; measured on the dev server, which has no nginx) is
// the API's p50 less the in-process one; within
// in-process, the key's claim and body check, and the rest (the data key
// and Temporal's start of a case with its search attributes and memo).
func printIntakeBreakdown(out io.Writer, i *IntakeResult) {
	if i.InProcessLatency.Count == 0 {
		return
	}
	fmt.Fprintf(out, "  in process, the API's starter              %10.1f  %8.1f  %8.1f\n", i.InProcessPerSecond,
		i.InProcessLatency.P50ms, i.InProcessLatency.P99ms)
	fmt.Fprintf(out, "  where a submission's p50 goes: HTTP side (HTTP, JSON, auth, submitter record) %.1f ms; "+
		"key claim + body check %.1f ms; data key + start %.1f ms (the floor's start: %.1f ms)\n",
		i.APILatency.P50ms-i.InProcessLatency.P50ms, i.KeyClaimLatency.P50ms,
		i.InProcessLatency.P50ms-i.KeyClaimLatency.P50ms, i.FloorLatency.P50ms)
}

// printDeadlines prints the growth curve: each burst's timer floor beside
// our breaches and notices.
func printDeadlines(out io.Writer, label string, ds []DeadlineResult) {
	fmt.Fprintf(out, "\n%sdeadline bursts: lateness from the due time, ms (p50 / p99 / max)\n", label)
	fmt.Fprintf(out, "  %7s  %-22s %-22s %-13s %-22s %s\n", "due at", "bare timer (floor)", "our breach recorded",
		"× floor", "escalation notice sent", "quiet before")
	lat := func(l Latencies) string {
		return fmt.Sprintf("%.0f / %.0f / %.0f", l.P50ms, l.P99ms, l.MaxMs)
	}
	for _, d := range ds {
		counted := ""
		if d.Breach.Count < d.Cases || d.Floor.Count < d.Cases || d.Notice.Count < d.Cases {
			counted = fmt.Sprintf("  (counted %d floor, %d breaches, %d notices)", d.Floor.Count, d.Breach.Count, d.Notice.Count)
		}
		fmt.Fprintf(out, "  %7d  %-22s %-22s %-13s %-22s %s%s\n", d.Cases, lat(d.Floor), lat(d.Breach),
			fmt.Sprintf("%.2f / %.2f", d.P50Ratio, d.P99Ratio), lat(d.Notice), d.QuietFor, counted)
	}
	for _, d := range ds {
		if len(d.FloorCPU) > 0 && len(d.BreachCPU) > 0 {
			fmt.Fprintf(out, "  %7d  CPU ms per deadline, bare timer: %s\n", d.Cases, cpuLine(d.FloorCPU))
			fmt.Fprintf(out, "  %7s  CPU ms per deadline, our breach: %s\n", "", cpuLine(d.BreachCPU))
		}
		if c := d.Cache; c != nil {
			fmt.Fprintf(out, "  %7d  our cases' tasks in the burst: %d found the case in its worker's cache, %d reloaded it from its history (any other came from the shared queue with the whole history)\n",
				d.Cases, c.Hits, c.Misses)
		}
	}
}
