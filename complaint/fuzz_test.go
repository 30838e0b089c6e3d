package complaint

import (
	"encoding/json"
	"testing"
)

// Every task payload decoder: no input may panic, and whatever decodes
// without error must satisfy the task's own rules.
func FuzzDecodeTasks(f *testing.F) {
	for _, seed := range []string{
		`{"department":"after_sales","investigator":"x"}`,
		`{"department":"after_sales","findings":"f","rootCause":"r","evidence":["e"]}`,
		`{"actions":["a"],"compensation":{"kind":"voucher","amount":"200","currency":"CNY"},"message":"m"}`,
		`{"accepted":true,"comment":"ok"}`,
		`{"stage":"mediation","note":"n"}`,
		`{"outcome":"upheld","summary":"s"}`,
		`{"score":5}`,
		`{"owner":"a","reason":"r"}`,
		`{"departments":["legal","legal"],"reason":"r"}`,
		`{"reason":"r","extra":1}`,
		`{"author":"a","text":"t"} {}`,
		`[]`, `null`, `"x"`, `{"score":1e400}`, "\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		check[Assign](t, raw)
		check[Route](t, raw)
		check[StartInvestigation](t, raw)
		check[SubmitFindings](t, raw)
		check[ProposeResolution](t, raw)
		check[CustomerResponse](t, raw)
		check[EscalateDispute](t, raw)
		check[Close](t, raw)
		check[Reason](t, raw)
		check[SurveyResponse](t, raw)
		check[AddNote](t, raw)
		check[ApplyPolicy](t, raw)
	})
}

func check[T Task](t *testing.T, raw []byte) {
	v, err := DecodeTask[T](raw)
	if err == nil {
		if verr := v.Validate(); verr != nil {
			t.Fatalf("%T decoded but invalid: %v", v, verr)
		}
	}
}

// The intake validator never panics and reports every problem as a field
// error.
func FuzzIntakeValidate(f *testing.F) {
	f.Add(`{"channel":"web","customer":{"name":"Zhao","email":"z@example.com"},"subject":"s","description":"d"}`)
	f.Add(`{"channel":"fax","customer":{"name":"","email":"bad"},"subject":"","description":""}`)
	f.Add(`{"channel":"web","customer":{"name":"a","phone":"+86 138"},"subject":"很","description":"很","severity":"critical"}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var in Intake
		if json.Unmarshal([]byte(raw), &in) != nil {
			return
		}
		err := in.Validate()
		if err == nil {
			return
		}
		if _, ok := AsValidationErrors(err); !ok {
			t.Fatalf("validation error of the wrong kind: %v", err)
		}
	})
}
