package complaint

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The regulator's long-stop: an outer limit on a complaint that no pause
// for the customer stretches. Each jurisdiction sets its own limit, what
// the customer must be told when it is reached without a closing (the
// final-response letter and their rights to refer), and whether a
// complaint resolved quickly gets a summary resolution message.

// Jurisdiction names a regulator's rules.
type Jurisdiction string

const (
	// JurisdictionNone: no regulatory long-stop.
	JurisdictionNone Jurisdiction = "none"
	// JurisdictionCN: China's market-regulation complaint rules: 10 working
	// days of negotiation by the platform, after which the consumer may go
	// to the market-regulation authority (12315).
	JurisdictionCN Jurisdiction = "cn"
	// JurisdictionUK: the FCA's DISP 1.6: a final response within 8 weeks
	// of receipt, telling the customer of their right to refer to the
	// Financial Ombudsman Service within 6 months; DISP 1.5: a complaint
	// resolved by the close of the third business day after receipt gets
	// a summary resolution communication.
	JurisdictionUK Jurisdiction = "uk"
)

// Jurisdictions are the ones configuration may name.
var Jurisdictions = []Jurisdiction{JurisdictionNone, JurisdictionCN, JurisdictionUK}

// ClockLongStop is the regulator's long-stop clock: from receipt, never paused.
const ClockLongStop = "regulatoryLongStop"

// Messages of the long-stop.
const (
	// MsgFinalResponse is the final-response letter sent when the
	// long-stop is reached without a closing: where the case stands and the
	// customer's rights to refer.
	MsgFinalResponse MessageKind = "final_response"
	// MsgSummaryResolution is the summary resolution message of a complaint
	// closed within the jurisdiction's quick-resolution window.
	MsgSummaryResolution MessageKind = "summary_resolution"
)

// LongStopPolicy is one jurisdiction's long-stop as a case captures it at
// start: later configuration changes never move an open case's rules.
type LongStopPolicy struct {
	Jurisdiction Jurisdiction `json:"jurisdiction"`
	// Limit is the long-stop's time from receipt; WorkingTime counts it on
	// the case's working-day calendar.
	Limit       time.Duration `json:"limit"`
	WorkingTime bool          `json:"workingTime,omitempty"`
	// SummaryWithin, when set, is the quick-resolution window (working
	// time from receipt): a case closed within it is sent a summary
	// resolution message.
	SummaryWithin time.Duration `json:"summaryWithin,omitempty"`
}

// LongStopFor is the long-stop of a jurisdiction; nil for none.
func LongStopFor(j Jurisdiction) (*LongStopPolicy, error) {
	switch j {
	case "", JurisdictionNone:
		return nil, nil
	case JurisdictionCN:
		return &LongStopPolicy{Jurisdiction: j, Limit: WorkingDays(10), WorkingTime: true}, nil
	case JurisdictionUK:
		return &LongStopPolicy{Jurisdiction: j, Limit: 8 * 7 * 24 * time.Hour, SummaryWithin: WorkingDays(3)}, nil
	}
	return nil, fmt.Errorf("jurisdiction %q: want one of %s", j, strings.Join(names(Jurisdictions), ", "))
}

// ValidJurisdiction tells whether j is a known jurisdiction.
func ValidJurisdiction(j Jurisdiction) bool { return slices.Contains(Jurisdictions, j) }

// ReferralRights are what the final-response letter tells the customer of
// their right to take the complaint further, per jurisdiction and language.
var ReferralRights = map[Jurisdiction]map[string]string{
	JurisdictionUK: {
		"en": "If you are not satisfied with our final response, you may refer your complaint to the Financial " +
			"Ombudsman Service within six months of the date of this letter: Financial Ombudsman Service, " +
			"Exchange Tower, London E14 9SR; 0800 023 4567; www.financial-ombudsman.org.uk. The service is free.",
		"zh": "如您对我们的最终答复不满意，可在本函日期起六个月内将投诉提交英国金融申诉专员服务机构（Financial Ombudsman Service，" +
			"电话 0800 023 4567，www.financial-ombudsman.org.uk），该服务免费。",
	},
	JurisdictionCN: {
		"zh": "我们在 10 个工作日内未能与您协商解决此投诉。您有权向市场监督管理部门投诉或举报：拨打 12315 热线，" +
			"或登录全国 12315 平台（www.12315.cn）；也可依法申请调解、仲裁或向人民法院起诉。",
		"en": "We have not settled your complaint with you within 10 working days. You may now complain to the " +
			"market-regulation authority: call the 12315 hotline or use the national 12315 platform (www.12315.cn); " +
			"you may also seek mediation or arbitration, or bring the case before a people's court.",
	},
}

// ReferralText is the referral rights in lang (Chinese by default).
func ReferralText(j Jurisdiction, lang string) string {
	texts := ReferralRights[j]
	if t, ok := texts[lang]; ok {
		return t
	}
	return texts["zh"]
}

// Location is the zone the calendar counts days in.
func (c *WorkCalendar) Location() *time.Location { return c.loc }
