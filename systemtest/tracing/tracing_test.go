// Package tracing checks, against the real servers, that one submission is
// one trace from the HTTP request down to the SQL its workflow's activities
// run, and that the processes' /metrics expose the SDK's and the business
// metrics. It has its own system so that the in-process API and worker send
// their spans to an in-memory exporter.
package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/complaintdesk/complaintdesk/systemtest"
)

var (
	sys      *systemtest.System
	exporter = tracetest.NewInMemoryExporter()
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("systemtest/tracing: skipped with -short (needs PostgreSQL and the Temporal CLI)")
		os.Exit(0)
	}
	// Synchronous export: a span is in the exporter the moment it ends.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	s, err := systemtest.Start(ctx, systemtest.Options{TracerProvider: tp})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "systemtest/tracing: cannot start the system:", err)
		os.Exit(1)
	}
	sys = s
	code := m.Run()
	s.Stop()
	_ = tp.Shutdown(context.Background())
	os.Exit(code)
}

func postJSON(t *testing.T, url, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+sys.AdminToken)
	resp, data := systemtest.Do(t, req)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, data)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s: %s", url, data)
	}
	return out
}

func getText(t *testing.T, url string, header ...string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, data := systemtest.Do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, data)
	}
	return string(data)
}

// spanTree is the exported spans of one trace, by span id.
type spanTree map[trace.SpanID]tracetest.SpanStub

func treeOf(id trace.TraceID) spanTree {
	tree := spanTree{}
	for _, s := range exporter.GetSpans() {
		if s.SpanContext.TraceID() == id {
			tree[s.SpanContext.SpanID()] = s
		}
	}
	return tree
}

// find returns the spans named name that descend from (or are) under.
func (t spanTree) find(name string, under *tracetest.SpanStub) []tracetest.SpanStub {
	var found []tracetest.SpanStub
	for _, s := range t {
		if s.Name == name && (under == nil || t.descends(s, under.SpanContext.SpanID())) {
			found = append(found, s)
		}
	}
	return found
}

// descends reports whether ancestor is an ancestor of s, following the
// parent links through the exported spans.
func (t spanTree) descends(s tracetest.SpanStub, ancestor trace.SpanID) bool {
	for range len(t) + 1 {
		parent := s.Parent.SpanID()
		if !s.Parent.IsValid() {
			return false
		}
		if parent == ancestor {
			return true
		}
		next, ok := t[parent]
		if !ok {
			return false
		}
		s = next
	}
	return false
}

func (t spanTree) String() string {
	var b strings.Builder
	for id, s := range t {
		fmt.Fprintf(&b, "\n  %s %q parent %s", id, s.Name, s.Parent.SpanID())
	}
	return b.String()
}

// One submission is one trace: the HTTP server span is the ancestor of the
// client's StartWorkflow span, of the workflow's RunWorkflow span, of its
// RegisterCase activity's span and of the SQL that activity runs.
func TestSubmissionIsOneTraceDownToTheDatabase(t *testing.T) {
	res := postJSON(t, sys.APIURL+"/v1/complaints", `{"channel":"web","severity":"high",
		"customer":{"name":"Zhao Lei","email":"zhao.lei@example.com","language":"en"},
		"subject":"Parcel damaged","description":"Two cups broken in the parcel."}`)
	ref, _ := res["reference"].(string)
	workflowID, _ := res["workflowId"].(string)
	if ref == "" {
		t.Fatalf("no reference in %v", res)
	}

	// The HTTP span of the submission.
	var server tracetest.SpanStub
	systemtest.Eventually(t, "the HTTP server span", func() error {
		for _, s := range exporter.GetSpans() {
			if s.Name == "POST /v1/complaints" && s.SpanKind == trace.SpanKindServer {
				server = s
				return nil
			}
		}
		return fmt.Errorf("no server span among %d", len(exporter.GetSpans()))
	})
	if server.Parent.IsValid() {
		t.Errorf("the HTTP span has a parent %s; the request carried no traceparent", server.Parent.SpanID())
	}

	// The case is registered before anything else; withdrawing it ends its
	// workflow, and with it the RunWorkflow span, which only then is exported.
	systemtest.Eventually(t, "the RegisterCase activity's INSERT", func() error {
		tree := treeOf(server.SpanContext.TraceID())
		for _, act := range tree.find("RunActivity:RegisterCase", nil) {
			if len(tree.find("query INSERT", &act)) > 0 {
				return nil
			}
		}
		return fmt.Errorf("not yet in the trace:%s", tree)
	})
	postJSON(t, sys.APIURL+"/v1/complaints/"+ref+"/withdraw", `{"reason":"Tracing test"}`)

	var tree spanTree
	systemtest.Eventually(t, "the RunWorkflow span", func() error {
		tree = treeOf(server.SpanContext.TraceID())
		if len(tree.find("RunWorkflow:ComplaintWorkflow", nil)) == 0 {
			return fmt.Errorf("no RunWorkflow span in the trace:%s", tree)
		}
		return nil
	})

	// The chain, each link under the one before. A workflow has one
	// RunWorkflow span each time a worker loads it (a replay after its cache
	// let it go starts another), so every link may have several candidates.
	chain := []string{"StartWorkflow:ComplaintWorkflow", "RunWorkflow:ComplaintWorkflow", "RunActivity:RegisterCase", "query INSERT"}
	links := map[string][]tracetest.SpanStub{}
	candidates := []tracetest.SpanStub{server}
	for _, name := range chain {
		var next []tracetest.SpanStub
		for _, under := range candidates {
			next = append(next, tree.find(name, &under)...)
		}
		if len(next) == 0 {
			t.Fatalf("no %s span under the %s spans in the trace:%s", name, candidates[0].Name, tree)
		}
		links[name], candidates = next, next
	}
	for _, start := range links["StartWorkflow:ComplaintWorkflow"] {
		if start.Parent.SpanID() != server.SpanContext.SpanID() || start.SpanKind != trace.SpanKindClient {
			t.Errorf("StartWorkflow is not the HTTP span's client child: parent %s kind %s", start.Parent.SpanID(), start.SpanKind)
		}
	}
	for _, run := range tree.find("RunWorkflow:ComplaintWorkflow", nil) {
		if !hasAttr(run, "temporalWorkflowID", workflowID) {
			t.Errorf("RunWorkflow span lacks temporalWorkflowID=%s: %v", workflowID, run.Attributes)
		}
	}
	for _, insert := range links["query INSERT"] {
		if !hasAttr(insert, "db.system.name", "postgresql") {
			t.Errorf("pgx span lacks db.system.name=postgresql: %v", insert.Attributes)
		}
	}
	// The workflow's side of the activity call is in the trace too.
	for _, name := range []string{"StartActivity:RegisterCase"} {
		found := false
		for _, run := range links["RunWorkflow:ComplaintWorkflow"] {
			found = found || len(tree.find(name, &run)) > 0
		}
		if !found {
			t.Errorf("no %s under RunWorkflow in the trace:%s", name, tree)
		}
	}
}

func hasAttr(s tracetest.SpanStub, key, value string) bool {
	for _, a := range s.Attributes {
		if string(a.Key) == key && a.Value.Emit() == value {
			return true
		}
	}
	return false
}

// The API's and the worker's /metrics show the business metrics and the
// Temporal SDK's own.
func TestMetricsEndpoints(t *testing.T) {
	postJSON(t, sys.APIURL+"/v1/complaints", `{"channel":"email","category":"billing",
		"customer":{"name":"Liu Yang","email":"liu.yang@example.com"},
		"subject":"Charged twice","description":"Two debits for one order."}`)
	api := getText(t, sys.APIURL+"/metrics", "Authorization", "Bearer "+sys.OperatorToken) // behind authentication
	for _, want := range []string{
		`complaints_cases_opened_total{category="billing",channel="email"} 1`,
		`temporal_request_total{`, // the SDK's metrics of the API's client
		`http_server_request_duration_seconds_bucket{`,
	} {
		if !strings.Contains(api, want) {
			t.Errorf("API /metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(api)
	}
	systemtest.Eventually(t, "the worker's metrics", func() error {
		body := getText(t, sys.WorkerURL()+"/metrics")
		for _, want := range []string{
			`complaints_cases{status=`,             // the gauge read from the database
			`temporal_workflow_task_queue_poll_`,   // the SDK's worker metrics
			`temporal_activity_execution_latency`,  // an activity ran
			`db_client_operation_duration_seconds`, // pgx
		} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("worker /metrics lacks %s:\n%s", want, body)
			}
		}
		return nil
	})
}
