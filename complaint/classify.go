package complaint

import (
	"fmt"
	"slices"
	"strings"
)

// categoryKeywords drives classification when the submitter gave no category.
// The category with the most hits wins; a tie goes to the one listed first.
var categoryKeywords = []struct {
	category Category
	words    []string
}{
	{CategoryLegal, []string{"fraud", "lawyer", "lawsuit", "consumer rights", "illegal", "欺诈", "律师", "起诉", "违法", "消费者权益"}},
	{CategoryBilling, []string{"charged", "invoice", "refund", "price", "overcharge", "bill", "扣费", "发票", "退款", "价格", "收费", "账单"}},
	{CategoryLogistics, []string{"delivery", "parcel", "package", "shipping", "courier", "late", "damaged in transit", "快递", "物流", "配送", "包裹", "送货"}},
	{CategoryAfterSales, []string{"warranty", "repair", "technician", "return", "replacement", "保修", "维修", "售后", "退货", "换货"}},
	{CategoryServiceAttitude, []string{"rude", "impolite", "attitude", "ignored", "态度", "不礼貌", "冷漠"}},
	{CategoryProductQuality, []string{"broken", "defect", "faulty", "dead on arrival", "does not turn on", "flicker", "overheat", "noise", "quality", "spicy", "allergy", "质量", "故障", "损坏", "噪音", "过热", "闪烁", "开不了机"}},
	{CategoryInformation, []string{"no reply", "no answer", "unanswered", "no response", "not informed", "未回复", "没有回复", "无人回应"}},
	{CategoryProcess, []string{"slow", "waiting", "process", "queue", "效率", "流程", "等待"}},
}

// Classify picks a category from the subject and description.
func Classify(subject, description string) Category {
	text := strings.ToLower(subject + " " + description)
	best, bestHits := CategoryOther, 0
	for _, k := range categoryKeywords {
		hits := 0
		for _, w := range k.words {
			if strings.Contains(text, w) {
				hits++
			}
		}
		if hits > bestHits {
			best, bestHits = k.category, hits
		}
	}
	return best
}

// PriorityFor derives the handling priority from severity (how bad), urgency
// (a channel where the customer is already public) and scope (a problem
// reaching many customers or a batch, or legal exposure). Each aggravating
// factor raises the severity by one step, capped at critical.
func PriorityFor(sev Severity, ch Channel, cat Category, impact *Impact) Priority {
	level := slices.Index(Severities, sev)
	if level < 0 {
		level = slices.Index(Severities, SeverityMedium)
	}
	if ch == ChannelSocial {
		level++
	}
	if cat == CategoryLegal || impact.Wide() {
		level++
	}
	return Priorities[min(level, len(Priorities)-1)]
}

// Raise is the next priority up, critical staying critical.
func Raise(p Priority) Priority {
	i := slices.Index(Priorities, p)
	return Priorities[min(max(i, 0)+1, len(Priorities)-1)]
}

// RoutingTable maps a category to the departments that investigate it; the
// first one is responsible for the resolution.
type RoutingTable map[Category][]Department

// DefaultRouting is the routing table used when configuration gives none.
var DefaultRouting = RoutingTable{
	CategoryProductQuality:  {DeptProduct, DeptTechnical},
	CategoryServiceAttitude: {DeptCustomerService},
	CategoryAfterSales:      {DeptAfterSales},
	CategoryLogistics:       {DeptLogistics},
	CategoryBilling:         {DeptBilling},
	CategoryInformation:     {DeptCustomerService},
	CategoryProcess:         {DeptCustomerService},
	CategoryLegal:           {DeptLegal, DeptCustomerService},
	CategoryOther:           {DeptCustomerService},
}

// Route returns the departments for a category; customer service when the
// table has no entry, so a case is never routed nowhere.
func (t RoutingTable) Route(c Category) []Department {
	if d, ok := t[c]; ok && len(d) > 0 {
		return slices.Clone(d)
	}
	return []Department{DeptCustomerService}
}

// ParseRouting reads routing overrides written as
// "category=dept+dept;category=dept" on top of base. Every category and
// department must be known, so a typo fails at start, not on a live case.
func ParseRouting(spec string, base RoutingTable, known []Department) (RoutingTable, error) {
	out := RoutingTable{}
	for c, d := range base {
		out[c] = slices.Clone(d)
	}
	for entry := range strings.SplitSeq(spec, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		cat, depts, ok := strings.Cut(entry, "=")
		if !ok || !Category(strings.TrimSpace(cat)).Valid() {
			return nil, fmt.Errorf("routing entry %q: want category=department+department with a known category", entry)
		}
		var route []Department
		for d := range strings.SplitSeq(depts, "+") {
			dep := Department(strings.TrimSpace(d))
			if !slices.Contains(known, dep) {
				return nil, fmt.Errorf("routing entry %q: unknown department %q", entry, dep)
			}
			route = append(route, dep)
		}
		out[Category(strings.TrimSpace(cat))] = route
	}
	for c, route := range out {
		for _, d := range route {
			if !slices.Contains(known, d) {
				return nil, fmt.Errorf("category %s routes to %s, which is not among the departments", c, d)
			}
		}
	}
	return out, nil
}
