package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
	"github.com/complaintdesk/complaintdesk/store"
)

// The seeds' follow-ups through the real server and the real mailbox, in
// both languages: the customer hears of the routing, of what information
// is needed, of the proposal only once a supervisor approved its
// compensation (above 500 CNY), and is asked to confirm the fix; a score of
// 1 has the owner told to follow up and the supervisor told of it. Staff
// mail goes to <rung>@staff.example.com (the harness's STAFF_MAIL_DOMAIN).
func TestTheFollowUpsReachPeopleByMail(t *testing.T) {
	base := liveAPI(t, surveyPolicy)
	approver, err := auth.MintHS256(devenv.DevTokenConfig(sys.Secrets.TokenSecret), "sup.approver", auth.RoleSupervisor, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang                                               string
		routed, needed, proposal, confirm, closing, survey string
		productTeam                                        string
	}{
		{"en", "passed to the right team", "We need some information", "Our proposal", "Is the problem solved?",
			"Your complaint has been resolved", "How did we handle", "the product team"},
		{"zh", "已转交负责部门", "请您补充信息", "处理方案", "问题是否已解决", "已处理完毕", "请评价", "产品部"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			id := fmt.Sprintf("followups-%s-%d", tc.lang, time.Now().UnixNano())
			email := id + "@example.com"
			body := demoCase(t, "demo-smartwatch-doa")
			body["customer"] = map[string]any{"id": id, "name": "Liu Yang", "email": email, "language": tc.lang}
			ref := submitDemoBody(t, base, "demo-smartwatch-doa", body, id)
			owner := "agent.song." + tc.lang
			task(t, base, ref, "assign", map[string]any{"owner": owner, "reason": "Takes the case"}, http.StatusOK)
			task(t, base, ref, "route", map[string]any{"departments": []string{"product", "technical", "logistics"},
				"reason": "The box was crushed too"}, http.StatusOK)
			task(t, base, ref, "waitingOnCustomer", map[string]any{"reason": "A photo of the watch's serial number"}, http.StatusOK)
			task(t, base, ref, "customerReplied", map[string]any{"reason": "Photo received"}, http.StatusOK)
			for _, d := range []string{"product", "technical", "logistics"} {
				task(t, base, ref, "startInvestigation", map[string]any{"department": d, "investigator": d + ".lead"}, http.StatusOK)
				task(t, base, ref, "submitFindings", map[string]any{"department": d, "findings": "Confirmed",
					"rootCause": "Supplier QA gap", "evidence": []string{"QA-7781"}}, http.StatusOK)
			}
			proposal := map[string]any{"actions": []string{"Replace the watch"},
				"compensation": map[string]any{"kind": "refund", "amount": "800", "currency": "CNY"},
				"message":      "We refund the watch in full and replace it."}
			held := task(t, base, ref, "proposeResolution", proposal, http.StatusOK)
			if held.body["status"] != string(complaint.StatusInvestigating) {
				t.Fatalf("a proposal above the limit reached the customer: %v", held.body["status"])
			}
			task(t, base, ref, "customerResponse", map[string]any{"accepted": true}, http.StatusConflict)
			supervisorMail := mailbox.To("cs.supervisor@staff.example.com")
			waitForMail(t, supervisorMail, ref, "Approval needed")
			if r := post(t, base, "/v1/complaints/"+ref+"/approveCompensation", map[string]any{"approved": true, "note": "Fair"},
				"Authorization", "Bearer "+approver); r.status != http.StatusOK ||
				r.body["status"] != string(complaint.StatusResolutionProposed) {
				t.Fatalf("approval: %d %v", r.status, r.body)
			}
			task(t, base, ref, "customerResponse", map[string]any{"accepted": true}, http.StatusOK)
			waitForMail(t, mailbox.To(email), ref, tc.confirm)
			task(t, base, ref, "confirmResolved", map[string]any{"resolved": true, "comment": "Works"}, http.StatusOK)
			task(t, base, ref, "close", map[string]any{"outcome": "upheld", "summary": "Refunded and replaced"}, http.StatusOK)
			waitStatus(t, base, ref, complaint.StatusSurveyPending)
			answerSurvey(t, base, ref, 1, "It took far too long")
			waitForMail(t, mailbox.To(owner+"@staff.example.com"), ref, "Follow up an unhappy customer")
			waitForMail(t, supervisorMail, ref, "Low satisfaction score")
			open := caseOf(t, base, ref)["followUp"].(map[string]any)
			if open["owner"] != owner || open["score"] != 1.0 || open["doneAt"] != nil {
				t.Fatalf("follow-up on the case: %v", open)
			}
			task(t, base, ref, "completeFollowUp", map[string]any{"summary": "Called; offered a voucher"}, http.StatusOK)

			// The customer's mail, in order and in their language.
			mails := sys.Mailbox.Messages(mailbox.To(email))
			want := []string{tc.routed, tc.needed, tc.proposal, tc.confirm, tc.closing, tc.survey}
			at := 0
			for _, m := range mails {
				if at < len(want) && strings.Contains(m.Subject, want[at]) {
					at++
				}
			}
			if at != len(want) {
				t.Fatalf("the customer's mail lacks %q in order: %v", want[at], subjects(mails))
			}
			for _, m := range mails {
				switch {
				case strings.Contains(m.Subject, tc.routed) && !strings.Contains(m.Text, tc.productTeam):
					t.Fatalf("the routing does not name the team in %s: %q", tc.lang, m.Text)
				case strings.Contains(m.Subject, tc.needed) && !strings.Contains(m.Text, "A photo of the watch's serial number"):
					t.Fatalf("the request does not say what is needed: %q", m.Text)
				case strings.Contains(m.Subject, tc.proposal) && !strings.Contains(m.Text, "refund the watch in full"):
					t.Fatalf("the proposal is not the approved one: %q", m.Text)
				}
			}

			// The record keeps the approval, the confirmation, the findings and the follow-up.
			ctx := context.Background()
			var approvedBy string
			var confirmed bool
			var findings, followUps int
			err := withConn(t, func(conn *pgx.Conn) error {
				if err := conn.QueryRow(ctx, `SELECT approved_by, confirmed FROM resolutions WHERE reference = $1 AND attempt = 1`,
					ref).Scan(&approvedBy, &confirmed); err != nil {
					return err
				}
				if err := conn.QueryRow(ctx, `SELECT count(*) FROM findings WHERE reference = $1 AND root_cause = 'Supplier QA gap'`,
					ref).Scan(&findings); err != nil {
					return err
				}
				return conn.QueryRow(ctx, `SELECT count(*) FROM follow_ups WHERE reference = $1 AND done_at IS NOT NULL
					AND summary = 'Called; offered a voucher'`, ref).Scan(&followUps)
			})
			if err != nil || approvedBy != "sup.approver" || !confirmed || findings != 3 || followUps != 1 {
				t.Fatalf("record: approved by %q, confirmed %v, %d findings, %d follow-ups done (%v)",
					approvedBy, confirmed, findings, followUps, err)
			}
			if tc.lang == "en" { // approval, confirmation and follow-up for the replay test
				record(t, sys, "smartwatch-followups", ref, "product", "technical", "logistics")
			}
		})
	}
}

// withConn runs fn on a connection of its own to the system's database.
func withConn(t *testing.T, fn func(*pgx.Conn) error) error {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return fn(conn)
}

func waitForMail(t *testing.T, to func(mailbox.Message) bool, ref, subject string) {
	t.Helper()
	Eventually(t, "mail "+subject+" about "+ref, func() error {
		for _, m := range sys.Mailbox.Messages(to) {
			if strings.Contains(m.Subject, ref) && strings.Contains(m.Subject, subject) {
				return nil
			}
		}
		return fmt.Errorf("none yet")
	})
}

// The hot spots and follow-ups of the known cases of 2003: the figures are
// worked out by hand from the findings written below. One vote per case,
// root causes compared without case or surrounding spaces.
func TestHotSpotsAndFollowUpsOfKnownCases(t *testing.T) {
	const year = 2003
	writeKnownCases(t, year)
	ref := func(suffix string) string {
		for _, c := range knownCases {
			if c.suffix == suffix {
				return knownRef(year, c)
			}
		}
		t.Fatalf("no known case %s", suffix)
		return ""
	}
	ctx := context.Background()
	at := time.Date(year, 4, 1, 0, 0, 0, 0, time.UTC)
	err := withConn(t, func(conn *pgx.Conn) error {
		for _, f := range []struct{ suffix, dept, cause string }{
			{"AAAAAA", "logistics", "Carrier handling"},
			{"BBBBBB", "logistics", " carrier HANDLING "},
			{"CCCCCC", "product", "Supplier QA gap"},
			{"CCCCCC", "technical", "supplier qa gap"}, // the same case: one vote
			{"DDDDDD", "product", "Firmware bug"},
			{"DDDDDD", "technical", "Supplier QA gap"},
			{"FFFFFF", "legal", "Consent not recorded"},
		} {
			if _, err := conn.Exec(ctx, `INSERT INTO findings (reference, round, department, investigator, findings, root_cause,
				reported_at) VALUES ($1, 1, $2, 'lead', 'Seen', $3, $4)`, ref(f.suffix), f.dept, f.cause, at); err != nil {
				return err
			}
		}
		for _, f := range []struct {
			suffix string
			done   bool
		}{{"DDDDDD", true}, {"CCCCCC", false}} {
			var doneAt *time.Time
			if f.done {
				doneAt = &at
			}
			if _, err := conn.Exec(ctx, `INSERT INTO follow_ups (reference, round, score, owner, opened_at, due_at, done_at)
				VALUES ($1, 1, 1, 'agent.wu', $2, $3, $4)`, ref(f.suffix), at, at.Add(48*time.Hour), doneAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := summary(t, url.Values{"from": {fmt.Sprint(year, "-01-01")}, "to": {fmt.Sprint(year, "-12-31")}})
	checkFigure(t, "root causes", s.RootCauses, []store.RootCause{
		{Category: "legal", RootCause: "Consent not recorded", Cases: 1},
		{Category: "logistics", RootCause: "Carrier handling", Cases: 2},
		{Category: "product_quality", RootCause: "Supplier QA gap", Cases: 2},
		{Category: "product_quality", RootCause: "Firmware bug", Cases: 1},
	})
	checkFigure(t, "follow-ups", s.FollowUps, store.FollowUps{Opened: 2, Done: 1, Open: 1, Overdue: 1})
	logistics := summary(t, url.Values{"from": {fmt.Sprint(year, "-01-01")}, "to": {fmt.Sprint(year, "-12-31")},
		"category": {"logistics"}})
	checkFigure(t, "root causes of logistics", logistics.RootCauses, []store.RootCause{
		{Category: "logistics", RootCause: "Carrier handling", Cases: 2}})
	checkFigure(t, "follow-ups of logistics", logistics.FollowUps, store.FollowUps{})

	// Each figure's drill-down in the desk lists the cases behind it, worked
	// out by hand from the table of known cases and the findings above.
	for _, c := range []struct {
		what string
		f    store.QueueFilter
		want []string
	}{
		{"root cause carrier handling", store.QueueFilter{RootCause: " CARRIER handling"}, []string{"AAAAAA", "BBBBBB"}},
		{"hot spot of product quality", store.QueueFilter{Category: "product_quality", RootCause: "Supplier QA gap"},
			[]string{"CCCCCC", "DDDDDD"}},
		{"escalated", store.QueueFilter{Escalated: true}, []string{"CCCCCC", "EEEEEE"}},
		{"repeat complaints", store.QueueFilter{Repeat: true}, []string{"FFFFFF", "HHHHHH"}},
		{"resolved", store.QueueFilter{Resolved: true}, []string{"AAAAAA", "BBBBBB", "CCCCCC", "FFFFFF"}},
		{"score 4", store.QueueFilter{Score: 4}, []string{"BBBBBB"}},
		{"score 1", store.QueueFilter{Score: 1}, []string{"DDDDDD"}},
		{"first response breached", store.QueueFilter{Clock: "firstResponse"}, []string{"CCCCCC", "EEEEEE"}},
		{"resolution breached", store.QueueFilter{Clock: "resolution"}, []string{"DDDDDD"}},
		{"escalated in March", store.QueueFilter{Escalated: true, From: fmt.Sprint(year, "-03-01")}, []string{"EEEEEE"}},
	} {
		f := c.f
		f.Queue = store.QueueSearch
		if f.From == "" {
			f.From = fmt.Sprint(year, "-01-01")
		}
		f.To = fmt.Sprint(year, "-12-31")
		items, err := sys.Store.QueueCases(ctx, f)
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		var got, want []string
		for _, it := range items {
			got = append(got, it.Reference)
		}
		for _, suffix := range c.want {
			want = append(want, ref(suffix))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the desk lists %v, want %v", c.what, got, want)
		}
	}

	// exec runs one statement on the known case with this suffix.
	exec := func(sql, suffix string) {
		t.Helper()
		if err := withConn(t, func(conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, sql, ref(suffix))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	// The hot spots follow changes to the findings and to the cases, and a
	// department or a period narrows them, like every other figure.
	exec(`UPDATE findings SET root_cause = 'Firmware bug ' WHERE reference = $1 AND department = 'technical'`, "CCCCCC")
	// AAAAAA's "Carrier handling" was the spelling shown; now BBBBBB's.
	exec(`DELETE FROM findings WHERE reference = $1`, "AAAAAA")
	exec(`UPDATE cases SET category = 'other' WHERE reference = $1`, "FFFFFF")
	period := func(from string, more ...string) url.Values {
		q := url.Values{"from": {fmt.Sprint(year, "-", from)}, "to": {fmt.Sprint(year, "-12-31")}}
		for i := 0; i+1 < len(more); i += 2 {
			q.Set(more[i], more[i+1])
		}
		return q
	}
	for _, c := range []struct {
		what string
		q    url.Values
		want []store.RootCause
	}{
		{"after the changes", period("01-01"), []store.RootCause{
			{Category: "logistics", RootCause: "carrier HANDLING", Cases: 1},
			{Category: "other", RootCause: "Consent not recorded", Cases: 1},
			// A tie: in the order of the causes' names.
			{Category: "product_quality", RootCause: "Firmware bug", Cases: 2},
			{Category: "product_quality", RootCause: "Supplier QA gap", Cases: 2},
		}},
		{"of customer service", period("01-01", "department", "customer_service"), []store.RootCause{
			{Category: "other", RootCause: "Consent not recorded", Cases: 1}}},
		{"of logistics", period("01-01", "department", "logistics"), []store.RootCause{
			{Category: "logistics", RootCause: "carrier HANDLING", Cases: 1}}},
		{"from 16 February (CCCCCC came on the 15th)", period("02-16"), []store.RootCause{
			{Category: "other", RootCause: "Consent not recorded", Cases: 1},
			{Category: "product_quality", RootCause: "Firmware bug", Cases: 1},
			{Category: "product_quality", RootCause: "Supplier QA gap", Cases: 1},
		}},
		{"of billing (none found)", period("01-01", "category", "billing"), []store.RootCause{}},
	} {
		checkFigure(t, "root causes "+c.what, summary(t, c.q).RootCauses, c.want)
	}

	// A follow-up is overdue from the moment it falls due, not from the
	// next day; done, it is neither open nor overdue.
	exec(`INSERT INTO follow_ups (reference, round, score, owner, opened_at, due_at)
		VALUES ($1, 2, 2, 'agent.wu', now() - interval '2 days', now() - interval '1 minute')`, "AAAAAA")
	exec(`INSERT INTO follow_ups (reference, round, score, owner, opened_at, due_at)
		VALUES ($1, 2, 1, 'agent.wu', now(), now() + interval '1 hour')`, "GGGGGG")
	checkFigure(t, "follow-ups, one just due and one not yet", summary(t, period("01-01")).FollowUps,
		store.FollowUps{Opened: 4, Done: 1, Open: 3, Overdue: 2})
	checkFigure(t, "follow-ups of logistics, one just due", summary(t, period("01-01", "category", "logistics")).FollowUps,
		store.FollowUps{Opened: 1, Open: 1, Overdue: 1})
	checkFigure(t, "follow-ups of the logistics department", summary(t, period("01-01", "department", "logistics")).FollowUps,
		store.FollowUps{Opened: 1, Open: 1, Overdue: 1})
	checkFigure(t, "follow-ups of the billing department", summary(t, period("01-01", "department", "billing")).FollowUps,
		store.FollowUps{Opened: 1, Open: 1})
	// AAAAAA came in January: its follow-up just due is not of this period.
	checkFigure(t, "follow-ups from 16 February", summary(t, period("02-16")).FollowUps,
		store.FollowUps{Opened: 2, Done: 1, Open: 1})
	exec(`UPDATE follow_ups SET done_at = now(), done_by = 'agent.wu' WHERE reference = $1 AND round = 2`, "AAAAAA")
	checkFigure(t, "follow-ups, the one just due done", summary(t, period("01-01")).FollowUps,
		store.FollowUps{Opened: 4, Done: 2, Open: 2, Overdue: 1})
	exec(`DELETE FROM follow_ups WHERE reference = $1`, "GGGGGG")
	checkFigure(t, "follow-ups, one taken away", summary(t, period("01-01")).FollowUps,
		store.FollowUps{Opened: 3, Done: 2, Open: 1, Overdue: 1})
}
