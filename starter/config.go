package starter

import (
	"fmt"
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
}

// Build checks the configuration and turns it into a routing table and a policy.
func (c CaseConfig) Build() (complaint.RoutingTable, complaint.Policy, error) {
	p := complaint.Policy{
		SurveyDelay: c.SurveyDelay, SurveyReminder: c.SurveyReminder, SurveyExpiry: c.SurveyExpiry, ReopenWindow: c.ReopenWindow,
	}
	for _, d := range c.Departments {
		p.Departments = append(p.Departments, complaint.Department(d))
	}
	switch {
	case len(p.Departments) == 0:
		return nil, p, fmt.Errorf("DEPARTMENTS: at least one department")
	case p.SurveyDelay <= 0 || p.SurveyReminder <= 0 || p.SurveyExpiry <= p.SurveyReminder:
		return nil, p, fmt.Errorf("SURVEY_DELAY and SURVEY_REMINDER must be positive, SURVEY_EXPIRY after SURVEY_REMINDER")
	case p.ReopenWindow < p.SurveyDelay+p.SurveyExpiry:
		return nil, p, fmt.Errorf("REOPEN_WINDOW must last until the survey expires (SURVEY_DELAY + SURVEY_EXPIRY)")
	}
	routing, err := complaint.ParseRouting(c.Routing, complaint.DefaultRouting, p.Departments)
	if err != nil {
		return nil, p, fmt.Errorf("ROUTING: %w", err)
	}
	return routing, p, nil
}
