package complaint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// SLATargets are the time rules of DOMAIN §4 for one kind of case. A zero
// field in an override means "as the level below".
type SLATargets struct {
	Acknowledge        time.Duration `json:"acknowledge,omitempty"`
	FirstResponse      time.Duration `json:"firstResponse,omitempty"`
	InvestigationStart time.Duration `json:"investigationStart,omitempty"`
	// Resolution is working time (WorkingDays), counted on the calendar.
	Resolution time.Duration `json:"resolution,omitempty"`
	// The waits after the first proposal. TakeOwnership: a desk-owned case
	// taken by a person. CustomerAnswer: the customer's answer to a proposal
	// (reminded at the warning point, the owner told at the due time).
	// Execution: carrying out an accepted resolution. Dispute: each stage
	// of the dispute path.
	TakeOwnership  time.Duration                  `json:"takeOwnership,omitempty"`
	CustomerAnswer time.Duration                  `json:"customerAnswer,omitempty"`
	Execution      time.Duration                  `json:"execution,omitempty"`
	Dispute        map[DisputeStage]time.Duration `json:"dispute,omitempty"`
}

// OverOf returns base with the fields t sets replaced.
func (t SLATargets) OverOf(base SLATargets) SLATargets { return t.over(base) }

func (t SLATargets) over(base SLATargets) SLATargets {
	for _, f := range []struct {
		set  time.Duration
		into *time.Duration
	}{
		{t.Acknowledge, &base.Acknowledge}, {t.FirstResponse, &base.FirstResponse},
		{t.InvestigationStart, &base.InvestigationStart}, {t.Resolution, &base.Resolution},
		{t.TakeOwnership, &base.TakeOwnership}, {t.CustomerAnswer, &base.CustomerAnswer}, {t.Execution, &base.Execution},
	} {
		if f.set != 0 {
			*f.into = f.set
		}
	}
	if len(t.Dispute) > 0 {
		merged := maps.Clone(base.Dispute)
		if merged == nil {
			merged = map[DisputeStage]time.Duration{}
		}
		maps.Copy(merged, t.Dispute)
		base.Dispute = merged
	}
	return base
}

// SLAConfig is the SLA policy of the whole organisation: targets per
// priority, optionally refined per category and per department, the warning
// point, the escalation ladder and the calendar.
type SLAConfig struct {
	ByPriority   map[Priority]SLATargets   `json:"byPriority"`
	ByCategory   map[Category]SLATargets   `json:"byCategory,omitempty"`
	ByDepartment map[Department]SLATargets `json:"byDepartment,omitempty"`
	// WarnAt is the share of a clock's time after which its owner is warned.
	WarnAt float64 `json:"warnAt"`
	// EscalateEvery is the time between two rungs of the ladder once a clock
	// is breached.
	EscalateEvery time.Duration `json:"escalateEvery"`
	// Ladder names the supervisor, the manager and the director of each
	// department; "*" is everyone else's.
	Ladder   map[Department][]string `json:"ladder"`
	Calendar CalendarSpec            `json:"calendar"`
}

// DefaultSLATargets are DOMAIN §4's figures for a medium case, tightened for
// high and critical ones.
func DefaultSLATargets() map[Priority]SLATargets {
	// The waits after the first proposal: a day to take a desk case, the
	// customer's answer and the carrying-out within days, each dispute stage
	// within the weeks such a stage takes (negotiation is ours to run;
	// mediation, arbitration and litigation follow outside schedules).
	dispute := func(scale float64) map[DisputeStage]time.Duration {
		return map[DisputeStage]time.Duration{"negotiation": WorkingDays(5 / scale), "mediation": WorkingDays(10 / scale),
			"arbitration": WorkingDays(40), "litigation": WorkingDays(120)}
	}
	domain := SLATargets{Acknowledge: time.Hour, FirstResponse: 4 * time.Hour, InvestigationStart: 24 * time.Hour,
		Resolution: WorkingDays(3), TakeOwnership: 4 * time.Hour, CustomerAnswer: WorkingDays(5),
		Execution: WorkingDays(5), Dispute: dispute(1)}
	return map[Priority]SLATargets{
		PriorityLow:    domain,
		PriorityMedium: domain,
		PriorityHigh: {Acknowledge: 30 * time.Minute, FirstResponse: 2 * time.Hour, InvestigationStart: 12 * time.Hour,
			Resolution: WorkingDays(2), TakeOwnership: 2 * time.Hour, CustomerAnswer: WorkingDays(3),
			Execution: WorkingDays(3), Dispute: dispute(1)},
		PriorityCritical: {Acknowledge: 15 * time.Minute, FirstResponse: time.Hour, InvestigationStart: 4 * time.Hour,
			Resolution: WorkingDays(1), TakeOwnership: 30 * time.Minute, CustomerAnswer: WorkingDays(2),
			Execution: WorkingDays(2), Dispute: dispute(5)},
	}
}

// DefaultLadder is the escalation ladder when configuration names none.
func DefaultLadder() map[Department][]string {
	return map[Department][]string{"*": {"cs.supervisor", "cs.manager", "ops.director"}}
}

// CaseSLA is the part of the SLA policy one case is held to, captured when
// it starts.
type CaseSLA struct {
	Acknowledge   time.Duration `json:"acknowledge"`
	FirstResponse time.Duration `json:"firstResponse"`
	Resolution    time.Duration `json:"resolution"`
	// The waits after the first proposal (SLATargets); working time but
	// TakeOwnership.
	TakeOwnership  time.Duration                  `json:"takeOwnership,omitempty"`
	CustomerAnswer time.Duration                  `json:"customerAnswer,omitempty"`
	Execution      time.Duration                  `json:"execution,omitempty"`
	Dispute        map[DisputeStage]time.Duration `json:"dispute,omitempty"`
	// InvestigationStart is per department: the department's own override,
	// or Default.
	InvestigationStart map[Department]time.Duration `json:"investigationStart"`
	DefaultStart       time.Duration                `json:"defaultStart"`
	WarnAt             float64                      `json:"warnAt"`
	EscalateEvery      time.Duration                `json:"escalateEvery"`
	Ladder             map[Department][]string      `json:"ladder"`
	Calendar           CalendarSpec                 `json:"calendar"`
}

// ForCase resolves the targets for a case of this priority and category.
func (s SLAConfig) ForCase(p Priority, c Category, lead Department) CaseSLA {
	t := s.ByPriority[p].over(s.ByPriority[PriorityMedium])
	t = s.ByCategory[c].over(t)
	lt := s.ByDepartment[lead].over(t)
	out := CaseSLA{
		Acknowledge: t.Acknowledge, FirstResponse: t.FirstResponse, Resolution: lt.Resolution,
		DefaultStart: t.InvestigationStart, InvestigationStart: map[Department]time.Duration{},
		WarnAt: s.WarnAt, EscalateEvery: s.EscalateEvery, Ladder: s.Ladder, Calendar: s.Calendar,
		TakeOwnership: t.TakeOwnership, CustomerAnswer: t.CustomerAnswer, Execution: t.Execution, Dispute: t.Dispute,
	}
	for _, d := range slices.Sorted(maps.Keys(s.ByDepartment)) {
		if v := s.ByDepartment[d].InvestigationStart; v != 0 {
			out.InvestigationStart[d] = v
		}
	}
	return out
}

// WithTargetsOf is s with the targets that depend on the priority taken
// from t; the warning point, the ladder and the calendar stay s's.
func (s CaseSLA) WithTargetsOf(t CaseSLA) CaseSLA {
	s.Acknowledge, s.FirstResponse, s.Resolution = t.Acknowledge, t.FirstResponse, t.Resolution
	s.InvestigationStart, s.DefaultStart = t.InvestigationStart, t.DefaultStart
	s.TakeOwnership, s.CustomerAnswer, s.Execution, s.Dispute = t.TakeOwnership, t.CustomerAnswer, t.Execution, t.Dispute
	return s
}

// StartWithin is how long department d has to start investigating.
func (s CaseSLA) StartWithin(d Department) time.Duration {
	if v, ok := s.InvestigationStart[d]; ok {
		return v
	}
	return s.DefaultStart
}

// Rung is who hears of a breach at escalation level (1 supervisor, 2
// manager, 3 director) for department d.
func (s CaseSLA) Rung(d Department, level int) string {
	ladder, ok := s.Ladder[d]
	if !ok {
		ladder = s.Ladder["*"]
	}
	if level < 1 || level > len(ladder) {
		return ""
	}
	return ladder[level-1]
}

// Validate checks an SLA configuration before any case uses it.
func (s SLAConfig) Validate() error {
	var problems []string
	for _, p := range Priorities {
		t, ok := s.ByPriority[p]
		if !ok {
			problems = append(problems, fmt.Sprintf("no targets for priority %s", p))
			continue
		}
		if t.Acknowledge <= 0 || t.FirstResponse <= 0 || t.InvestigationStart <= 0 || t.Resolution <= 0 ||
			t.TakeOwnership <= 0 || t.CustomerAnswer <= 0 || t.Execution <= 0 {
			problems = append(problems, fmt.Sprintf("priority %s: every target must be positive", p))
		}
		for _, stage := range DisputeStages {
			if t.Dispute[stage] <= 0 {
				problems = append(problems, fmt.Sprintf("priority %s: dispute stage %s needs a positive target", p, stage))
			}
		}
	}
	if s.WarnAt <= 0 || s.WarnAt >= 1 {
		problems = append(problems, "warnAt must be between 0 and 1")
	}
	if s.EscalateEvery <= 0 {
		problems = append(problems, "escalateEvery must be positive")
	}
	if len(s.Ladder["*"]) != 3 {
		problems = append(problems, `the ladder needs "*" with supervisor, manager and director`)
	}
	for d, l := range s.Ladder {
		if len(l) != 3 {
			problems = append(problems, fmt.Sprintf("ladder of %s: want supervisor, manager and director", d))
		}
	}
	if _, err := s.Calendar.Build(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("SLA policy: %s", strings.Join(problems, "; "))
	}
	return nil
}
