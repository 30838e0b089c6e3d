package complaint

import (
	"fmt"
	"strings"
	"time"
)

// Policy is what a case is held to, captured when it starts so that a later
// configuration change never moves the rules of an open case.
type Policy struct {
	// Departments the case may be routed to.
	Departments []Department `json:"departments"`
	// SurveyDelay is how long after closing the satisfaction survey goes out.
	SurveyDelay time.Duration `json:"surveyDelay"`
	// SurveyReminder is how long after the invitation one reminder follows.
	SurveyReminder time.Duration `json:"surveyReminder"`
	// SurveyExpiry is how long after the invitation the survey stops waiting.
	SurveyExpiry time.Duration `json:"surveyExpiry"`
	// ReopenWindow is how long after closing the customer may reopen.
	ReopenWindow time.Duration `json:"reopenWindow"`
	// SLA holds the deadlines and the escalation ladder of this case.
	SLA CaseSLA `json:"sla"`
	// RepeatSLA holds the targets of the priority above the case's: a repeat
	// complaint, found at registration, is raised one priority and its open
	// clocks follow (its ladder and calendar are SLA's, so left out here).
	RepeatSLA *CaseSLA `json:"repeatSla,omitempty"`
	// RepeatWindow is how far back an earlier complaint of the same customer
	// about the same category or order makes this one a repeat.
	RepeatWindow time.Duration `json:"repeatWindow"`
	// CompensationLimits: a proposal above its currency's limit waits for
	// a supervisor's approval (ApprovalWithin, working time).
	CompensationLimits CompensationLimits `json:"compensationLimits,omitempty"`
	ApprovalWithin     time.Duration      `json:"approvalWithin,omitempty"`
	// ProgressEvery is how much working time of an investigation passes
	// without a word to the customer before they are told it goes on.
	ProgressEvery time.Duration `json:"progressEvery,omitempty"`
	// ConfirmWithin is how long (working time) the customer has to confirm
	// that a resolution carried out solved the problem; the case then
	// closes with their silence noted.
	ConfirmWithin time.Duration `json:"confirmWithin,omitempty"`
	// FollowUpScore: a satisfaction score at or below it opens a follow-up
	// for the owner, due within FollowUpWithin (working time); 0 never.
	FollowUpScore  int           `json:"followUpScore,omitempty"`
	FollowUpWithin time.Duration `json:"followUpWithin,omitempty"`
	// LongStop is the regulator's long-stop (complaint/longstop.go); nil: none.
	LongStop *LongStopPolicy `json:"longStop,omitempty"`
}

// DefaultPolicy holds DOMAIN §4's figures.
func DefaultPolicy() Policy {
	return Policy{
		Departments:    Departments,
		SurveyDelay:    14 * 24 * time.Hour,
		SurveyReminder: 3 * 24 * time.Hour,
		SurveyExpiry:   7 * 24 * time.Hour,
		ReopenWindow:   30 * 24 * time.Hour,
		RepeatWindow:   90 * 24 * time.Hour,

		CompensationLimits: DefaultCompensationLimits(),
		ApprovalWithin:     WorkingDays(0.5),
		ProgressEvery:      WorkingDays(2),
		ConfirmWithin:      WorkingDays(5),
		FollowUpScore:      2,
		FollowUpWithin:     WorkingDays(2),
	}
}

// NewCase is a registered complaint as the starter hands it to the workflow:
// the intake plus what was decided at registration (reference, category,
// priority, route, owner, policy). Decided once, outside the workflow, so
// that a later change to the classifier never changes a running case on replay.
type NewCase struct {
	Reference   string       `json:"reference"`
	ReceivedAt  time.Time    `json:"receivedAt"`
	Intake      Intake       `json:"intake"`
	Category    Category     `json:"category"`
	Classified  bool         `json:"classified"` // category chosen by Classify, not the submitter
	Priority    Priority     `json:"priority"`
	Departments []Department `json:"departments"`
	Owner       string       `json:"owner"`
	Policy      Policy       `json:"policy"`
	// Handover, when set, hands the case from the staff member who entered
	// it to the first-contact employee the intake names: an `assign` on
	// record, right after the registration.
	Handover *Assign `json:"handover,omitempty"`
	// Resume carries the state of a case across continue-as-new.
	Resume *CaseState `json:"resume,omitempty"`
}

// DefaultOwner owns a case whose intake named no first-contact employee: the
// customer-service desk, until a person takes it with `assign`.
const DefaultOwner = "customer_service_desk"

// Rules are what registration decides a new case by.
type Rules struct {
	Routing RoutingTable
	Policy  Policy
	SLA     SLAConfig
}

// DefaultRules are the rules when configuration changes nothing: DOMAIN §4's
// figures on mainland China's calendar, every year its table holds (no
// clock decides which).
func DefaultRules() Rules { return DefaultRulesFrom(0) }

// DefaultRulesFrom are DefaultRules with the calendar's holidays from the
// year from on: a test pins it, so that its days keep their holidays
// whatever today's date.
func DefaultRulesFrom(from int) Rules {
	calendar, err := LoadCalendar("cn", "", DaySet{}, from)
	if err != nil {
		panic(err) // the table is embedded and tested: failing here is a build defect
	}
	return Rules{Routing: DefaultRouting, Policy: DefaultPolicy(), SLA: SLAConfig{
		ByPriority: DefaultSLATargets(), WarnAt: 0.75, EscalateEvery: 4 * time.Hour, Ladder: DefaultLadder(),
		Calendar: calendar,
	}}
}

// SystemAgent names an upstream system's own first-contact employee as the
// case records it: "system:name". Staff names have no ':', so such a name is
// never one of our staff and never owns a case.
func SystemAgent(system, name string) string { return system + ":" + name }

// IsSystemAgent reports whether receivedBy names a system's own agent.
func IsSystemAgent(receivedBy string) bool { return strings.Contains(receivedBy, ":") }

// Register turns a validated intake into a new case.
func Register(in Intake, reference string, receivedAt time.Time, rules Rules) NewCase {
	in = in.Normalize()
	c := NewCase{Reference: reference, ReceivedAt: receivedAt, Intake: in, Category: in.Category, Owner: in.ReceivedBy,
		Policy: rules.Policy}
	routing := rules.Routing
	if c.Category == "" {
		c.Category = Classify(in.Subject, in.Description)
		c.Classified = true
	}
	if c.Owner == "" || IsSystemAgent(c.Owner) {
		c.Owner = DefaultOwner // a system's own agent is recorded, never our owner
	}
	c.Priority = PriorityFor(in.Severity, in.Channel, c.Category, in.Impact)
	c.Departments = routing.Route(c.Category)
	c.Policy.SLA = rules.SLA.ForCase(c.Priority, c.Category, c.Departments[0])
	if raised := Raise(c.Priority); raised != c.Priority {
		repeat := CaseSLA{}.WithTargetsOf(rules.SLA.ForCase(raised, c.Category, c.Departments[0]))
		c.Policy.RepeatSLA = &repeat
	}
	c.Objective()
	return c
}

// EnteredBy applies first-contact ownership (DOMAIN §2, 首问责任制) to a
// case a staff member entered: without `receivedBy` they took the
// complaint and own it; naming someone else hands it to that person, on
// record with its reason. Systems name their agent in `receivedBy` and
// call nothing here.
func (c *NewCase) EnteredBy(staff string) {
	switch {
	case staff == "" || c.Intake.ReceivedBy == staff:
	case c.Intake.ReceivedBy == "":
		c.Intake.ReceivedBy, c.Owner = staff, staff
	default:
		c.Handover = &Assign{Owner: c.Intake.ReceivedBy, Actor: staff,
			Reason: fmt.Sprintf("First contact: %s took the complaint; %s entered it", c.Intake.ReceivedBy, staff)}
		c.Owner = staff
	}
	c.Objective()
}

// ClockState is where one deadline stands.
type ClockState string

const (
	ClockRunning  ClockState = "running"  // counting, not yet due
	ClockBreached ClockState = "breached" // past due, its task still not done: escalating
	ClockPaused   ClockState = "paused"   // waiting for the customer: the time does not count
	ClockMet      ClockState = "met"      // its task is done (late if BreachedAt is set)
	ClockStopped  ClockState = "stopped"  // no longer applies (department removed, case withdrawn)
)

// The clocks of a case (DOMAIN §4).
const (
	ClockAcknowledge   = "acknowledge"
	ClockFirstResponse = "firstResponse"
	ClockStart         = "startInvestigation" // one per department
	ClockResolution    = "resolution"         // restarted, as attempt n, after the customer rejects proposal n-1
	// The waits after the first proposal, each with a target (Issue: no
	// case waits silently).
	ClockTakeOwnership  = "takeOwnership"  // a desk-owned case taken by a person (`assign`)
	ClockCustomerAnswer = "customerAnswer" // the customer's answer to proposal Attempt
	ClockExecution      = "execution"      // accepted resolution Attempt carried out and the case closed
	ClockDispute        = "dispute"        // one per dispute stage, until the next stage or the end
)

// Deadline is one SLA clock of a case.
type Deadline struct {
	Name       string     `json:"name"`
	Department Department `json:"department,omitempty"`
	// Stage is a dispute clock's stage; Attempt the proposal a resolution,
	// answer or execution clock is about (0 for the round's first resolution).
	Stage     DisputeStage `json:"stage,omitempty"`
	Attempt   int          `json:"attempt,omitempty"`
	Round     int          `json:"round,omitempty"`
	StartedAt time.Time    `json:"startedAt"`
	DueAt     time.Time    `json:"dueAt"`
	WarnAt    time.Time    `json:"warnAt"`
	State     ClockState   `json:"state"`
	Warned    bool         `json:"warned,omitempty"`
	// Level is the escalation level reached: 1 supervisor, 2 manager, 3 director.
	Level            int        `json:"level,omitempty"`
	NextEscalationAt *time.Time `json:"nextEscalationAt,omitempty"`
	BreachedAt       *time.Time `json:"breachedAt,omitempty"`
	MetAt            *time.Time `json:"metAt,omitempty"`
	PausedAt         *time.Time `json:"pausedAt,omitempty"`
	// Budget is the clock's time; WorkingTime clocks count it on the calendar
	// and Used holds what was spent before the last pause.
	Budget      time.Duration `json:"budget"`
	WorkingTime bool          `json:"workingTime,omitempty"`
	Used        time.Duration `json:"used,omitempty"`
	ResumedAt   *time.Time    `json:"resumedAt,omitempty"`
	// Approximate is set when the due time falls in a year whose holidays
	// the calendar does not know: it was counted on weekends only.
	Approximate bool `json:"approximate,omitempty"`
}

// Label names the clock with its department.
func (d Deadline) Label() string {
	return clockLabel(d.Name, d.Department, d.Stage, d.Attempt)
}

func clockLabel(name string, d Department, stage DisputeStage, attempt int) string {
	switch {
	case d != "":
		name += ":" + string(d)
	case stage != "":
		name += ":" + string(stage)
	}
	if attempt > 0 {
		name += fmt.Sprintf("#%d", attempt)
	}
	return name
}

// Open is true while the clock still waits for its task.
func (d Deadline) Open() bool {
	return d.State == ClockRunning || d.State == ClockBreached || d.State == ClockPaused
}

// Event is one recorded step of a case, as shown in its history.
type Event struct {
	At      time.Time `json:"at"`
	Step    string    `json:"step"`
	Actor   string    `json:"actor"`
	Summary string    `json:"summary"`
}

// DepartmentState is where one department's investigation stands.
type DepartmentState string

const (
	DeptPending       DepartmentState = "pending"
	DeptInvestigating DepartmentState = "investigating"
	DeptReported      DepartmentState = "reported"
)

// DepartmentProgress is one department's part of the investigation.
type DepartmentProgress struct {
	Department   Department      `json:"department"`
	State        DepartmentState `json:"state"`
	Investigator string          `json:"investigator,omitempty"`
	StartedAt    *time.Time      `json:"startedAt,omitempty"`
	ReportedAt   *time.Time      `json:"reportedAt,omitempty"`
	Findings     string          `json:"findings,omitempty"`
	RootCause    string          `json:"rootCause,omitempty"`
	Evidence     []string        `json:"evidence,omitempty"`
}

// Resolution is one proposal to the customer and their answer.
type Resolution struct {
	Attempt      int          `json:"attempt"`
	Actions      []string     `json:"actions"`
	Compensation Compensation `json:"compensation"`
	Message      string       `json:"message"`
	ProposedBy   string       `json:"proposedBy"`
	ProposedAt   time.Time    `json:"proposedAt"`
	Accepted     *bool        `json:"accepted,omitempty"`
	Comment      string       `json:"comment,omitempty"`
	AnsweredAt   *time.Time   `json:"answeredAt,omitempty"`
	ExecutedAt   *time.Time   `json:"executedAt,omitempty"`
	// Approval is set when the compensation is above the limit: the
	// proposal reaches the customer once a supervisor approves it.
	Approval *Approval `json:"approval,omitempty"`
	// Confirmation is the customer's word once it is carried out.
	Confirmation *Confirmation `json:"confirmation,omitempty"`
}

// ReachedCustomer is true for a proposal the customer was sent: one that
// needed no approval, or one a supervisor approved (it reached them then).
// A proposal awaiting approval, or refused, never did.
func (r Resolution) ReachedCustomer() (bool, time.Time) {
	switch {
	case r.Approval == nil:
		return true, r.ProposedAt
	case r.Approval.Approved != nil && *r.Approval.Approved && r.Approval.At != nil:
		return true, *r.Approval.At
	}
	return false, time.Time{}
}

// DisputeStep is one stage of the dispute path the case went through.
type DisputeStep struct {
	Stage DisputeStage `json:"stage"`
	Note  string       `json:"note"`
	// SkipReason is why a supervisor skipped the stages before this one.
	SkipReason string    `json:"skipReason,omitempty"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
}

// Survey is the satisfaction survey after closing.
type Survey struct {
	Round      int        `json:"round"`
	SentAt     time.Time  `json:"sentAt"`
	RemindedAt *time.Time `json:"remindedAt,omitempty"`
	Score      int        `json:"score,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	AnsweredAt *time.Time `json:"answeredAt,omitempty"`
	Expired    bool       `json:"expired,omitempty"`
	Cancelled  bool       `json:"cancelled,omitempty"`
}

// CaseView is the case as it stands: the answer to the `case` query and to
// GET /v1/complaints/{reference}. Customer contact details are left out.
type CaseView struct {
	Reference         string               `json:"reference"`
	WorkflowID        string               `json:"workflowId"`
	Status            Status               `json:"status"`
	Owner             string               `json:"owner"`
	Channel           Channel              `json:"channel"`
	Category          Category             `json:"category"`
	Severity          Severity             `json:"severity"`
	Priority          Priority             `json:"priority"`
	Departments       []Department         `json:"departments"`
	Subject           string               `json:"subject"`
	ExternalID        string               `json:"externalId,omitempty"`
	RepeatOf          string               `json:"repeatOf,omitempty" doc:"The earlier case of the same customer this one repeats."`
	OrderID           string               `json:"orderId,omitempty"`
	ReceivedAt        time.Time            `json:"receivedAt"`
	AcknowledgedAt    *time.Time           `json:"acknowledgedAt,omitempty"`
	Round             int                  `json:"round" doc:"Investigation round: 1, then one more for every reopening."`
	Investigation     []DepartmentProgress `json:"investigation"`
	Resolutions       []Resolution         `json:"resolutions"`
	Dispute           []DisputeStep        `json:"dispute,omitempty"`
	WaitingOnCustomer string               `json:"waitingOnCustomer,omitempty" doc:"Why the case waits for the customer; empty when it does not."`
	Outcome           Outcome              `json:"outcome,omitempty"`
	CloseSummary      string               `json:"closeSummary,omitempty"`
	Decision          string               `json:"decision,omitempty" doc:"The final decision of arbitration or litigation the case closed on."`
	ClosedAt          *time.Time           `json:"closedAt,omitempty"`
	Survey            *Survey              `json:"survey,omitempty"`
	FollowUp          *FollowUp            `json:"followUp,omitempty" doc:"The owner's follow-up of a low satisfaction score."`
	Concerns          string               `json:"concerns,omitempty" doc:"The staff member the complaint is about, who takes no part in handling it."`
	Impact            *Impact              `json:"impact,omitempty"`
	Deadlines         []Deadline           `json:"deadlines"`
	EscalationLevel   int                  `json:"escalationLevel"`
	NextTask          string               `json:"nextTask,omitempty" doc:"The human task the case waits for."`
	History           []Event              `json:"history"`
	Archived          bool                 `json:"archived,omitempty" doc:"Read from the case record: Temporal no longer holds the case (past its retention). Deadlines, department progress and proposals are not kept there."`
	Messages          []CustomerNote       `json:"messages,omitempty" doc:"The customer's own messages (email replies, the status page), oldest first."`
}

// CaseState is everything a case workflow carries across continue-as-new.
type CaseState struct {
	View     CaseView `json:"view"`
	Intake   Intake   `json:"intake"`
	Policy   Policy   `json:"policy"`
	Steps    int      `json:"steps"`
	Phase    string   `json:"phase"`
	Executed bool     `json:"executed"`
	// ToldAt is when the customer last heard from us: the progress message
	// is due a while after it.
	ToldAt time.Time `json:"toldAt,omitzero"`
}
