package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
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
	CustomerCases(ctx context.Context, sub store.Subject) (store.CustomerRecords, error)
	EraseCase(ctx context.Context, reference, actor string) error
}

// CaseEnder ends a running case; the starter is one.
type CaseEnder interface {
	End(ctx context.Context, ref, reason string) (bool, error)
}

// MailboxEraser deletes the messages a mailbox kept for an address: the
// development mailbox keeps every email it receives, as files too.
type MailboxEraser interface {
	DeleteTo(ctx context.Context, address string) error
}

// CustomerEraser erases a customer everywhere: it ends their cases still
// running (a worker could not read them again), anonymises their contact
// details and free text in PostgreSQL and destroys their cases' data keys,
// so that the payloads in Temporal's history can no longer be decrypted,
// and has the development mailbox, when there is one, drop their emails.
// Counts, categories, timings and scores stay.
type CustomerEraser struct {
	Store ErasureStore
	Cases CaseEnder
	// Keys, when set, forgets the destroyed keys at once in this process.
	Keys *codec.Keyring
	// Mailbox, when set, is the development mailbox.
	Mailbox MailboxEraser
}

func (e CustomerEraser) Erase(ctx context.Context, sub store.Subject, actor string) (ErasureResult, error) {
	found, err := e.Store.CustomerCases(ctx, sub)
	if err != nil {
		return ErasureResult{}, err
	}
	if len(found.References) == 0 {
		return ErasureResult{}, ErrNoCases
	}
	res := ErasureResult{References: found.References, Terminated: []string{}}
	for _, ref := range found.References {
		ended, err := e.Cases.End(ctx, ref, "personal data erased")
		if err != nil {
			return res, fmt.Errorf("end case %s: %w", ref, err)
		}
		if ended {
			res.Terminated = append(res.Terminated, ref)
		}
		if err := e.Store.EraseCase(ctx, ref, actor); err != nil {
			return res, err
		}
		if e.Keys != nil {
			e.Keys.Forget(codec.CaseScope(ref))
		}
	}
	if e.Mailbox != nil {
		for _, addr := range found.Emails {
			if err := e.Mailbox.DeleteTo(ctx, addr); err != nil {
				return res, fmt.Errorf("the development mailbox: %w", err)
			}
		}
	}
	return res, nil
}

// mailboxOf is the development mailbox at url, nil when none is configured.
func mailboxOf(url string) MailboxEraser {
	if url == "" {
		return nil
	}
	return mailbox.Client{URL: url}
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
		return nil, unavailable("the erasure did not complete; it is safe to repeat", err)
	}
	return &erasureOutput{Body: res}, nil
}
