package workflows

import (
	"encoding/json"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// A case applies its signals in the order they arrived, whichever tasks
// they are: `confirmResolved` and then `close` is a closing after the
// confirmation. The SDK keeps each signal name in a channel of its own, and
// when signals of several names wait at once — the case was busy recording a
// step — nothing in the channels says which came first. The SDK does hand
// every signal to the workflow's inbound interceptors one by one, in the
// order of the case's history, the same on every replay; SignalOrder notes
// the names there, and the case reads its channels back in that order.

// SignalOrder is the worker interceptor a case's signals need to be applied
// in the order they arrived. Every worker, test environment and replayer that
// runs ComplaintWorkflow must have it: a case run without it fails its
// workflow task (and waits for a worker that has it) rather than apply
// signals out of order.
func SignalOrder() interceptor.WorkerInterceptor { return &signalOrder{} }

type signalOrder struct {
	interceptor.WorkerInterceptorBase
}

// InterceptWorkflow notes the signals of every workflow the worker runs: a
// name per signal costs little, and a case registered under another name
// still finds its arrivals. Only a case reads them back.
func (*signalOrder) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor,
) interceptor.WorkflowInboundInterceptor {
	a := &arrivals{held: map[string][]*json.RawMessage{}}
	a.Next = next
	return a
}

// arrivals is one workflow run's signal names, in the order they arrived
// and not yet read back (a case reads them; other workflows leave them).
type arrivals struct {
	interceptor.WorkflowInboundInterceptorBase
	names []string
	held  map[string][]*json.RawMessage // by name: payloads taken from a channel ahead of their turn; nil for one that did not decode
}

type arrivalsKey struct{}

// ExecuteWorkflow hands the case its arrivals. Signals that came with the
// start (signal-with-start) were noted before this runs.
func (a *arrivals) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	return a.Next.ExecuteWorkflow(workflow.WithValue(ctx, arrivalsKey{}, a), in)
}

// HandleSignal notes the name once the signal is in its channel.
func (a *arrivals) HandleSignal(ctx workflow.Context, in *interceptor.HandleSignalInput) error {
	if err := a.Next.HandleSignal(ctx, in); err != nil {
		return err
	}
	a.names = append(a.names, in.SignalName)
	return nil
}

// arrivalsOf is the case's record of arrivals, or nil when the worker runs
// without SignalOrder.
func arrivalsOf(ctx workflow.Context) *arrivals {
	a, _ := ctx.Value(arrivalsKey{}).(*arrivals)
	return a
}

// next waits for the next signal to arrive and returns its name.
func (a *arrivals) next(ctx workflow.Context) (string, error) {
	if err := workflow.Await(ctx, func() bool { return len(a.names) > 0 }); err != nil {
		return "", err
	}
	name := a.names[0]
	a.names = a.names[1:]
	return name, nil
}

// take is the payload of the signal next just named, from its channel ch;
// ok is false when it did not decode (the SDK logs that). A channel gives
// its values in the order they arrived, but ReceiveAsync skips a value that
// does not decode and returns the one after it: that one is held for its own
// turn, so that a corrupt payload cannot move a later signal ahead of others.
func (a *arrivals) take(ch workflow.ReceiveChannel, name string) (json.RawMessage, bool) {
	if len(a.held[name]) == 0 {
		var raw json.RawMessage
		before := ch.Len()
		got := ch.ReceiveAsync(&raw)
		skipped := before - ch.Len()
		if got {
			skipped--
		}
		for range skipped {
			a.held[name] = append(a.held[name], nil)
		}
		if got {
			a.held[name] = append(a.held[name], &raw)
		}
	}
	q := a.held[name]
	if len(q) == 0 { // nothing was there: never so while names and channels agree
		return nil, false
	}
	if len(q) == 1 {
		delete(a.held, name)
	} else {
		a.held[name] = q[1:]
	}
	if q[0] == nil {
		return nil, false
	}
	return *q[0], true
}
