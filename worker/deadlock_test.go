package worker

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/codec"
)

// slowKeys keeps data keys in memory and answers as slowly as PostgreSQL
// does on a loaded machine.
type slowKeys struct {
	mu    sync.Mutex
	keys  map[string][]codec.DataKey
	delay time.Duration
}

func (s *slowKeys) DataKeys(_ context.Context, scope string) ([]codec.DataKey, error) {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[scope], nil
}

func (s *slowKeys) AddDataKey(_ context.Context, k codec.DataKey) (codec.DataKey, error) {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string][]codec.DataKey{}
	}
	s.keys[k.Scope] = append(s.keys[k.Scope], k)
	return k, nil
}

func (s *slowKeys) AllDataKeys(context.Context) ([]codec.DataKey, error) { return nil, nil }
func (s *slowKeys) ReplaceWrapping(context.Context, codec.DataKey) error { return nil }

// The worker's codec reads a case's key inside workflow code when it is not
// cached — for a task's update as for everything else. A key store slower
// than the SDK's default deadlock limit (1 s) must not fail the workflow
// task: under load that failed tasks until the server refused the case's
// queries and updates ("Workflow Task in failed state").
func TestASlowKeyStoreDoesNotFailTheWorkflowTask(t *testing.T) {
	opts, err := workerOptions(valid())
	if err != nil {
		t.Fatal(err)
	}
	if opts.DeadlockDetectionTimeout <= codec.KeyStoreTimeout {
		t.Fatalf("the deadlock limit %s is within the key store's timeout %s", opts.DeadlockDetectionTimeout, codec.KeyStoreTimeout)
	}
	entry, err := codec.NewMasterKey("m1")
	if err != nil {
		t.Fatal(err)
	}
	masters, err := codec.ParseMasterKeys(entry)
	if err != nil {
		t.Fatal(err)
	}
	ring := codec.NewKeyring(t.Context(), masters, &slowKeys{delay: 1200 * time.Millisecond})
	ring.SetTTL(0) // every payload reads its key, as after the cache's minute

	// A case in miniature: it waits for one update and ends with its value.
	flow := func(ctx workflow.Context) (string, error) {
		var got string
		if err := workflow.SetUpdateHandler(ctx, "note", func(ctx workflow.Context, text string) (string, error) {
			got = text
			return text, nil
		}); err != nil {
			return "", err
		}
		err := workflow.Await(ctx, func() bool { return got != "" })
		return got, err
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(opts)
	env.SetDataConverter(codec.WorkerClientOptions(client.Options{}, ring).DataConverter)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "complaint-CMP-20261123-4F7K2Q"})
	env.RegisterWorkflowWithOptions(flow, workflow.RegisterOptions{Name: "case"})
	var updateErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow("note", "u1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { updateErr = err },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { updateErr = err },
		}, "the customer rang")
	}, time.Hour)
	env.ExecuteWorkflow("case")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("the case failed: %v", err)
	}
	var out string
	if err := env.GetWorkflowResult(&out); err != nil || out != "the customer rang" || updateErr != nil {
		t.Fatalf("result %q, %v; update %v", out, err, updateErr)
	}
}
