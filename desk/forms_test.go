package desk

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A payload schema as the API's OpenAPI document gives it (written here):
// a list of strings, a nested object with an enumeration, a required
// string, a boolean, a number, and the actor the API fills in.
const proposalSchema = `{"type":"object","additionalProperties":false,"required":["actions","compensation","message"],
 "properties":{
  "actions":{"type":["array","null"],"items":{"type":"string"},"minItems":1},
  "compensation":{"type":"object","required":["kind"],"properties":{
    "kind":{"type":"string","enum":["none","refund","voucher"]},
    "amount":{"type":"string","pattern":"^[0-9]+$"},
    "currency":{"type":"string","maxLength":3}}},
  "message":{"type":"string","minLength":1,"maxLength":4000},
  "urgent":{"type":"boolean"},
  "score":{"type":"integer","minimum":1,"maximum":5},
  "actor":{"type":"string"}}}`

func TestFormsFromSchemas(t *testing.T) {
	var s schema
	if err := json.Unmarshal([]byte(proposalSchema), &s); err != nil {
		t.Fatal(err)
	}
	fields := fieldsOf(&s, "", nil)
	var names, kinds []string
	for _, f := range fields {
		names, kinds = append(names, f.Name), append(kinds, f.Kind)
	}
	// In the document's order; the actor is the API's to fill.
	if want := []string{"actions", "compensation", "message", "urgent", "score"}; !reflect.DeepEqual(names, want) {
		t.Errorf("fields %v, want %v", names, want)
	}
	if want := []string{"lines", "group", "textarea", "bool", "number"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
	comp := fields[1].Fields
	if len(comp) != 3 || comp[0].Name != "compensation.kind" || comp[0].Kind != "select" ||
		!reflect.DeepEqual(comp[0].Options, []string{"none", "refund", "voucher"}) || !comp[0].Required || comp[2].Kind != "text" {
		t.Errorf("compensation's fields: %+v", comp)
	}

	form := map[string][]string{"actions": {"Replace the cups\n\n  Check the hub  "}, "compensation.kind": {"voucher"},
		"compensation.amount": {"200"}, "compensation.currency": {""}, "message": {""}, "urgent": {"true"}, "score": {"4"},
		"actor": {"someone.else"}}
	got, _ := json.Marshal(payloadOf(&s, form, ""))
	want := `{"actions":["Replace the cups","Check the hub"],"compensation":{"amount":"200","kind":"voucher"},"message":"","score":4,"urgent":true}`
	if string(got) != want {
		t.Errorf("payload %s\nwant    %s", got, want)
	}

	// The API's errors go beside their fields; the rest stays for the form.
	errs := map[string]string{"compensation.amount": "expected a number", "message": "expected length >= 1", "body": "other"}
	fill(fields, form, errs)
	if fields[2].Error != "expected length >= 1" || fields[1].Fields[1].Error != "expected a number" || fields[1].Fields[1].Value != "200" {
		t.Errorf("errors not beside their fields: %+v", fields)
	}
	if len(errs) != 1 || errs["body"] != "other" {
		t.Errorf("left for the form: %v", errs)
	}
}
