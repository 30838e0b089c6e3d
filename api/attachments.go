package api

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/inbound"
	"github.com/complaintdesk/complaintdesk/store"
)

// AttachmentReader reads the customer's sealed files; *store.Store is one.
type AttachmentReader interface {
	Attachment(ctx context.Context, reference, id string) (store.Attachment, error)
	Attachments(ctx context.Context, reference string) ([]store.Attachment, error)
}

// Opener decrypts what was sealed with a case's key; *codec.Keyring is one.
type Opener interface {
	OpenFor(reference, label string, s codec.Sealed) ([]byte, error)
}

// CustomerMail is what the customer's own channels need: the files they
// sent, their key, and the path their messages take to the case.
type CustomerMail struct {
	Attachments AttachmentReader
	Keys        Opener
	// Receiver delivers a message from the status page, as the inbound
	// mail server delivers an email reply.
	Receiver *inbound.Receiver
}

// AttachmentInfo is one file the customer sent, without its bytes.
type AttachmentInfo struct {
	ID          string    `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	ReceivedAt  time.Time `json:"receivedAt"`
}

type attachmentList struct {
	Body struct {
		Attachments []AttachmentInfo `json:"attachments"`
	}
}

// attachmentInput repeats the reference field: huma reads no parameter
// from an embedded struct.
type attachmentInput struct {
	Reference string `path:"reference" pattern:"^CMP-[0-9]{8}-[2-9A-HJKMNP-TV-Z]{6}$" doc:"The case reference."`
	ID        string `path:"id" pattern:"^[0-9a-f]{32}$" doc:"The attachment's id, as the case's messages list it."`
}

type attachmentFile struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	CacheControl       string `header:"Cache-Control"`
	Body               []byte
}

// registerAttachments lists and serves the files a customer sent: to the
// roles that may see the customer's data (permissions), an agent on the
// cases they own and department staff on the cases routed to them.
func (s *Server) registerAttachments(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "listAttachments", Method: http.MethodGet, Path: "/v1/complaints/{reference}/attachments",
		Summary: "The files the customer sent", Tags: []string{"complaints"},
		Description: "Photos and documents from the customer's email replies and status page, oldest first. " +
			"Stored encrypted with the case's data key; gone once the customer's data is erased.",
	}, func(ctx context.Context, in *referenceInput) (*attachmentList, error) {
		if err := s.mayReadCustomerFiles(ctx, in.Reference); err != nil {
			return nil, err
		}
		list, err := s.CustomerMail.Attachments.Attachments(ctx, in.Reference)
		if err != nil {
			return nil, storeProblem(err)
		}
		out := &attachmentList{}
		out.Body.Attachments = []AttachmentInfo{}
		for _, a := range list {
			out.Body.Attachments = append(out.Body.Attachments, AttachmentInfo{ID: a.ID, Filename: a.Filename,
				ContentType: a.ContentType, Size: a.Size, ReceivedAt: a.ReceivedAt})
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "getAttachment", Method: http.MethodGet, Path: "/v1/complaints/{reference}/attachments/{id}",
		Summary: "Download a file the customer sent", Tags: []string{"complaints"},
		Description: "The file as the customer sent it, decrypted with the case's key. 404 when the case has no such " +
			"file, or once it was erased.",
		Responses: map[string]*huma.Response{"200": {Description: "The file.", Content: map[string]*huma.MediaType{
			"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}},
	}, func(ctx context.Context, in *attachmentInput) (*attachmentFile, error) {
		if err := s.mayReadCustomerFiles(ctx, in.Reference); err != nil {
			return nil, err
		}
		a, err := s.CustomerMail.Attachments.Attachment(ctx, in.Reference, in.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, huma.Error404NotFound("the case has no such attachment")
		}
		if err != nil {
			return nil, storeProblem(err)
		}
		data, err := s.CustomerMail.Keys.OpenFor(in.Reference, a.ID, codec.Sealed{KeyID: a.KeyID, Data: a.Sealed})
		if errors.Is(err, codec.ErrKeyDestroyed) {
			return nil, huma.Error404NotFound("the attachment was erased")
		}
		if err != nil {
			return nil, unavailable("the attachment cannot be read now", err)
		}
		return &attachmentFile{ContentType: a.ContentType, CacheControl: "private, no-store",
			ContentDisposition: mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}),
			Body:               data}, nil
	})
}

// mayReadCustomerFiles applies the case-dependent part of reading a
// customer's files: as reading the case, and an agent only on their own.
func (s *Server) mayReadCustomerFiles(ctx context.Context, ref string) error {
	if s.CustomerMail.Attachments == nil || s.CustomerMail.Keys == nil {
		return huma.Error503ServiceUnavailable("attachments are not configured")
	}
	id := caller(ctx)
	if id.Role != agent && id.Role != department {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	v, err := s.Cases.Case(ctx, ref)
	if err != nil {
		return problem(err)
	}
	if id.Role == agent && v.Owner != id.Subject {
		return forbidden("agents see the files of the cases they own; %s is owned by %s", ref, v.Owner)
	}
	return s.canRead(ctx, id, v)
}
