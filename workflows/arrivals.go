package workflows

import (
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
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

func (*signalOrder) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor,
) interceptor.WorkflowInboundInterceptor {
	if workflow.GetInfo(ctx).WorkflowType.Name != complaint.WorkflowName {
		return next // only a case reads the order back
	}
	a := &arrivals{}
	a.Next = next
	return a
}

// arrivals is one run of a case's signal names, in the order they arrived
// and not yet read back.
type arrivals struct {
	interceptor.WorkflowInboundInterceptorBase
	names []string
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
