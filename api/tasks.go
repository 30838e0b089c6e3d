package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// TaskOption is one task the caller may do on a case: whether the case and
// the caller's part in it allow it now, why not, and the JSON schema of its
// payload (the task operation's request body in the OpenAPI document, with
// its references resolved), from which the desk builds its form.
type TaskOption struct {
	Name    string         `json:"name"`
	Allowed bool           `json:"allowed"`
	Reason  string         `json:"reason,omitempty" doc:"Why the task cannot be done now."`
	Schema  map[string]any `json:"schema" doc:"JSON schema of the task's payload, references resolved."`
}

type taskList struct {
	Tasks []TaskOption `json:"tasks"`
}

type taskListOutput struct {
	Body taskList
}

// registerTasks exposes GET /v1/complaints/{reference}/tasks. The schemas
// are read from the document once every task operation is registered.
func (s *Server) registerTasks(api huma.API) func() {
	schemas := map[string]map[string]any{}
	huma.Register(api, huma.Operation{
		OperationID: "listTasks", Method: http.MethodGet, Path: "/v1/complaints/{reference}/tasks",
		Summary: "The tasks the caller may do on the case now", Tags: []string{"tasks"},
		Description: "Every task the caller's role may do, in the order of a case's life: `allowed` when the case's " +
			"state and the caller's part in it (an agent owns the case, department staff work for a department it is " +
			"routed to) let it be done now, otherwise `reason` says why not; `schema` is the payload's JSON schema, " +
			"as `POST /v1/complaints/{reference}/{task}` takes it.",
	}, func(ctx context.Context, in *referenceInput) (*taskListOutput, error) {
		ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
		defer cancel()
		id := caller(ctx)
		v, err := s.Cases.Case(ctx, in.Reference)
		if err != nil {
			return nil, problem(err)
		}
		if err := s.canRead(ctx, id, v); err != nil {
			return nil, err
		}
		states, err := s.Cases.Tasks(ctx, in.Reference)
		if err != nil {
			return nil, problem(err)
		}
		out := &taskListOutput{Body: taskList{Tasks: []TaskOption{}}}
		for _, st := range states {
			if !slices.Contains(permissions["task-"+st.Name], id.Role) {
				continue
			}
			o := TaskOption{Name: st.Name, Allowed: st.Allowed, Reason: st.Reason, Schema: schemas[st.Name]}
			if err := actCheck(id, v, st.Name, nil); err != nil {
				o.Allowed, o.Reason = false, messageOf(err)
			}
			if o.Schema == nil {
				o.Schema = map[string]any{"type": "object"}
			}
			out.Body.Tasks = append(out.Body.Tasks, o)
		}
		return out, nil
	})
	return func() {
		doc := api.OpenAPI()
		for _, task := range complaint.StaffTasks {
			path := doc.Paths["/v1/complaints/{reference}/"+task]
			if path == nil || path.Post == nil || path.Post.RequestBody == nil {
				continue
			}
			mt := path.Post.RequestBody.Content["application/json"]
			if mt == nil || mt.Schema == nil {
				continue
			}
			schemas[task] = inlineSchema(doc.Components.Schemas, mt.Schema)
		}
	}
}

// inlineSchema is s as plain JSON with every $ref to the registry's schemas
// replaced by the schema it names, so that a form builder needs no
// resolver. The payloads' types do not nest themselves; depth bounds it all
// the same.
func inlineSchema(reg huma.Registry, s *huma.Schema) map[string]any {
	var resolve func(v any, depth int) any
	resolve = func(v any, depth int) any {
		switch t := v.(type) {
		case map[string]any:
			if ref, ok := t["$ref"].(string); ok && depth < 8 {
				if target := reg.SchemaFromRef(ref); target != nil {
					return resolve(toJSON(target), depth+1)
				}
			}
			out := make(map[string]any, len(t))
			for k, e := range t {
				out[k] = resolve(e, depth)
			}
			return out
		case []any:
			out := make([]any, len(t))
			for i, e := range t {
				out[i] = resolve(e, depth)
			}
			return out
		}
		return v
	}
	m, _ := resolve(toJSON(s), 0).(map[string]any)
	return m
}

func toJSON(s *huma.Schema) map[string]any {
	data, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}

// messageOf is the detail of a problem made by forbidden and the like.
func messageOf(err error) string {
	if se, ok := err.(huma.StatusError); ok {
		var m huma.ErrorModel
		data, _ := json.Marshal(se)
		if json.Unmarshal(data, &m) == nil && m.Detail != "" {
			return m.Detail
		}
	}
	return strings.TrimSpace(err.Error())
}
