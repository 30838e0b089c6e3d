package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/store"
)

// DeliveryReader reads the messages sent, pending or given up; *store.Store
// is one.
type DeliveryReader interface {
	DeliveryPage(ctx context.Context, f store.DeliveryFilter) (store.DeliveryPage, error)
	Delivery(ctx context.Context, id string) (store.Delivery, error)
}

// Redeliverer sends a failed webhook again; *starter.Starter is one.
type Redeliverer interface {
	Redeliver(ctx context.Context, deliveryID string, wait time.Duration) (done bool, err error)
}

type deliveriesInput struct {
	Status    string `query:"status" enum:"pending,sent,failed" doc:"Only deliveries in this state."`
	Reference string `query:"reference" maxLength:"64" doc:"Only the messages of this case."`
	Limit     int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	Cursor    string `query:"cursor" maxLength:"512" doc:"The previous page's nextCursor, with the same filters."`
}

type deliveriesOutput struct {
	Body store.DeliveryPage
}

type deliveryInput struct {
	ID string `path:"id" minLength:"1" maxLength:"256" doc:"The delivery's id, URL-encoded (its slashes as %2F)."`
}

type deliveryOutput struct {
	Status int
	Body   store.Delivery
}

// redeliverWait bounds how long the API waits for a redelivery's outcome
// before answering 202 with the delivery still pending.
const redeliverWait = 5 * time.Second

// registerDeliveries adds the operators' list of deliveries and the
// redelivery of a failed webhook.
func (s *Server) registerDeliveries(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "listDeliveries", Method: http.MethodGet, Path: "/v1/deliveries",
		Summary: "Messages sent, pending or given up", Tags: []string{"operations"},
		Description: "Every email, SMS, staff notice and webhook is one delivery. A delivery that failed for good " +
			"(a rejected address, a webhook answering 4xx, or too many attempts) is `failed` with its last error: " +
			"`?status=failed` is the operator's list. Newest first; pass `nextCursor` as `cursor` for the next " +
			"page, with the same filters; the last page has none.",
		Middlewares: huma.Middlewares{onlyParams(api, deliveriesInput{})},
	}, func(ctx context.Context, in *deliveriesInput) (*deliveriesOutput, error) {
		if s.Deliveries == nil {
			return nil, huma.Error503ServiceUnavailable("the database is not configured")
		}
		page, err := s.Deliveries.DeliveryPage(ctx, store.DeliveryFilter{Reference: in.Reference, Status: in.Status,
			Limit: in.Limit, Cursor: in.Cursor})
		if err != nil {
			return nil, storeProblem(err)
		}
		if page.Deliveries == nil {
			page.Deliveries = []store.Delivery{}
		}
		return &deliveriesOutput{Body: page}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "redeliverDelivery", Method: http.MethodPost, Path: "/v1/deliveries/{id}/redeliver",
		Summary: "Send a failed webhook again", Tags: []string{"operations"}, DefaultStatus: http.StatusOK,
		Description: "For operators: a `failed` webhook delivery is sent again by the worker with the same " +
			"`Webhook-Id` and body and a fresh signature, tried as before until delivered or given up. 200 with " +
			"the delivery when it is settled within a few seconds, 202 while it is still being tried. 409 when " +
			"the delivery has not failed, is not a webhook (a customer's message is not kept to be sent again), " +
			"or is being redelivered already.",
		Responses: map[string]*huma.Response{
			"202": {Description: "Still being tried: the delivery is pending."},
		},
	}, s.redeliver)
}

func (s *Server) redeliver(ctx context.Context, in *deliveryInput) (*deliveryOutput, error) {
	if s.Deliveries == nil || s.Redeliveries == nil {
		return nil, huma.Error503ServiceUnavailable("the database is not configured")
	}
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	d, err := s.Deliveries.Delivery(ctx, in.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, huma.Error404NotFound("no delivery has this id")
	case err != nil:
		return nil, storeProblem(err)
	case d.Status != store.DeliveryFailed:
		return nil, huma.Error409Conflict("only a failed delivery is sent again; this one is " + d.Status)
	case d.Channel != "webhook" || d.Payload == nil:
		return nil, huma.Error409Conflict("only a webhook recorded with its body is sent again; " +
			"a message to a person is not kept to be sent twice")
	}
	done, err := s.Redeliveries.Redeliver(ctx, in.ID, min(redeliverWait, s.RequestTimeout/2))
	if err != nil {
		return nil, problem(err)
	}
	if d, err = s.Deliveries.Delivery(ctx, in.ID); err != nil {
		return nil, storeProblem(err)
	}
	status := http.StatusOK
	if !done {
		status = http.StatusAccepted
	}
	return &deliveryOutput{Status: status, Body: d}, nil
}
