package desk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// schema is the part of a JSON schema the forms use; properties keep the
// order the API's document gives them (the payload struct's field order).
type schema struct {
	Type        any          `json:"type"`
	Description string       `json:"description"`
	Enum        []any        `json:"enum"`
	Items       *schema      `json:"items"`
	Required    []string     `json:"required"`
	Properties  orderedProps `json:"properties"`
	Pattern     string       `json:"pattern"`
	Format      string       `json:"format"`
	MaxLength   *int         `json:"maxLength"`
	Minimum     *float64     `json:"minimum"`
	Maximum     *float64     `json:"maximum"`
	ReadOnly    bool         `json:"readOnly"`
}

type orderedProps struct {
	names  []string
	byName map[string]*schema
}

func (o *orderedProps) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("properties: not an object")
	}
	o.byName = map[string]*schema{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var s schema
		if err := dec.Decode(&s); err != nil {
			return err
		}
		o.names = append(o.names, name)
		o.byName[name] = &s
	}
	return nil
}

// typ is the schema's type, the first that is not null.
func (s *schema) typ() string {
	switch t := s.Type.(type) {
	case string:
		return t
	case []any:
		for _, e := range t {
			if v, ok := e.(string); ok && v != "null" {
				return v
			}
		}
	}
	if len(s.Properties.names) > 0 {
		return "object"
	}
	return "string"
}

// field is one input of a task form.
type field struct {
	Name     string // dotted path into the payload: compensation.amount
	Label    string
	Kind     string // text, textarea, select, bool, number, lines, group
	Options  []string
	Required bool
	Help     string
	Pattern  string
	Value    string
	Error    string
	Fields   []field // a group's fields
}

// filledByAPI are payload fields the API sets from the signed-in person.
var filledByAPI = []string{"actor", "author", "$schema"}

// fieldsOf lays a schema's properties out as form fields.
func fieldsOf(s *schema, prefix string, choices map[string][]string) []field {
	var out []field
	for _, name := range s.Properties.names {
		p := s.Properties.byName[name]
		if slices.Contains(filledByAPI, name) || p.ReadOnly {
			continue
		}
		f := field{Name: prefix + name, Label: name, Required: slices.Contains(s.Required, name), Help: p.Description,
			Pattern: p.Pattern}
		switch t := p.typ(); {
		case len(p.Enum) > 0:
			f.Kind = "select"
			for _, e := range p.Enum {
				f.Options = append(f.Options, fmt.Sprint(e))
			}
		case choices[name] != nil && t == "string":
			f.Kind, f.Options = "select", choices[name]
		case t == "boolean":
			f.Kind = "bool"
		case t == "integer" || t == "number":
			f.Kind = "number"
		case t == "array" && p.Items != nil && p.Items.typ() == "string":
			f.Kind = "lines"
			if len(p.Items.Enum) > 0 || choices[name] != nil {
				f.Kind = "multi"
				f.Options = choices[name]
				for _, e := range p.Items.Enum {
					f.Options = append(f.Options, fmt.Sprint(e))
				}
			}
		case t == "object":
			f.Kind = "group"
			f.Fields = fieldsOf(p, f.Name+".", choices)
		case t == "string" && (p.MaxLength == nil || *p.MaxLength > 300):
			f.Kind = "textarea"
		case t == "string":
			f.Kind = "text"
		default:
			continue // a shape the form cannot take (arrays of objects): the API takes it
		}
		out = append(out, f)
	}
	return out
}

// payloadOf reads a submitted form into the payload the schema describes.
func payloadOf(s *schema, form map[string][]string, prefix string) map[string]any {
	out := map[string]any{}
	for _, name := range s.Properties.names {
		p := s.Properties.byName[name]
		if slices.Contains(filledByAPI, name) || p.ReadOnly {
			continue
		}
		key := prefix + name
		v := strings.TrimSpace(first(form[key]))
		switch t := p.typ(); {
		case t == "object":
			if sub := payloadOf(p, form, key+"."); len(sub) > 0 {
				out[name] = sub
			}
		case t == "boolean":
			if v != "" {
				out[name] = v == "true"
			}
		case t == "integer" || t == "number":
			if v == "" {
				continue
			}
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				out[name] = n
			} else {
				out[name] = v // the API names the field that is not a number
			}
		case t == "array":
			var items []string
			if vals := form[key]; len(vals) > 1 {
				items = vals // a multiple select
			} else {
				for _, line := range strings.Split(v, "\n") {
					if line = strings.TrimSpace(line); line != "" {
						items = append(items, line)
					}
				}
			}
			if items != nil || slices.Contains(s.Required, name) {
				out[name] = append([]string{}, items...)
			}
		default:
			// A required field left empty is sent empty: the API then names
			// it, and the error stands beside it.
			if v != "" || slices.Contains(s.Required, name) {
				out[name] = v
			}
		}
	}
	return out
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// fill puts submitted values and the API's errors (locations like
// body.compensation.amount) beside their fields; it returns the errors no
// field takes.
func fill(fields []field, form map[string][]string, errs map[string]string) {
	for i := range fields {
		f := &fields[i]
		if f.Kind == "group" {
			fill(f.Fields, form, errs)
		} else if vs, ok := form[f.Name]; ok {
			f.Value = strings.Join(vs, "\n")
		}
		if e, ok := errs[f.Name]; ok {
			f.Error = e
			delete(errs, f.Name)
		}
	}
}
