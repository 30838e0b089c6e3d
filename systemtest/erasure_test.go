package systemtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
)

// One customer, two cases: one with email and phone, one by phone only
// (written another way). Every value is unique to this test.
var erasable = map[string]string{
	"name":         "Kasimir Erasable-Wu",
	"email":        "Kasimir.Wu.Erase@Example.com",
	"phone":        "+86 139 0000 8888",
	"phoneOnly":    "139-0000-8888",
	"description":  "The kettle K8Z leaked onto my passport",
	"externalId":   "erase-ext-5531",
	"orderId":      "SO-ERASE-7713",
	"subject":      "Kettle K8Z leaked on Kasimir's papers",
	"findings":     "Seal of kettle K8Z for Kasimir was cracked",
	"note":         "Kasimir called twice about K8Z",
	"proposal":     "Dear Kasimir, we refund the K8Z kettle",
	"closeSummary": "Kasimir's K8Z refund was declined",
}

// Erasure finds every case of the customer by any of their identifiers and
// clears every column and table the README lists, and the development
// mailbox's copies of their emails.
func TestErasureFindsEveryCaseAndClearsEverything(t *testing.T) {
	ctx := context.Background()
	body := map[string]any{
		"channel": "web", "category": "billing", "severity": "medium", "externalId": erasable["externalId"],
		"orderId": erasable["orderId"],
		"customer": map[string]any{"name": erasable["name"], "email": erasable["email"], "phone": erasable["phone"],
			"language": "en"},
		"subject": erasable["subject"], "description": erasable["description"],
	}
	r := post(t, sys.APIURL, "/v1/complaints", body)
	if r.status != 201 {
		t.Fatalf("submit: %d %v", r.status, r.body)
	}
	withEmail := r.body["reference"].(string)
	phoneOnly := map[string]any{"channel": "phone", "category": "billing",
		"customer": map[string]any{"name": erasable["name"], "phone": erasable["phoneOnly"]},
		"subject":  "Second call about the kettle", "description": erasable["description"]}
	r = post(t, sys.APIURL, "/v1/complaints", phoneOnly, "Idempotency-Key", "erase-phone-only")
	if r.status != 201 {
		t.Fatalf("submit the phone-only case: %d %v", r.status, r.body)
	}
	byPhone := r.body["reference"].(string)

	waitStatus(t, sys.APIURL, withEmail, complaint.StatusAcknowledged)
	task(t, sys.APIURL, withEmail, "startInvestigation", map[string]any{"department": "billing", "investigator": "bill.lead"}, 200)
	task(t, sys.APIURL, withEmail, "addNote", map[string]any{"author": "dev.admin", "text": erasable["note"]}, 200)
	task(t, sys.APIURL, withEmail, "submitFindings", map[string]any{"department": "billing", "findings": erasable["findings"],
		"rootCause": "Seal", "evidence": []string{}}, 200)
	task(t, sys.APIURL, withEmail, "proposeResolution", map[string]any{"actions": []string{"refund"},
		"compensation": map[string]any{"kind": "refund", "amount": "30.00", "currency": "CNY"}, "message": erasable["proposal"]}, 200)
	task(t, sys.APIURL, withEmail, "customerResponse", map[string]any{"accepted": false, "comment": "too little",
		"channel": "phone"}, 200)
	task(t, sys.APIURL, withEmail, "close", map[string]any{"outcome": "rejected", "summary": erasable["closeSummary"]}, 200)
	waitStatus(t, sys.APIURL, withEmail, complaint.StatusClosed)
	waitStatus(t, sys.APIURL, byPhone, complaint.StatusAcknowledged)
	to := mailbox.To(strings.ToLower(erasable["email"]))
	Eventually(t, "the customer's emails", func() error {
		if n := len(sys.Mailbox.Messages(to)); n < 3 {
			return fmt.Errorf("%d emails to the customer", n)
		}
		return nil
	})
	files := []string{}
	for _, m := range sys.Mailbox.Messages(to) {
		files = append(files, m.File)
	}

	// Erased by the email, lower-cased: the phone-only case is found too.
	e := post(t, sys.APIURL, "/v1/admin/erasures", map[string]string{"email": strings.ToLower(erasable["email"])})
	if e.status != 200 {
		t.Fatalf("erasure: %d %v", e.status, e.body)
	}
	got := fmt.Sprint(e.body["references"])
	if !strings.Contains(got, withEmail) || !strings.Contains(got, byPhone) {
		t.Fatalf("erased %s; want both %s and the phone-only %s", got, withEmail, byPhone)
	}

	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Every text column of every table that mentions the two cases, as text.
	for _, table := range []string{"cases", "customer_contacts", "case_events", "resolutions", "surveys",
		"deliveries", "sla_events", "case_submitters", "report_case"} {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+table+` t WHERE reference = ANY($1)`,
			[]string{withEmail, byPhone})
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range texts {
			for what, v := range erasable {
				if strings.Contains(strings.ToLower(row), strings.ToLower(v)) {
					t.Errorf("%s still holds the customer's %s: %s", table, what, row)
				}
			}
		}
	}
	var keys int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM intake_keys WHERE reference = ANY($1)`,
		[]string{withEmail, byPhone}).Scan(&keys); err != nil || keys != 0 {
		t.Errorf("intake keys of the erased cases: %d (%v)", keys, err)
	}
	if n := len(sys.Mailbox.Messages(to)); n != 0 {
		t.Errorf("the mailbox still holds %d emails to the customer", n)
	}
	for _, f := range files {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the mailbox's file %s is still there (%v)", f, err)
		}
	}
}

// A case's failures — an activity's error quoting the customer — are
// encrypted under the case's key in Temporal's history, and unreadable after
// the case's erasure.
func TestFailedActivityIsUnreadableAfterErasure(t *testing.T) {
	ctx := context.Background()
	const queue = "systemtest-failures"
	w := worker.New(sys.Client, queue, worker.Options{})
	failing := func(context.Context, string) error {
		return temporal.NewNonRetryableApplicationError("cannot reach "+erasable["email"], "Unreachable", nil,
			"details for "+erasable["name"])
	}
	w.RegisterActivityWithOptions(failing, activity.RegisterOptions{Name: "SystemtestFailing"})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
		_ = workflow.ExecuteActivity(ctx, "SystemtestFailing", erasable["phone"]).Get(ctx, nil)
		return nil
	}, workflow.RegisterOptions{Name: "SystemtestFailures"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ref := complaint.NewReference(time.Now(), time.UTC, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	run, err := sys.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: complaint.WorkflowID(ref), TaskQueue: queue},
		"SystemtestFailures")
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var failure bool
	for _, ev := range rawHistory(t, run.GetID()).Events {
		if ev.GetEventType() != enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED {
			continue
		}
		failure = true
		f := ev.GetActivityTaskFailedEventAttributes().GetFailure()
		if id := string(f.GetEncodedAttributes().GetMetadata()[codec.MetadataKeyID]); id != codec.KeyID(codec.CaseScope(ref), 1) {
			t.Fatalf("the failure is encrypted under %q, not the case's key", id)
		}
	}
	if !failure {
		t.Fatal("no failed activity in the history")
	}
	// The case's keys destroyed, as an erasure does (this case has no record).
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE data_keys SET wrapped = NULL, destroyed_at = now() WHERE scope = $1`,
		codec.CaseScope(ref)); err != nil {
		t.Fatal(err)
	}
	fresh, err := codec.Open(ctx, codec.Config{MasterKeys: sys.Secrets.MasterKeys}, sys.Store)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range historyOf(t, sys.RawClient, run.GetID()).Events {
		if ev.GetEventType() != enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED {
			continue
		}
		err := codec.FailureConverter(codec.DataConverter(fresh)).FailureToError(ev.GetActivityTaskFailedEventAttributes().GetFailure())
		if text := fmt.Sprintf("%+v", err); strings.Contains(text, erasable["email"]) || strings.Contains(text, erasable["name"]) {
			t.Fatalf("the failed activity reads after erasure: %v", err)
		}
	}
}
