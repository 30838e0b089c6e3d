package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// NoopWorkflow is the raw baseline: a workflow that does nothing.
func NoopWorkflow(workflow.Context) error { return nil }

const noopQueue = "bench-noop"

// IntakeResult compares starting a bare workflow with submitting a
// complaint: starts alone (no worker runs them), the floor (a worker
// completing each, as ours runs each case on the same CPUs), and ours.
type IntakeResult struct {
	Requests       int       `json:"requests"`
	Concurrency    int       `json:"concurrency"`
	RawPerSecond   float64   `json:"rawPerSecond"`
	RawLatency     Latencies `json:"rawLatency"`
	FloorPerSecond float64   `json:"floorPerSecond"`
	FloorLatency   Latencies `json:"floorLatency"`
	APIPerSecond   float64   `json:"apiPerSecond"`
	APILatency     Latencies `json:"apiLatency"`
	ThroughputPct  float64   `json:"throughputPctOfRaw"`
	P99Ratio       float64   `json:"p99RatioToRaw"`
	// Against the floor: the like-for-like anchor.
	ThroughputPctOfFloor float64 `json:"throughputPctOfFloor"`
	P99RatioToFloor      float64 `json:"p99RatioToFloor"`
	// Where ours goes: the same complaints submitted in the bench's own
	// process through the starter the API uses (no nginx, HTTP, JSON,
	// authentication or submitter record), and within it the idempotency
	// key's claim and body check in PostgreSQL; what is left of in-process
	// is the case's data key (made in PostgreSQL) and Temporal's start.
	InProcessPerSecond float64   `json:"inProcessPerSecond"`
	InProcessLatency   Latencies `json:"inProcessLatency"`
	KeyClaimLatency    Latencies `json:"keyClaimLatency"`
	// CPU seconds each kind of process used per call while the floor's
	// starts and our submissions ran (Linux only): the Temporal server,
	// PostgreSQL, the bench's own process (on the dev server it also runs
	// our worker and API; on the production form they are processes of
	// their own, as nginx).
	FloorCPU map[string]float64 `json:"floorCpuSecondsPerCall,omitempty"`
	APICPU   map[string]float64 `json:"apiCpuSecondsPerCall,omitempty"`
	Errors   int                `json:"errors"`
}

// timedKeys times the idempotency key's claim and body check of each
// submission.
type timedKeys struct {
	starter.IntakeKeys
	mu   sync.Mutex
	took map[string]time.Duration // by key hash
}

func (k *timedKeys) add(keyHash string, d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.took[keyHash] += d
}

func (k *timedKeys) ClaimIntakeKey(ctx context.Context, keyHash, ref string) (string, bool, error) {
	t := time.Now()
	defer func() { k.add(keyHash, time.Since(t)) }()
	return k.IntakeKeys.ClaimIntakeKey(ctx, keyHash, ref)
}

func (k *timedKeys) MatchIntakeBody(ctx context.Context, keyHash, fingerprint string) (bool, error) {
	t := time.Now()
	defer func() { k.add(keyHash, time.Since(t)) }()
	return k.IntakeKeys.MatchIntakeBody(ctx, keyHash, fingerprint)
}

// measureInProcess submits n complaints through in (a starter over the
// bench's client and the application's database, its keys timed by keys).
func measureInProcess(ctx context.Context, in *starter.Starter, keys *timedKeys, n, conc int, run string,
	res *IntakeResult) error {
	intake, err := demoIntake()
	if err != nil {
		return err
	}
	lat, wall, errs := load(n, conc, func(i int) error {
		c := intake
		c.ExternalID = fmt.Sprintf("bench-inproc-%s-%d", run, i)
		c.Customer = complaint.Customer{Name: "Bench", Email: fmt.Sprintf("bench-inproc-%d@example.com", i)}
		_, err := in.Submit(ctx, starter.Submission{Intake: c, Staff: "bench"})
		return err
	})
	claims := make([]time.Duration, 0, len(keys.took))
	for _, d := range keys.took {
		claims = append(claims, d)
	}
	res.InProcessLatency, res.KeyClaimLatency = summarise(lat), summarise(claims)
	res.InProcessPerSecond = float64(len(lat)) / wall.Seconds()
	res.Errors += errs
	return nil
}

// load runs n calls of do over c workers and returns their latencies.
func load(n, c int, do func(i int) error) ([]time.Duration, time.Duration, int) {
	var (
		mu     sync.Mutex
		lat    = make([]time.Duration, 0, n)
		errors int
		next   = make(chan int)
		wg     sync.WaitGroup
	)
	start := time.Now()
	for range c {
		wg.Go(func() {
			for i := range next {
				t := time.Now()
				err := do(i)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errors++
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return lat, time.Since(start), errors
}

// measureIntake starts n bare workflows no worker runs, then n that the
// anchors' worker completes, then submits n complaints through the API, at
// the same concurrency on the same server.
func measureIntake(ctx context.Context, c client.Client, apiURL string, body map[string]any, n, conc int, run string) (IntakeResult, error) {
	res := IntakeResult{Requests: n, Concurrency: conc}
	raw, rawWall, rawErr := load(n, conc, func(i int) error {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: fmt.Sprintf("bench-unpolled-%s-%d", run, i), TaskQueue: unpolledQueue, WorkflowRunTimeout: time.Minute,
		}, NoopWorkflow)
		return err
	})
	cpu := takeCPU()
	floor, floorWall, floorErr := load(n, conc, func(i int) error {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: fmt.Sprintf("bench-noop-%s-%d", run, i), TaskQueue: noopQueue,
		}, NoopWorkflow)
		return err
	})
	afterFloor := takeCPU()
	res.FloorCPU = cpuPer(cpu, afterFloor, n)
	httpc := &http.Client{Timeout: 30 * time.Second}
	api, apiWall, apiErr := load(n, conc, func(i int) error {
		b := cloneBody(body)
		b["externalId"] = fmt.Sprintf("bench-%s-%d", run, i)
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/v1/complaints", bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+staffToken)
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	res.APICPU = cpuPer(afterFloor, takeCPU(), n)
	res.RawLatency, res.FloorLatency, res.APILatency = summarise(raw), summarise(floor), summarise(api)
	res.RawPerSecond = float64(len(raw)) / rawWall.Seconds()
	res.FloorPerSecond = float64(len(floor)) / floorWall.Seconds()
	res.APIPerSecond = float64(len(api)) / apiWall.Seconds()
	res.ThroughputPct = 100 * res.APIPerSecond / res.RawPerSecond
	res.P99Ratio = res.APILatency.P99ms / res.RawLatency.P99ms
	res.ThroughputPctOfFloor = 100 * res.APIPerSecond / res.FloorPerSecond
	res.P99RatioToFloor = res.APILatency.P99ms / res.FloorLatency.P99ms
	res.Errors = rawErr + floorErr + apiErr
	return res, nil
}

func cloneBody(b map[string]any) map[string]any {
	out := make(map[string]any, len(b))
	for k, v := range b {
		out[k] = v
	}
	return out
}
