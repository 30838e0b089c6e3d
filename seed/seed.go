// Package seed writes made-up cases straight into the complaint record,
// for demonstrations (complaintctl seed) and the report benchmark. It is
// kept apart from the store the system runs on: no binary that handles
// cases carries it.
package seed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// seedChunk is how many cases one transaction of Seed writes.
const seedChunk = 20000

// Write writes n made-up cases received over the twelve months before now,
// straight into the database with COPY, as the workflow would have left
// them: closed and open cases, their customers' contact details, audit
// trails, proposals, surveys and SLA events, with plausible distributions
// (weekly rhythm, promotion peaks, slow departments, repeat customers). It
// is for demonstrations and measurements: the cases have no workflows.
// The same rnd gives the same cases for the same now. progress, when set,
// is told how many cases are written so far.
func Write(ctx context.Context, dsn string, n int, rnd *rand.Rand, progress func(done int)) error {
	if n <= 0 {
		return nil
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return fmt.Errorf("database url: %w", err)
	}
	defer pool.Close()
	var zone string
	if err := pool.QueryRow(ctx, `SELECT time_zone FROM report_settings`).Scan(&zone); err != nil {
		return fmt.Errorf("report time zone: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return fmt.Errorf("report time zone: %w", err)
	}
	g := newSeeder(rnd, loc, time.Now())
	times := g.receivedTimes(n)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan *seedRows, 2)
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range 2 { // COPY on two connections while the next chunk is made
		wg.Go(func() {
			for c := range chunks {
				if err := writeRows(ctx, pool, c); err != nil {
					errc <- err
					cancel()
					return
				}
				mu.Lock()
				done += len(c.refs)
				if progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
		})
	}
	go func() {
		defer close(chunks)
		for start := 0; start < n; start += seedChunk {
			rows := &seedRows{}
			for _, t := range times[start:min(start+seedChunk, n)] {
				g.makeCase(t).appendTo(rows)
			}
			select {
			case chunks <- rows:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errc)
	if err := errors.Join(<-errc, <-errc); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// What autovacuum would do next, at once: statistics for the planner,
	// and the visibility map and hint bits, so that the first reads after
	// a bulk load neither write nor compete with a vacuum.
	_, err = pool.Exec(ctx, `VACUUM (ANALYZE) cases, customer_contacts, case_events, resolutions, surveys, findings, follow_ups,
		sla_events, report_case, report_case_counts, report_rollup, report_hist`)
	return err
}

// seedRows are the rows of one chunk, table by table.
type seedRows struct {
	refs                                                   []string
	cases, contacts, events, resolutions, surveys, slaRows [][]any
	findings, followUps                                    [][]any
}

func writeRows(ctx context.Context, pool *pgxpool.Pool, r *seedRows) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The rollup is refreshed once for the whole chunk, below.
		if _, err := tx.Exec(ctx, `SET LOCAL complaints.report_rollup = 'off'`); err != nil {
			return err
		}
		for _, t := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"cases", []string{"reference", "workflow_id", "channel", "category", "classified", "severity", "priority",
				"status", "owner", "departments", "subject", "order_id", "product", "desired_outcome", "received_by",
				"received_at", "acknowledged_at", "closed_at", "outcome", "escalation_level", "sla_breached",
				"updated_at", "dispute_stage", "round", "close_summary", "last_step", "repeat_of", "repeat", "follow_up_due"}, r.cases},
			{"customer_contacts", []string{"reference", "customer_id", "name", "email", "phone", "language",
				"description", "already_tried"}, r.contacts},
			{"case_events", []string{"reference", "event_key", "occurred_at", "recorded_at", "actor", "step", "summary"}, r.events},
			{"resolutions", []string{"reference", "attempt", "actions", "compensation_kind", "amount", "currency",
				"message", "proposed_by", "proposed_at", "accepted", "answered_at", "executed_at"}, r.resolutions},
			{"surveys", []string{"reference", "round", "sent_at", "reminded_at", "score", "comment", "answered_at",
				"expired", "cancelled"}, r.surveys},
			{"sla_events", []string{"reference", "event_key", "clock", "department", "round", "event", "level",
				"due_at", "occurred_at", "approximate"}, r.slaRows},
			{"findings", []string{"reference", "round", "department", "investigator", "findings", "root_cause",
				"reported_at"}, r.findings},
			{"follow_ups", []string{"reference", "round", "score", "owner", "opened_at", "due_at", "done_at", "done_by",
				"summary"}, r.followUps},
		} {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
				return fmt.Errorf("copy %s: %w", t.table, err)
			}
		}
		if _, err := tx.Exec(ctx, `SELECT report_refresh($1)`, r.refs); err != nil {
			return fmt.Errorf("refresh the reports: %w", err)
		}
		return nil
	})
}

// seeder makes up cases, in the order they were received.
type seeder struct {
	rnd       *rand.Rand
	loc       *time.Location
	now       time.Time
	days      map[string]*seedDay
	customers []seedCustomer
}

type seedDay struct{ next, offset uint64 }

type seedCustomer struct {
	id, name, email, phone, language string
	// The customer's last case, for repeat complaints.
	lastRef, lastSubject, lastProduct string
	lastAt                            time.Time
	lastCategory                      complaint.Category
}

func newSeeder(rnd *rand.Rand, loc *time.Location, now time.Time) *seeder {
	return &seeder{rnd: rnd, loc: loc, now: now.Truncate(time.Microsecond), days: map[string]*seedDay{}}
}

// receivedTimes draws n intake times over the last year, sorted: more on
// working days and in business hours, growing over the year, with the
// 618 and Double 11 promotions' peaks.
func (g *seeder) receivedTimes(n int) []time.Time {
	g.customers = make([]seedCustomer, max(n/3, 10))
	start := g.now.In(g.loc).AddDate(-1, 0, 0)
	start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, g.loc)
	var days []time.Time
	var cum []float64
	total := 0.0
	for d := start; d.Before(g.now); d = d.AddDate(0, 0, 1) {
		w := 0.8 + 0.4*float64(len(days))/366
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			w *= 0.6
		}
		for _, peak := range []struct {
			month  time.Month
			day    int
			factor float64
		}{{time.June, 18, 1.8}, {time.November, 11, 2.5}} {
			p := time.Date(d.Year(), peak.month, peak.day, 0, 0, 0, 0, g.loc)
			if diff := d.Sub(p).Hours() / 24; diff >= -1 && diff <= 4 {
				w *= peak.factor
			}
		}
		total += w
		days = append(days, d)
		cum = append(cum, total)
	}
	hours := []float64{1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 3, 5, 6, 6, 5, 5.5, 6, 6, 5.5, 5, 4.5, 5, 5.5, 5, 3.5, 2}
	var hourCum []float64
	h := 0.0
	for _, w := range hours {
		h += w
		hourCum = append(hourCum, h)
	}
	out := make([]time.Time, 0, n)
	for len(out) < n {
		d := days[sort.SearchFloat64s(cum, g.rnd.Float64()*total)]
		hour := sort.SearchFloat64s(hourCum, g.rnd.Float64()*h)
		t := d.Add(time.Duration(hour)*time.Hour + time.Duration(g.rnd.Int64N(int64(time.Hour)))).Truncate(time.Microsecond)
		if t.Before(g.now) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// reference is the next unused reference of t's day: a per-day counter,
// scattered over the alphabet by a bijection, from a random start.
func (g *seeder) reference(t time.Time) string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
	const space = 30 * 30 * 30 * 30 * 30 * 30
	day := t.In(g.loc).Format("20060102")
	d := g.days[day]
	if d == nil {
		d = &seedDay{offset: g.rnd.Uint64N(space)}
		g.days[day] = d
	}
	v := (d.next*246817831 + d.offset) % space // 246817831 is prime to 30
	d.next++
	var suffix [6]byte
	for i := range suffix {
		suffix[i] = alphabet[v%30]
		v /= 30
	}
	return "CMP-" + day + "-" + string(suffix[:])
}

type seedEvent struct {
	at                   time.Time
	actor, step, summary string
}

type seedResolution struct {
	kind, currency, message string
	cents                   int64
	actions                 []string
	proposedAt              time.Time
	accepted                *bool
	answeredAt, executedAt  *time.Time
}

// seedFinding is one department's report and the root cause it names.
type seedFinding struct {
	dept, cause string
	at          time.Time
}

// seedFollowUp is the owner's follow-up of a low score.
type seedFollowUp struct {
	opened, due time.Time
	done        *time.Time
}

// seedRootCauses are the root causes departments name, per category, most
// frequent first: the reports' hot spots have something to rank.
var seedRootCauses = map[complaint.Category][]string{
	complaint.CategoryProductQuality:  {"Supplier QA gap", "Firmware defect", "Assembly fault", "Design flaw"},
	complaint.CategoryLogistics:       {"Carrier handling", "Warehouse mis-pick", "Peak-season backlog"},
	complaint.CategoryAfterSales:      {"Spare parts shortage", "Technician scheduling", "Warranty terms unclear"},
	complaint.CategoryServiceAttitude: {"Staff training gap", "Understaffed shift"},
	complaint.CategoryBilling:         {"Promotion price not applied", "Double charge at checkout"},
	complaint.CategoryInformation:     {"Unanswered email queue", "Wrong information on the website"},
	complaint.CategoryProcess:         {"Manual hand-off between teams", "Slow approval chain"},
	complaint.CategoryLegal:           {"Consent not recorded", "Terms not disclosed"},
	complaint.CategoryOther:           {"Unclear expectations"},
}

// rootCause picks a root cause of the category, the first ones more often.
func (g *seeder) rootCause(cat complaint.Category) string {
	causes := seedRootCauses[cat]
	if len(causes) == 0 {
		return "Unclear expectations"
	}
	i := 0
	for i < len(causes)-1 && g.chance(0.45) {
		i++
	}
	return causes[i]
}

type seedSurvey struct {
	sentAt                 time.Time
	remindedAt, answeredAt *time.Time
	score                  int
	expired                bool
}

type seedCase struct {
	ref                                string
	received                           time.Time
	channel                            complaint.Channel
	category                           complaint.Category
	severity                           complaint.Severity
	priority                           complaint.Priority
	owner, receivedBy                  string
	departments                        []string
	subject, product, orderID, desired string
	customer                           *seedCustomer
	customerID                         string
	description                        string
	status                             complaint.Status
	ackAt, closedAt                    *time.Time
	outcome, dispute, closeSummary     string
	escalation                         int
	breached                           bool
	repeatOf                           string
	events                             []seedEvent
	sla                                []complaint.SLAEvent
	resolutions                        []seedResolution
	survey                             *seedSurvey
	findings                           []seedFinding
	followUp                           *seedFollowUp
	updated                            time.Time
}

var (
	seedChannels = weighted[complaint.Channel]{
		{complaint.ChannelPhone, 25}, {complaint.ChannelChat, 22}, {complaint.ChannelWeb, 18}, {complaint.ChannelEmail, 15},
		{complaint.ChannelSocial, 8}, {complaint.ChannelPartner, 7}, {complaint.ChannelInPerson, 5}}
	seedCategories = weighted[complaint.Category]{
		{complaint.CategoryProductQuality, 22}, {complaint.CategoryLogistics, 20}, {complaint.CategoryAfterSales, 14},
		{complaint.CategoryServiceAttitude, 10}, {complaint.CategoryBilling, 10}, {complaint.CategoryInformation, 8},
		{complaint.CategoryProcess, 7}, {complaint.CategoryOther, 6}, {complaint.CategoryLegal, 3}}
	seedSeverities = weighted[complaint.Severity]{
		{complaint.SeverityLow, 30}, {complaint.SeverityMedium, 45}, {complaint.SeverityHigh, 20}, {complaint.SeverityCritical, 5}}
	seedProducts = []string{"Smartwatch X2", "Laptop Pro 14", "Washing machine W700", "Air fryer A3", "Phone Nova 8",
		"Earbuds Lite", "Vacuum cleaner V9", "Rice cooker R5", "TV 55Q", "Coffee machine C2"}
	seedSubjects = map[complaint.Category][]string{
		complaint.CategoryProductQuality: {"%s dead on arrival", "%s stopped working after a week", "%s screen flickers",
			"%s overheats", "Battery of %s drains fast", "%s makes a loud noise"},
		complaint.CategoryLogistics: {"Parcel with %s arrived damaged", "Late delivery of %s", "Package lost in transit",
			"Wrong item delivered instead of %s", "Courier left the parcel outside"},
		complaint.CategoryAfterSales: {"Repair of %s takes too long", "Warranty claim refused for %s",
			"Technician missed the appointment", "Return of %s not processed"},
		complaint.CategoryServiceAttitude: {"Rude agent on the hotline", "Staff ignored my question in the store",
			"Chat agent closed the conversation"},
		complaint.CategoryBilling: {"Charged twice for %s", "Refund not received", "Promotion price not applied to %s",
			"Unexpected fee on the invoice"},
		complaint.CategoryInformation: {"No reply to my email for days", "Wrong delivery date given for %s",
			"Description of %s misleading"},
		complaint.CategoryProcess: {"Return process too complicated", "Waited on hold for an hour",
			"Complaint transferred three times"},
		complaint.CategoryLegal: {"Personal data shared without consent", "False advertising of %s",
			"Consumer rights ignored on %s"},
		complaint.CategoryOther: {"Website keeps logging me out", "Suggestion ignored", "Store car park blocked"},
	}
	seedDesired = []string{"refund", "replacement", "repair", "apology", "compensation", "explanation", "other"}
	// scores by outcome: 1..5
	seedScores = map[string][]int{
		"upheld": {3, 5, 12, 35, 45}, "partially_upheld": {8, 12, 30, 32, 18}, "rejected": {30, 25, 25, 12, 8}}
)

type weighted[T any] []struct {
	v T
	w int
}

func (ws weighted[T]) pick(rnd *rand.Rand) T {
	total := 0
	for _, x := range ws {
		total += x.w
	}
	r := rnd.IntN(total)
	for _, x := range ws {
		if r < x.w {
			return x.v
		}
		r -= x.w
	}
	return ws[len(ws)-1].v
}

func pickInt(rnd *rand.Rand, weights []int) int {
	ws := make(weighted[int], len(weights))
	for i, w := range weights {
		ws[i].v, ws[i].w = i, w
	}
	return ws.pick(rnd)
}

// lognormal draws a duration around median, spread by sigma.
func (g *seeder) lognormal(median time.Duration, sigma float64) time.Duration {
	return time.Duration(float64(median) * math.Exp(sigma*g.rnd.NormFloat64())).Truncate(time.Microsecond)
}

func (g *seeder) chance(p float64) bool { return g.rnd.Float64() < p }

type seedBudget struct{ ack, firstResponse, start time.Duration }

func seedBudgets(p complaint.Priority) (seedBudget, int) {
	switch p {
	case complaint.PriorityHigh:
		return seedBudget{30 * time.Minute, 2 * time.Hour, 12 * time.Hour}, 2
	case complaint.PriorityCritical:
		return seedBudget{15 * time.Minute, time.Hour, 4 * time.Hour}, 1
	}
	return seedBudget{time.Hour, 4 * time.Hour, 24 * time.Hour}, 3
}

// addWorkingDays counts days on a Monday-to-Friday week.
func addWorkingDays(t time.Time, days int, loc *time.Location) time.Time {
	t = t.In(loc)
	for days > 0 {
		t = t.AddDate(0, 0, 1)
		if t.Weekday() != time.Saturday && t.Weekday() != time.Sunday {
			days--
		}
	}
	return t
}

func (g *seeder) makeCase(received time.Time) *seedCase {
	c := &seedCase{received: received, ref: g.reference(received)}
	c.channel = seedChannels.pick(g.rnd)
	i := g.rnd.IntN(len(g.customers))
	if g.chance(0.3) { // a few customers complain far more often than the rest
		i = g.rnd.IntN(max(len(g.customers)/20, 1))
	}
	cust := &g.customers[i]
	if cust.id == "" {
		cust.id = fmt.Sprintf("CUST-%07d", i+1)
		cust.name = fmt.Sprintf("Customer %d", i+1)
		cust.email = fmt.Sprintf("customer%d@example.com", i+1)
		cust.phone = fmt.Sprintf("+86 138 %04d %04d", (i/10000)%10000, i%10000)
		cust.language = "zh"
		if g.chance(0.15) {
			cust.language = "en"
		}
	}
	c.customer, c.customerID = cust, cust.id
	if cust.lastRef != "" && received.Sub(cust.lastAt) < 60*24*time.Hour && g.chance(0.3) {
		// The same customer about the same problem again.
		c.repeatOf, c.category, c.subject, c.product = cust.lastRef, cust.lastCategory, cust.lastSubject, cust.lastProduct
	} else {
		c.category = seedCategories.pick(g.rnd)
		c.product = seedProducts[g.rnd.IntN(len(seedProducts))]
		tmpl := seedSubjects[c.category][g.rnd.IntN(len(seedSubjects[c.category]))]
		c.subject = tmpl
		if strings.Contains(tmpl, "%s") {
			c.subject = fmt.Sprintf(tmpl, c.product)
		}
	}
	cust.lastRef, cust.lastAt, cust.lastCategory, cust.lastSubject, cust.lastProduct =
		c.ref, received, c.category, c.subject, c.product
	c.orderID = fmt.Sprintf("SO-%s-%05d", received.In(g.loc).Format("2006-01"), g.rnd.IntN(100000))
	c.desired = seedDesired[g.rnd.IntN(len(seedDesired))]
	c.description = "Made-up complaint for demonstrations: " + c.subject + "."
	c.severity = seedSeverities.pick(g.rnd)
	c.priority = complaint.Priority(c.severity)
	if c.channel == complaint.ChannelSocial && g.chance(0.5) {
		c.priority = complaint.Raise(c.priority)
	}
	if c.category == complaint.CategoryLegal {
		c.priority = complaint.Raise(c.priority)
	}
	c.departments = complaint.Names(complaint.DefaultRouting.Route(c.category))
	if g.chance(0.05) {
		extra := complaint.Departments[g.rnd.IntN(len(complaint.Departments))]
		if !slices.Contains(c.departments, string(extra)) {
			c.departments = append(c.departments, string(extra))
		}
	}
	c.owner = complaint.DefaultOwner
	if c.channel != complaint.ChannelWeb && c.channel != complaint.ChannelPartner || g.chance(0.3) {
		c.receivedBy = fmt.Sprintf("agent.%03d", g.rnd.IntN(200))
		c.owner = c.receivedBy
	}
	g.lifecycle(c)
	return c
}

// lifecycle plays the case from intake to its survey, and keeps what
// happened before now.
func (g *seeder) lifecycle(c *seedCase) {
	now := g.now
	b, resDays := seedBudgets(c.priority)
	r := c.received
	status := complaint.StatusReceived
	// Withdrawn by the customer now and then, part way: nothing happens after.
	ack := r.Add(g.lognormal(20*time.Second, 1.2)) // at once, nearly always
	if g.chance(0.02) {
		ack = r.Add(10*time.Minute + time.Duration(g.rnd.Int64N(int64(2*time.Hour))))
	}
	cut, withdrawn := now, false
	if g.chance(0.03) {
		if w := ack.Add(g.lognormal(36*time.Hour, 0.8)); !w.After(now) {
			cut, withdrawn = w, true
		}
	}
	happened := func(t time.Time) bool { return !t.After(cut) }
	event := func(t time.Time, actor, step, summary string) {
		if happened(t) {
			c.events = append(c.events, seedEvent{t, actor, step, summary})
			c.updated = t
		}
	}
	type clock struct {
		name, dept string
		start, due time.Time
		metAt      time.Time // zero: never met
	}
	var clocks []*clock
	startClock := func(name, dept string, start, due time.Time) *clock {
		k := &clock{name: name, dept: dept, start: start, due: due}
		clocks = append(clocks, k)
		return k
	}
	event(r, c.owner, "received", fmt.Sprintf("Received by %s via %s; %s, priority %s", c.owner, c.channel, c.category, c.priority))
	c.updated = r

	ackClock := startClock(complaint.ClockAcknowledge, "", r, r.Add(b.ack))
	frClock := startClock(complaint.ClockFirstResponse, "", r, r.Add(b.firstResponse))
	resClock := startClock(complaint.ClockResolution, "", r, addWorkingDays(r, resDays, g.loc))
	slowDept := g.chance(0.12) // a department that is short of staff this time
	var lastFinding time.Time
	var starts, findings []time.Time
	for i, d := range c.departments {
		k := startClock(complaint.ClockStart, d, r, r.Add(b.start))
		share := 0.3 // of the department's time to start
		if i == 0 {
			share = 0.08 // the lead department picks up its cases first
		}
		delay := g.lognormal(time.Duration(float64(b.start)*share), 0.8)
		if slowDept {
			delay = time.Duration(float64(delay) * 2.5)
		}
		st := ack.Add(delay)
		k.metAt = st
		starts = append(starts, st)
		f := st.Add(g.lognormal(16*time.Hour, 0.7))
		findings = append(findings, f)
		lastFinding = later(lastFinding, f)
	}
	firstStart := slices.MinFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	ackClock.metAt = ack
	if happened(ack) {
		c.ackAt = &ack
		status = complaint.StatusAcknowledged
	}
	event(ack, "system", "acknowledged", "Acknowledgement sent to the customer")
	for i, d := range c.departments {
		event(starts[i], d+".lead", "investigation_started", d+" started investigating")
		if happened(starts[i]) {
			status = complaint.StatusInvestigating
		}
	}
	cause := g.rootCause(c.category)
	for i, d := range c.departments {
		event(findings[i], d+".lead", "findings_submitted", d+" reported its findings")
		if happened(findings[i]) {
			named := cause
			if i > 0 && g.chance(0.3) { // another department sees another cause
				named = g.rootCause(c.category)
			}
			c.findings = append(c.findings, seedFinding{dept: d, cause: named, at: findings[i]})
		}
	}

	end := time.Time{} // when the handling ended
	var firstProposal time.Time
	outcome := ""
	var closeAt time.Time
	if withdrawn {
		event(cut, "customer", "withdrawn", "The customer withdrew the complaint")
		status, end = complaint.StatusWithdrawn, cut
		frClock.metAt = firstStart
	} else {
		switch {
		case g.chance(0.18): // no fault found: closed without a proposal
			closeAt = lastFinding.Add(g.lognormal(4*time.Hour, 0.8))
			outcome = "rejected"
			firstProposal = closeAt
		default:
			t := lastFinding.Add(g.lognormal(6*time.Hour, 0.8))
			firstProposal = t
			for attempt := 1; ; attempt++ {
				if !happened(t) {
					break
				}
				res := g.resolution(c, t)
				answer := t.Add(g.lognormal(20*time.Hour, 0.8))
				accepted := g.chance(0.8) || attempt >= 3
				status = complaint.StatusResolutionProposed
				event(t, c.owner, "resolution_proposed", fmt.Sprintf("Proposal %d: %s", attempt, res.kind))
				if !happened(answer) {
					c.resolutions = append(c.resolutions, res)
					break
				}
				res.accepted, res.answeredAt = &accepted, &answer
				event(answer, "customer", "customer_response", map[bool]string{true: "Accepted", false: "Rejected"}[accepted])
				if !accepted {
					status = complaint.StatusInvestigating
					if attempt == 2 && g.chance(0.4) { // no agreement: the dispute path
						d := answer.Add(g.lognormal(4*time.Hour, 0.5))
						if happened(d) {
							c.dispute, status = "negotiation", complaint.StatusInDispute
							event(d, c.owner, "dispute_escalated", "Escalated to negotiation")
						}
						if g.chance(0.3) {
							m := d.Add(g.lognormal(5*24*time.Hour, 0.5))
							if happened(m) {
								c.dispute = "mediation"
								event(m, c.owner, "dispute_escalated", "Escalated to mediation")
							}
							d = m
						}
						answer = d.Add(g.lognormal(6*24*time.Hour, 0.6))
					}
					c.resolutions = append(c.resolutions, res)
					t = answer.Add(g.lognormal(20*time.Hour, 0.7))
					continue
				}
				status = complaint.StatusResolving
				exec := answer.Add(g.lognormal(30*time.Hour, 0.7))
				if happened(exec) {
					res.executedAt = &exec
					event(exec, "system", "resolution_executed", "The accepted resolution was carried out")
				}
				c.resolutions = append(c.resolutions, res)
				closeAt = exec.Add(g.lognormal(3*time.Hour, 0.8))
				outcome = "upheld"
				if attempt > 1 || g.chance(0.3) {
					outcome = "partially_upheld"
				}
				break
			}
		}
		frClock.metAt = earliest(firstStart, firstProposal)
		resClock.metAt = firstProposal
		if !closeAt.IsZero() && happened(closeAt) {
			status, end = complaint.StatusClosed, closeAt
			c.closedAt, c.outcome = &closeAt, outcome
			c.closeSummary = "Closed " + outcome
			event(closeAt, c.owner, "closed", "Closed: "+outcome)
			g.followUp(c, closeAt, &status, event)
		}
	}

	// The clocks: met, breached and escalated as the times fell.
	for _, k := range clocks {
		stop := now
		if !k.metAt.IsZero() && k.metAt.Before(stop) {
			stop = k.metAt
		}
		if !end.IsZero() && end.Before(stop) {
			stop = end // the case ended before the clock's task was done
		}
		c.slaEvent(k.name, k.dept, "started", 0, k.due, k.start)
		warn := k.start.Add(time.Duration(float64(k.due.Sub(k.start)) * 0.75))
		if warn.Before(stop) {
			c.slaEvent(k.name, k.dept, "warned", 0, k.due, warn)
		}
		level := 0
		if k.due.Before(stop) {
			c.breached = true
			c.slaEvent(k.name, k.dept, "breached", 0, k.due, k.due)
			for at := k.due; at.Before(stop) && level < 3; at = at.Add(4 * time.Hour) {
				level++
				c.slaEvent(k.name, k.dept, "escalated", level, k.due, at)
			}
			c.escalation = max(c.escalation, level)
		}
		switch {
		case !k.metAt.IsZero() && stop.Equal(k.metAt) && happened(k.metAt):
			c.slaEvent(k.name, k.dept, "met", level, k.due, k.metAt)
		case stop.Before(now):
			c.slaEvent(k.name, k.dept, "stopped", level, k.due, stop)
		}
	}
	c.status = status
}

func (g *seeder) resolution(c *seedCase, at time.Time) seedResolution {
	res := seedResolution{proposedAt: at, message: "We are sorry for the trouble; here is what we propose."}
	switch x := g.rnd.IntN(100); {
	case x < 35:
		res.kind = "refund"
		res.cents = int64(g.lognormal(300*time.Second, 0.9)/time.Second) * 100
	case x < 55:
		res.kind = "voucher"
		res.cents = int64(50+g.rnd.IntN(10)*25) * 100
	case x < 70:
		res.kind = "replacement"
	case x < 82:
		res.kind = "repair"
	default:
		res.kind = "apology"
	}
	if res.cents > 0 {
		res.currency = "CNY"
		if g.chance(0.06) {
			res.currency, res.cents = "USD", res.cents/7
		}
	}
	res.actions = []string{"Apologise to the customer", "Brief the team on the case"}
	if c.category == complaint.CategoryProductQuality {
		res.actions = append(res.actions, "Report the defect to quality control")
	}
	return res
}

// followUp sends the survey two weeks after closing; about half the
// customers answer, the others let it expire.
func (g *seeder) followUp(c *seedCase, closed time.Time, status *complaint.Status, event func(time.Time, string, string, string)) {
	sent := closed.Add(14 * 24 * time.Hour)
	if sent.After(g.now) {
		return
	}
	sv := &seedSurvey{sentAt: sent}
	c.survey = sv
	*status = complaint.StatusSurveyPending
	event(sent, "system", "survey_sent", "Satisfaction survey sent")
	remind := sent.Add(3 * 24 * time.Hour)
	if g.chance(0.55) {
		answered := sent.Add(min(g.lognormal(20*time.Hour, 1.1), 7*24*time.Hour-time.Minute))
		if answered.After(remind) && !remind.After(g.now) {
			sv.remindedAt = &remind
		}
		if !answered.After(g.now) {
			weights := seedScores[c.outcome]
			if c.dispute != "" {
				weights = seedScores["rejected"]
			}
			sv.score = 1 + pickInt(g.rnd, weights)
			sv.answeredAt = &answered
			*status = complaint.StatusCompleted
			event(answered, "customer", "survey_answered", fmt.Sprintf("Satisfaction %d of 5", sv.score))
			if sv.score <= complaint.DefaultPolicy().FollowUpScore { // an unhappy customer is followed up
				f := &seedFollowUp{opened: answered, due: addWorkingDays(answered, 2, g.loc)}
				if done := answered.Add(g.lognormal(20*time.Hour, 0.9)); g.chance(0.85) && !done.After(g.now) {
					f.done = &done
					event(done, c.owner, "follow_up_done", "Called the customer back")
				}
				c.followUp = f
			}
		}
		return
	}
	if !remind.After(g.now) {
		sv.remindedAt = &remind
	}
	if expiry := sent.Add(7 * 24 * time.Hour); !expiry.After(g.now) {
		sv.expired = true
		*status = complaint.StatusCompleted
		event(expiry, "system", "survey_expired", "The survey expired unanswered")
	}
}

func (c *seedCase) slaEvent(clock, dept, event string, level int, due, at time.Time) {
	c.sla = append(c.sla, complaint.SLAEvent{Clock: clock, Department: complaint.Department(dept), Round: 1, Event: event,
		Level: level, DueAt: due, At: at})
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if b.IsZero() || (!a.IsZero() && a.Before(b)) {
		return a
	}
	return b
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func (c *seedCase) appendTo(r *seedRows) {
	r.refs = append(r.refs, c.ref)
	slices.SortStableFunc(c.events, func(a, b seedEvent) int { return a.at.Compare(b.at) })
	var outcome, followUpDue any
	if c.outcome != "" {
		outcome = c.outcome
	}
	if f := c.followUp; f != nil && f.done == nil {
		followUpDue = f.due
	}
	r.cases = append(r.cases, []any{c.ref, complaint.WorkflowID(c.ref), string(c.channel), string(c.category), false,
		string(c.severity), string(c.priority), string(c.status), c.owner, c.departments, c.subject, c.orderID,
		c.product, c.desired, orNil(c.receivedBy), c.received, timeOrNil(c.ackAt), timeOrNil(c.closedAt), outcome,
		int32(c.escalation), c.breached, c.updated, orNil(c.dispute), int32(1), orNil(c.closeSummary),
		int32(len(c.events)), orNil(c.repeatOf), c.repeatOf != "", followUpDue})
	cu := c.customer
	r.contacts = append(r.contacts, []any{c.ref, c.customerID, cu.name, cu.email, cu.phone, cu.language,
		c.description, nil})
	for i, e := range c.events {
		r.events = append(r.events, []any{c.ref, fmt.Sprintf("%04d-%s", i+1, e.step), e.at, e.at, e.actor, e.step, e.summary})
	}
	for i, res := range c.resolutions {
		var amount any
		if res.cents > 0 {
			amount = pgtype.Numeric{Int: big.NewInt(res.cents), Exp: -2, Valid: true}
		}
		var accepted any
		if res.accepted != nil {
			accepted = *res.accepted
		}
		r.resolutions = append(r.resolutions, []any{c.ref, int32(i + 1), res.actions, res.kind, amount,
			orNil(res.currency), res.message, c.owner, res.proposedAt, accepted, timeOrNil(res.answeredAt),
			timeOrNil(res.executedAt)})
	}
	for _, f := range c.findings {
		r.findings = append(r.findings, []any{c.ref, int32(1), f.dept, f.dept + ".lead", "Investigated", f.cause, f.at})
	}
	if f := c.followUp; f != nil {
		var by, summary any
		if f.done != nil {
			by, summary = c.owner, "Called the customer back"
		}
		r.followUps = append(r.followUps, []any{c.ref, int32(1), int32(c.survey.score), c.owner, f.opened, f.due,
			timeOrNil(f.done), by, summary})
	}
	if sv := c.survey; sv != nil {
		var score any
		if sv.score > 0 {
			score = int32(sv.score)
		}
		r.surveys = append(r.surveys, []any{c.ref, int32(1), sv.sentAt, timeOrNil(sv.remindedAt), score, nil,
			timeOrNil(sv.answeredAt), sv.expired, false})
	}
	for _, e := range c.sla {
		r.slaRows = append(r.slaRows, []any{c.ref, e.Key(), e.Clock, orNil(string(e.Department)), int32(e.Round),
			e.Event, int32(e.Level), e.DueAt, e.At, false})
	}
}
