package starter

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// CaseConfig is the configuration every new case is started with. It is
// captured into the case when it starts (complaint.Policy), so changing it
// affects new cases only.
type CaseConfig struct {
	Departments    []string      `env:"DEPARTMENTS" envSeparator:"," envDefault:"customer_service,after_sales,technical,product,logistics,billing,legal"`
	Routing        string        `env:"ROUTING" envDefault:""`
	SurveyDelay    time.Duration `env:"SURVEY_DELAY" envDefault:"336h"`
	SurveyReminder time.Duration `env:"SURVEY_REMINDER" envDefault:"72h"`
	SurveyExpiry   time.Duration `env:"SURVEY_EXPIRY" envDefault:"168h"`
	ReopenWindow   time.Duration `env:"REOPEN_WINDOW" envDefault:"720h"`
	RepeatWindow   time.Duration `env:"REPEAT_WINDOW" envDefault:"2160h"`

	// The seeds' follow-ups; "working days" count on CALENDAR.
	CompensationLimits  string  `env:"COMPENSATION_APPROVAL_LIMITS" envDefault:"CNY=500,USD=100,EUR=100,GBP=100,HKD=500"`
	ApprovalWorkingDays float64 `env:"APPROVAL_WORKING_DAYS" envDefault:"0.5"`
	ProgressWorkingDays float64 `env:"PROGRESS_WORKING_DAYS" envDefault:"2"`
	ConfirmWorkingDays  float64 `env:"CONFIRM_WORKING_DAYS" envDefault:"5"`
	FollowUpScore       int     `env:"FOLLOW_UP_SCORE" envDefault:"2"`
	FollowUpWorkingDays float64 `env:"FOLLOW_UP_WORKING_DAYS" envDefault:"2"`

	SLAPolicy        string        `env:"SLA_POLICY" envDefault:""`
	SLAWarnAt        float64       `env:"SLA_WARN_AT" envDefault:"0.75"`
	EscalateEvery    time.Duration `env:"ESCALATE_EVERY" envDefault:"4h"`
	EscalationLadder string        `env:"ESCALATION_LADDER" envDefault:"*=cs.supervisor+cs.manager+ops.director"`
	Calendar         string        `env:"CALENDAR" envDefault:"cn"`
	CalendarZone     string        `env:"CALENDAR_ZONE" envDefault:""`
	ExtraHolidays    []string      `env:"CALENDAR_EXTRA_HOLIDAYS" envSeparator:","`
	ExtraWorkdays    []string      `env:"CALENDAR_EXTRA_WORKDAYS" envSeparator:","`
	// CalendarWarnDays is from how many days before the calendar's holiday
	// table ends operators are told (/readyz, the worker's log).
	CalendarWarnDays int `env:"CALENDAR_WARN_DAYS" envDefault:"60"`
	// CalendarFromYear leaves the holiday table's earlier years out of the
	// policy each case captures (0: every year the table holds).
	CalendarFromYear int `env:"CALENDAR_FROM_YEAR" envDefault:"0"`
	// Jurisdiction is the regulator whose long-stop new cases are held to
	// (complaint/longstop.go): cn, uk or none.
	Jurisdiction string `env:"JURISDICTION" envDefault:"none"`
}

// Build checks the configuration and turns it into the rules of new cases.
func (c CaseConfig) Build() (complaint.Rules, error) {
	r := complaint.Rules{Policy: complaint.Policy{
		SurveyDelay: c.SurveyDelay, SurveyReminder: c.SurveyReminder, SurveyExpiry: c.SurveyExpiry, ReopenWindow: c.ReopenWindow,
		RepeatWindow:   c.RepeatWindow,
		ApprovalWithin: complaint.WorkingDays(c.ApprovalWorkingDays), ProgressEvery: complaint.WorkingDays(c.ProgressWorkingDays),
		ConfirmWithin: complaint.WorkingDays(c.ConfirmWorkingDays), FollowUpScore: c.FollowUpScore,
		FollowUpWithin: complaint.WorkingDays(c.FollowUpWorkingDays),
	}}
	for _, d := range c.Departments {
		r.Policy.Departments = append(r.Policy.Departments, complaint.Department(d))
	}
	p := r.Policy
	switch {
	case len(p.Departments) == 0:
		return r, fmt.Errorf("DEPARTMENTS: at least one department")
	case p.SurveyDelay <= 0 || p.SurveyReminder <= 0 || p.SurveyExpiry <= p.SurveyReminder:
		return r, fmt.Errorf("SURVEY_DELAY and SURVEY_REMINDER must be positive, SURVEY_EXPIRY after SURVEY_REMINDER")
	case p.ReopenWindow < p.SurveyDelay+p.SurveyExpiry:
		return r, fmt.Errorf("REOPEN_WINDOW must last until the survey expires (SURVEY_DELAY + SURVEY_EXPIRY)")
	case p.ApprovalWithin <= 0 || p.ConfirmWithin <= 0 || p.FollowUpWithin <= 0:
		return r, fmt.Errorf("APPROVAL_WORKING_DAYS, CONFIRM_WORKING_DAYS and FOLLOW_UP_WORKING_DAYS must be positive")
	case p.ProgressEvery < 0:
		return r, fmt.Errorf("PROGRESS_WORKING_DAYS must not be negative (0: no progress messages)")
	case p.FollowUpScore < 0 || p.FollowUpScore > 5:
		return r, fmt.Errorf("FOLLOW_UP_SCORE must be from 0 (never) to 5")
	}
	var err error
	if r.Policy.CompensationLimits, err = complaint.ParseCompensationLimits(c.CompensationLimits, nil); err != nil {
		return r, fmt.Errorf("COMPENSATION_APPROVAL_LIMITS: %w", err)
	}
	if r.Policy.LongStop, err = complaint.LongStopFor(complaint.Jurisdiction(c.Jurisdiction)); err != nil {
		return r, fmt.Errorf("JURISDICTION: %w", err)
	}
	if r.Routing, err = complaint.ParseRouting(c.Routing, complaint.DefaultRouting, p.Departments); err != nil {
		return r, fmt.Errorf("ROUTING: %w", err)
	}
	if r.SLA, err = c.sla(p.Departments); err != nil {
		return r, err
	}
	return r, r.SLA.Validate()
}

// slaTargets is one entry of SLA_POLICY, in the units people write.
type slaTargets struct {
	Acknowledge           string  `json:"acknowledge"`
	FirstResponse         string  `json:"firstResponse"`
	InvestigationStart    string  `json:"investigationStart"`
	ResolutionWorkingDays float64 `json:"resolutionWorkingDays"`
	TakeOwnership         string  `json:"takeOwnership"`
	// The waits after the first proposal, in working days.
	CustomerAnswerWorkingDays float64                            `json:"customerAnswerWorkingDays"`
	ExecutionWorkingDays      float64                            `json:"executionWorkingDays"`
	DisputeWorkingDays        map[complaint.DisputeStage]float64 `json:"disputeWorkingDays"`
}

func (t slaTargets) targets() (complaint.SLATargets, error) {
	var out complaint.SLATargets
	for _, f := range []struct {
		text string
		into *time.Duration
	}{{t.Acknowledge, &out.Acknowledge}, {t.FirstResponse, &out.FirstResponse}, {t.InvestigationStart, &out.InvestigationStart},
		{t.TakeOwnership, &out.TakeOwnership}} {
		if f.text == "" {
			continue
		}
		d, err := time.ParseDuration(f.text)
		if err != nil {
			return out, err
		}
		*f.into = d
	}
	out.Resolution = complaint.WorkingDays(t.ResolutionWorkingDays)
	out.CustomerAnswer = complaint.WorkingDays(t.CustomerAnswerWorkingDays)
	out.Execution = complaint.WorkingDays(t.ExecutionWorkingDays)
	for stage, days := range t.DisputeWorkingDays {
		if !slices.Contains(complaint.DisputeStages, stage) {
			return out, fmt.Errorf("disputeWorkingDays: %q is not a dispute stage", stage)
		}
		if out.Dispute == nil {
			out.Dispute = map[complaint.DisputeStage]time.Duration{}
		}
		out.Dispute[stage] = complaint.WorkingDays(days)
	}
	return out, nil
}

func (c CaseConfig) sla(depts []complaint.Department) (complaint.SLAConfig, error) {
	s := complaint.SLAConfig{
		ByPriority: complaint.DefaultSLATargets(), ByCategory: map[complaint.Category]complaint.SLATargets{},
		ByDepartment: map[complaint.Department]complaint.SLATargets{}, WarnAt: c.SLAWarnAt, EscalateEvery: c.EscalateEvery,
		Ladder: map[complaint.Department][]string{},
	}
	if c.SLAPolicy != "" {
		var entries map[string]slaTargets
		if err := json.Unmarshal([]byte(c.SLAPolicy), &entries); err != nil {
			return s, fmt.Errorf("SLA_POLICY: %w", err)
		}
		for key, e := range entries {
			t, err := e.targets()
			if err != nil {
				return s, fmt.Errorf("SLA_POLICY %s: %w", key, err)
			}
			kind, name, _ := strings.Cut(key, ":")
			switch {
			case name == "" && slices.Contains(complaint.Priorities, complaint.Priority(kind)):
				s.ByPriority[complaint.Priority(kind)] = t.OverOf(s.ByPriority[complaint.Priority(kind)])
			case kind == "category" && complaint.Category(name).Valid():
				s.ByCategory[complaint.Category(name)] = t
			case kind == "department":
				s.ByDepartment[complaint.Department(name)] = t
			default:
				return s, fmt.Errorf("SLA_POLICY: key %q: want a priority, category:NAME or department:NAME", key)
			}
		}
	}
	for entry := range strings.SplitSeq(c.EscalationLadder, ";") {
		dept, people, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok {
			return s, fmt.Errorf("ESCALATION_LADDER entry %q: want department=supervisor+manager+director", entry)
		}
		s.Ladder[complaint.Department(strings.TrimSpace(dept))] = strings.Split(strings.TrimSpace(people), "+")
	}
	var err error
	s.Calendar, err = complaint.LoadCalendar(c.Calendar, c.CalendarZone,
		complaint.DaySet{Holidays: c.ExtraHolidays, Workdays: c.ExtraWorkdays}, c.CalendarFromYear)
	if err != nil {
		return s, fmt.Errorf("CALENDAR: %w", err)
	}
	for d := range s.ByDepartment {
		if !slices.Contains(depts, d) {
			return s, fmt.Errorf("SLA_POLICY: department %s is not among DEPARTMENTS", d)
		}
	}
	return s, nil
}
