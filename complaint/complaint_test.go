package complaint

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

var shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func validIntake() Intake {
	return Intake{
		Channel:     ChannelWeb,
		Customer:    Customer{Name: "Zhao Lei", Email: "zhao.lei@example.com"},
		Subject:     "Parcel arrived damaged",
		Description: "The box was crushed and two cups are broken.",
	}
}

func TestReferenceShapeAndDay(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	// 17:30 UTC on the 22nd is already the 23rd in Shanghai.
	now := time.Date(2026, 11, 22, 17, 30, 0, 0, time.UTC)
	seen := map[string]bool{}
	for range 1000 {
		ref := NewReference(now, shanghai, rnd)
		if !ValidReference(ref) {
			t.Fatalf("reference %q does not match the pattern", ref)
		}
		if !strings.HasPrefix(ref, "CMP-20261123-") {
			t.Fatalf("reference %q should carry the Shanghai day", ref)
		}
		if strings.ContainsAny(ref[13:], "01OILU") {
			t.Fatalf("reference %q uses an ambiguous character", ref)
		}
		seen[ref] = true
	}
	if len(seen) < 990 {
		t.Fatalf("only %d distinct references in 1000 draws", len(seen))
	}
}

func TestKeyedReferenceIsStablePerKeyDayAndProbe(t *testing.T) {
	day := time.Date(2026, 11, 23, 9, 0, 0, 0, shanghai)
	a := KeyedReference("idempotency:abc", day, shanghai, 0)
	if a != KeyedReference("idempotency:abc", day.Add(3*time.Hour), shanghai, 0) {
		t.Fatal("same key, same day: the reference must not change")
	}
	if !ValidReference(a) {
		t.Fatalf("keyed reference %q does not match the pattern", a)
	}
	for _, other := range []string{
		KeyedReference("idempotency:abd", day, shanghai, 0),
		KeyedReference("idempotency:abc", day, shanghai, 1),
		KeyedReference("idempotency:abc", day.AddDate(0, 0, 1), shanghai, 0),
	} {
		if other == a {
			t.Fatalf("another key, probe or day gave the same reference %s", a)
		}
	}
}

func TestValidReferenceRejects(t *testing.T) {
	for _, s := range []string{"", "CMP-20261123-4F7K2", "CMP-20261123-4F7K2O", "cmp-20261123-4F7K2Q", "CMP-2026112-4F7K2Q", "CMP-20261123-4F7K2Q/x"} {
		if ValidReference(s) {
			t.Errorf("ValidReference(%q) = true", s)
		}
	}
}

func TestValidateNamesEachBadField(t *testing.T) {
	cases := map[string]struct {
		mutate func(*Intake)
		field  string
	}{
		"bad channel":        {func(in *Intake) { in.Channel = "fax" }, "channel"},
		"missing name":       {func(in *Intake) { in.Customer.Name = " " }, "customer.name"},
		"no way to reach":    {func(in *Intake) { in.Customer.Email = "" }, "customer"},
		"bad email":          {func(in *Intake) { in.Customer.Email = "not-an-address" }, "customer.email"},
		"bad category":       {func(in *Intake) { in.Category = "weather" }, "category"},
		"bad severity":       {func(in *Intake) { in.Severity = "apocalyptic" }, "severity"},
		"long subject":       {func(in *Intake) { in.Subject = strings.Repeat("很", 201) }, "subject"},
		"missing desc":       {func(in *Intake) { in.Description = "" }, "description"},
		"bad outcome":        {func(in *Intake) { in.DesiredOutcome = "revenge" }, "desiredOutcome"},
		"bad language":       {func(in *Intake) { in.Customer.Language = "fr" }, "customer.language"},
		"long received by":   {func(in *Intake) { in.ReceivedBy = strings.Repeat("a", 129) }, "receivedBy"},
		"long external id":   {func(in *Intake) { in.ExternalID = strings.Repeat("a", 129) }, "externalId"},
		"long already tried": {func(in *Intake) { in.AlreadyTried = strings.Repeat("a", 2001) }, "alreadyTried"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := validIntake()
			tc.mutate(&in)
			errs, ok := AsValidationErrors(in.Validate())
			if !ok {
				t.Fatalf("want validation errors, got %v", in.Validate())
			}
			if len(errs) != 1 || errs[0].Field != tc.field {
				t.Fatalf("want one error on %s, got %v", tc.field, errs)
			}
		})
	}
	if err := validIntake().Validate(); err != nil {
		t.Fatalf("valid intake rejected: %v", err)
	}
}

func TestTheSixDemoCasesAreValidAndClassified(t *testing.T) {
	data, err := os.ReadFile("../demo/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var intakes []Intake
	if err := json.Unmarshal(data, &intakes); err != nil {
		t.Fatal(err)
	}
	want := []Category{CategoryProductQuality, CategoryProductQuality, CategoryProductQuality, CategoryAfterSales,
		CategoryLogistics, CategoryInformation}
	if len(intakes) != len(want) {
		t.Fatalf("want %d demo cases, got %d", len(want), len(intakes))
	}
	for i, in := range intakes {
		if err := in.Validate(); err != nil {
			t.Errorf("demo case %d: %v", i+1, err)
		}
		c := Register(in, "CMP-20261123-4F7K2Q", time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), DefaultRulesFrom(2025))
		if c.Category != want[i] {
			t.Errorf("demo case %d (%s): category %s, want %s", i+1, in.Subject, c.Category, want[i])
		}
	}
}

func TestPriorityRisesWithUrgencyAndScope(t *testing.T) {
	tests := []struct {
		sev  Severity
		ch   Channel
		cat  Category
		want Priority
	}{
		{SeverityLow, ChannelWeb, CategoryLogistics, PriorityLow},
		{SeverityMedium, ChannelSocial, CategoryOther, PriorityHigh},
		{SeverityMedium, ChannelSocial, CategoryLegal, PriorityCritical},
		{SeverityCritical, ChannelSocial, CategoryLegal, PriorityCritical},
		{"", ChannelPhone, CategoryBilling, PriorityMedium},
	}
	for _, tt := range tests {
		if got := PriorityFor(tt.sev, tt.ch, tt.cat, nil); got != tt.want {
			t.Errorf("PriorityFor(%s, %s, %s) = %s, want %s", tt.sev, tt.ch, tt.cat, got, tt.want)
		}
	}
}

func TestRegisterFillsOwnerAndRoute(t *testing.T) {
	c := Register(validIntake(), "CMP-20261123-4F7K2Q", time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), DefaultRulesFrom(2025))
	if c.Owner != DefaultOwner {
		t.Errorf("owner %q, want the desk when nobody received it", c.Owner)
	}
	if len(c.Departments) == 0 {
		t.Error("a case must be routed somewhere")
	}
	if c.Intake.Severity != SeverityMedium || c.Intake.Customer.Language != "zh" {
		t.Errorf("defaults not applied: %+v", c.Intake)
	}
	in := validIntake()
	in.ReceivedBy = "agent.li"
	in.Category = CategoryBilling
	c = Register(in, "CMP-20261123-4F7K2Q", time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), DefaultRulesFrom(2025))
	if c.Owner != "agent.li" || c.Classified || c.Departments[0] != DeptBilling {
		t.Errorf("first-contact owner or given category lost: %+v", c)
	}
}

func TestDecodeTaskIsStrict(t *testing.T) {
	if _, err := DecodeTask[AddNote]([]byte(`{"author":"a","text":"t"}`)); err != nil {
		t.Fatalf("valid note rejected: %v", err)
	}
	for _, raw := range []string{
		`{"author":"a","text":"t","extra":1}`,
		`{"author":"a"}`,
		`{"author":"a","text":5}`,
		`{"author":"a","text":"t"} {}`,
		`not json`,
		``,
	} {
		if _, err := DecodeTask[AddNote]([]byte(raw)); err == nil {
			t.Errorf("DecodeTask(%q) accepted", raw)
		}
	}
}

func BenchmarkValidateIntake(b *testing.B) {
	in := validIntake()
	in.Customer.Phone = "+86 138 0000 1701"
	for b.Loop() {
		if err := in.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTask(b *testing.B) {
	raw := []byte(`{"department":"after_sales","findings":"Bearing worn","rootCause":"Bearing","evidence":["visit-1","photo-2"]}`)
	for b.Loop() {
		if _, err := DecodeTask[SubmitFindings](raw); err != nil {
			b.Fatal(err)
		}
	}
}

// First-contact ownership (DOMAIN §2, seed 003).
func TestFirstContactOwnsTheCaseTheyEnter(t *testing.T) {
	register := func(receivedBy string) NewCase {
		in := Intake{Channel: ChannelPhone, Customer: Customer{Name: "Zhao Lei", Phone: "+8613800000000"},
			Subject: "Washing machine noise", Description: "Loud when spinning.", ReceivedBy: receivedBy}
		return Register(in, "CMP-20261123-4F7K2Q", time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), DefaultRulesFrom(2025))
	}
	// The agent who takes the call and enters it without receivedBy owns it.
	c := register("")
	c.EnteredBy("agent.li")
	if c.Owner != "agent.li" || c.Intake.ReceivedBy != "agent.li" || c.Handover != nil {
		t.Fatalf("entered by agent.li: owner %q, receivedBy %q, handover %+v", c.Owner, c.Intake.ReceivedBy, c.Handover)
	}
	// Entering a complaint a colleague took hands it to them, on record.
	c = register("agent.wu")
	c.EnteredBy("agent.li")
	if c.Owner != "agent.li" || c.Handover == nil || c.Handover.Owner != "agent.wu" || c.Handover.Actor != "agent.li" ||
		c.Handover.Validate() != nil {
		t.Fatalf("entered for agent.wu: owner %q, handover %+v", c.Owner, c.Handover)
	}
	// Naming oneself: no handover; a system's agent: the desk owns it until a person takes it.
	c = register("agent.li")
	c.EnteredBy("agent.li")
	if c.Owner != "agent.li" || c.Handover != nil {
		t.Fatalf("naming oneself: owner %q, handover %+v", c.Owner, c.Handover)
	}
	c = register(SystemAgent("crm", "agent.7"))
	c.EnteredBy("")
	if c.Owner != DefaultOwner || c.Handover != nil {
		t.Fatalf("a system's agent: owner %q, handover %+v", c.Owner, c.Handover)
	}
}

// System names key idempotency scopes and webhook subscriptions: a name
// with ':' or '@' could pass for another caller's scope.
func TestSystemNamesAreChecked(t *testing.T) {
	for name, want := range map[string]bool{"shop": true, "dev-shop_2": true, "": false, "shop:eu": false,
		"@staff": false, "Shop": false, strings.Repeat("a", 65): false} {
		if got := ValidSystemName(name); got != want {
			t.Errorf("ValidSystemName(%q) = %v, want %v", name, got, want)
		}
	}
	if !IsSystemAgent(SystemAgent("shop", "agent.li")) || IsSystemAgent("agent.li") {
		t.Fatal("a system's agent must be told from our staff")
	}
}
