package api

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// bearerScheme names the security scheme of every protected operation.
const bearerScheme = "bearer"

// describeDocument completes the OpenAPI document once every operation is
// registered: the bearer security scheme on each protected operation, the
// problem responses each can answer, and the webhooks upstream systems
// receive.
func describeDocument(api huma.API) {
	oa := api.OpenAPI()
	if oa.Components.SecuritySchemes == nil {
		oa.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	oa.Components.SecuritySchemes[bearerScheme] = &huma.SecurityScheme{Type: "http", Scheme: "bearer",
		Description: "An upstream system's API key (`cdk_...`) or a staff token (a JWT), as `Authorization: Bearer ...`."}
	problem := oa.Components.Schemas.Schema(reflect.TypeFor[huma.ErrorModel](), true, "")
	for _, path := range oa.Paths {
		for _, op := range []*huma.Operation{path.Get, path.Post, path.Put, path.Patch, path.Delete} {
			if op == nil {
				continue
			}
			if permissions[op.OperationID] != nil {
				op.Security = []map[string][]string{{bearerScheme: {}}}
			}
			for _, status := range problemStatuses(op) {
				code := strconv.Itoa(status)
				if op.Responses[code] != nil {
					continue
				}
				op.Responses[code] = &huma.Response{Description: problemDescriptions[status],
					Content: map[string]*huma.MediaType{"application/problem+json": {Schema: problem}}}
			}
		}
	}
	describeWebhooks(oa)
}

// problemStatuses are the problems an operation can answer, from what it
// takes and who may call it.
func problemStatuses(op *huma.Operation) []int {
	id := op.OperationID
	if id == "healthz" {
		return nil
	}
	statuses := []int{http.StatusServiceUnavailable}
	if id == "readyz" {
		return statuses
	}
	statuses = append(statuses, http.StatusTooManyRequests)
	if permissions[id] != nil {
		statuses = append(statuses, http.StatusUnauthorized, http.StatusForbidden)
	}
	if op.RequestBody != nil {
		statuses = append(statuses, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	}
	if len(op.Parameters) > 0 {
		statuses = append(statuses, http.StatusUnprocessableEntity)
	}
	if strings.Contains(op.Path, "{") || id == "answerSurvey" {
		statuses = append(statuses, http.StatusNotFound)
	}
	if id == "submitComplaint" || id == "answerSurvey" || id == "redeliverDelivery" || id == "listTasks" || strings.HasPrefix(id, "task-") {
		statuses = append(statuses, http.StatusConflict)
	}
	if id == "answerSurvey" {
		statuses = append(statuses, http.StatusGone)
	}
	slices.Sort(statuses)
	return slices.Compact(statuses)
}

var problemDescriptions = map[int]string{
	http.StatusBadRequest:            "The body is not well-formed JSON.",
	http.StatusUnauthorized:          "No credentials, or credentials that are not valid (see `WWW-Authenticate`).",
	http.StatusForbidden:             "The caller's role may not do this, or not on this case.",
	http.StatusNotFound:              "No such case or delivery (or one the caller may not see).",
	http.StatusConflict:              "The case (or the key, or the delivery) cannot take this now.",
	http.StatusGone:                  "The survey has closed or belongs to an earlier round of the case.",
	http.StatusRequestEntityTooLarge: "The body is over 1 MiB.",
	http.StatusUnprocessableEntity:   "A field or parameter breaks its rules; the problem names it.",
	http.StatusTooManyRequests:       "Over the caller's rate limit; retry after `Retry-After` seconds.",
	http.StatusServiceUnavailable:    "Temporal or the database cannot answer now; retry after `Retry-After` seconds (with the same `Idempotency-Key`).",
}

// describeWebhooks lists every event an upstream system receives, in the
// OpenAPI 3.1 `webhooks` section: a signed POST (Standard Webhooks) whose
// body is a WebhookEvent.
func describeWebhooks(oa *huma.OpenAPI) {
	event := oa.Components.Schemas.Schema(reflect.TypeFor[complaint.WebhookEvent](), true, "WebhookEvent")
	header := func(name, doc string) *huma.Param {
		return &huma.Param{Name: name, In: "header", Required: true, Description: doc, Schema: &huma.Schema{Type: "string"}}
	}
	oa.Webhooks = map[string]*huma.PathItem{}
	for _, step := range complaint.StepNames {
		name := "complaint." + step
		oa.Webhooks[name] = &huma.PathItem{Post: &huma.Operation{
			OperationID: "webhook-" + name, Tags: []string{"webhooks"},
			Summary: "The case took the step `" + step + "`",
			Description: "Posted to the subscribing system's URL (`WEBHOOKS`), signed the Standard Webhooks way with " +
				"its `whsec_` secret; `type` is `" + name + "`.",
			Parameters: []*huma.Param{
				header("webhook-id", "The event's id, as in the body; the same on every retry."),
				header("webhook-timestamp", "Unix seconds when this attempt was signed."),
				header("webhook-signature", "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`; two, space-separated, "+
					"during a secret rotation."),
			},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"application/json": {Schema: event}}},
			Responses: map[string]*huma.Response{
				"2XX": {Description: "Delivered."},
				"4XX": {Description: "Refused for good (408 and 429 are retried): the delivery is failed and listed for an operator."},
				"5XX": {Description: "Retried with backoff until delivered or `DELIVERY_MAX_ATTEMPTS`."},
			},
		}}
	}
}
