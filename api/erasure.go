package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// Eraser erases a customer's personal data.
type Eraser interface {
	Erase(ctx context.Context, sub store.Subject, actor string) (ErasureResult, error)
}

// ErasureResult names the cases whose personal data was erased.
type ErasureResult struct {
	References []string `json:"references" doc:"Every case of the customer: its contact details and description anonymised, its data keys destroyed."`
	Terminated []string `json:"terminated" doc:"The cases among them that were still running and were ended."`
}

// ErrNoCases is an erasure that matched no case.
var ErrNoCases = errors.New("no case of this customer")

// ErasureStore is what an erasure changes in the database; *store.Store is one.
type ErasureStore interface {
	CustomerCases(ctx context.Context, sub store.Subject) ([]string, error)
	EraseCase(ctx context.Context, reference, actor string) error
}

// CustomerEraser erases a customer everywhere: it ends their cases still
// running (a worker could not read them again), anonymises their contact
// details and free text in PostgreSQL and destroys their cases' data keys,
// so that the payloads in Temporal's history can no longer be decrypted.
// Counts, categories, timings and scores stay.
type CustomerEraser struct {
	Store  ErasureStore
	Client client.Client
	// Keys, when set, forgets the destroyed keys at once in this process.
	Keys *codec.Keyring
}

func (e CustomerEraser) Erase(ctx context.Context, sub store.Subject, actor string) (ErasureResult, error) {
	refs, err := e.Store.CustomerCases(ctx, sub)
	if err != nil {
		return ErasureResult{}, err
	}
	if len(refs) == 0 {
		return ErasureResult{}, ErrNoCases
	}
	res := ErasureResult{References: refs, Terminated: []string{}}
	for _, ref := range refs {
		err := e.Client.TerminateWorkflow(ctx, complaint.WorkflowID(ref), "", "personal data erased")
		var notFound *serviceerror.NotFound
		switch {
		case err == nil:
			res.Terminated = append(res.Terminated, ref)
		case !errors.As(err, &notFound): // not found: the case had ended already
			return res, fmt.Errorf("end case %s: %w", ref, err)
		}
		if err := e.Store.EraseCase(ctx, ref, actor); err != nil {
			return res, err
		}
		if e.Keys != nil {
			e.Keys.Forget(codec.CaseScope(ref))
		}
	}
	return res, nil
}

type erasureInput struct {
	Body store.Subject
}

type erasureOutput struct {
	Body ErasureResult
}

func (s *Server) registerErasure(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "eraseCustomer", Method: http.MethodPost, Path: "/v1/admin/erasures",
		Summary: "Erase a customer's personal data", Tags: []string{"admin"},
		Description: "For administrators. Every case of the customer named by `customerId`, `email` or `phone` " +
			"(or the customer of case `reference`) loses its contact details, description and survey comment in the " +
			"database, and its data keys, so its payloads in Temporal can no longer be read; cases still running " +
			"are ended. Counts, categories, timings and scores stay.",
	}, s.erase)
}

func (s *Server) erase(ctx context.Context, in *erasureInput) (*erasureOutput, error) {
	b := in.Body
	if b.CustomerID == "" && b.Email == "" && b.Phone == "" && b.Reference == "" {
		return nil, huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "body", Message: "name the customer by customerId, email, phone or reference"})
	}
	if s.Eraser == nil {
		return nil, huma.Error503ServiceUnavailable("erasure is not configured")
	}
	ctx, cancel := context.WithTimeout(ctx, 4*s.RequestTimeout)
	defer cancel()
	res, err := s.Eraser.Erase(ctx, b, caller(ctx).Subject)
	switch {
	case errors.Is(err, ErrNoCases):
		return nil, huma.Error404NotFound(err.Error())
	case err != nil:
		return nil, huma.Error503ServiceUnavailable("the erasure did not complete; it is safe to repeat", err)
	}
	return &erasureOutput{Body: res}, nil
}
