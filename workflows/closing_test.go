package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// The closing rules (DOMAIN §1.6, "no closing without agreement"): every
// closing the rules refuse is a conflict naming the rule, and changes
// nothing.

func closing(o complaint.Outcome) complaint.Close {
	return complaint.Close{Outcome: o, Summary: "Closing"}
}

func requireRule(t *testing.T, r *taskResult, rule string) {
	t.Helper()
	require.False(t, r.accepted, "%s was accepted", r.label)
	require.ErrorContains(t, r.rejected, rule, r.label)
}

func TestUpheldNeedsAnAcceptedResolution(t *testing.T) {
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	noProposal := f.task(reject, complaint.TaskClose, closing(complaint.OutcomeUpheld))
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	awaiting := f.task(reject, complaint.TaskClose, closing(complaint.OutcomePartiallyUpheld))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: no(), Comment: "Too little"})
	refused := f.task(reject, complaint.TaskClose, closing(complaint.OutcomePartiallyUpheld))
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	notRejected := f.task(reject, complaint.TaskClose, closing(complaint.OutcomeRejected))
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, closing(complaint.OutcomeUpheld))

	final := f.run(newCase(complaint.DeptAfterSales))
	requireRule(t, noProposal, "an upheld case needs a resolution the customer accepted, carried out; none is accepted (no resolution was proposed)")
	requireRule(t, awaiting, "cannot close while resolution_proposed")
	requireRule(t, refused, "the customer rejected resolution 1")
	requireRule(t, notRejected, "the customer accepted resolution 2; the case closes upheld or partially_upheld")
	require.Equal(t, complaint.OutcomeUpheld, final.Outcome)
	require.NotNil(t, final.Resolutions[1].ExecutedAt, "the accepted resolution was carried out before the closing")
	require.Equal(t, 1, countOf(f.stepNames(), "closed"))
}

func TestRejectedNeedsEveryDepartmentsFindings(t *testing.T) {
	f := setup(t)
	p, tech := complaint.DeptProduct, complaint.DeptTechnical
	f.task(accept, complaint.TaskStartInvestigation, start(p))
	f.task(accept, complaint.TaskStartInvestigation, start(tech))
	f.task(accept, complaint.TaskSubmitFindings, findings(p))
	early := f.task(reject, complaint.TaskClose, closing(complaint.OutcomeRejected))
	f.task(accept, complaint.TaskSubmitFindings, findings(tech))
	f.task(accept, complaint.TaskClose, closing(complaint.OutcomeRejected))

	final := f.run(newCase(p, tech))
	requireRule(t, early, "a rejected complaint needs every department's findings (technical is investigating)")
	require.Equal(t, complaint.OutcomeRejected, final.Outcome)
}

func TestADisputeClosesOnlyOnAgreementOrAFinalDecision(t *testing.T) {
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	noDispute := f.task(reject, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "x",
		Decision: "Award 2026-117"})
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: no()})
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "Manager call"})
	atNegotiation := f.task(reject, complaint.TaskClose, closing(complaint.OutcomeRejected))
	early := f.task(reject, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "x",
		Decision: "We decided"})
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "mediation", Note: "Neutral team"})
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "arbitration", Note: "Filed"})
	noDecision := f.task(reject, complaint.TaskClose, closing(complaint.OutcomeUpheld))
	inDispute := f.snapshot()
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomePartiallyUpheld, Summary: "Award applied",
		Decision: "Arbitration award 2026-117: refund half the price"})

	final := f.run(newCase(complaint.DeptAfterSales))
	requireRule(t, noDispute, "a decision is recorded only for a case in dispute at arbitration or litigation; the case is investigating")
	requireRule(t, atNegotiation, "a case in dispute closes only with an agreement")
	requireRule(t, early, "a decision is recorded only for a case in dispute at arbitration or litigation; the case is in_dispute at negotiation")
	requireRule(t, noDecision, "the final decision of arbitration or litigation (`decision`); the dispute is at arbitration")
	require.Equal(t, complaint.StatusInDispute, inDispute.Status)
	require.Equal(t, complaint.OutcomePartiallyUpheld, final.Outcome)
	require.Equal(t, "Arbitration award 2026-117: refund half the price", final.Decision)
	closed := f.steps[indexOf(f.stepNames(), "closed")]
	require.Contains(t, closed.Summary, "decision at arbitration")
}
