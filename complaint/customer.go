package complaint

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The customer talking back: an email reply or the status page's form
// becomes a customerMessage on the case. It is the customer's own word, put
// on record and shown to staff; it never changes the case's decision by
// itself (staff read it and act), but it does end a wait for the customer.

// TaskCustomerMessage is a message from the customer (INTERFACE.md).
const TaskCustomerMessage = "customerMessage"

// Where a customer's message came from.
const (
	MessageViaEmail      = "email"
	MessageViaStatusPage = "status_page"
)

// MessageVia lists where a customer's message can come from.
var MessageVia = []string{MessageViaEmail, MessageViaStatusPage}

// Limits of one customer message.
const (
	MaxCustomerMessageText = 20000
	MaxAttachments         = 10
)

// AttachmentRef names a file the customer sent, stored (encrypted with the
// case's key) before the message reaches the case: the case holds only
// its name, type, size and id, never the bytes.
type AttachmentRef struct {
	ID          string `json:"id" minLength:"1" maxLength:"64" doc:"The stored attachment: GET /v1/complaints/{reference}/attachments/{id}."`
	Filename    string `json:"filename" minLength:"1" maxLength:"255"`
	ContentType string `json:"contentType" minLength:"1" maxLength:"128"`
	Size        int64  `json:"size" minimum:"0"`
}

// CustomerMessage is the payload of customerMessage: the customer's words
// as shown (quoted history and signature trimmed), the original as
// received, and the files that came with it.
type CustomerMessage struct {
	Text string `json:"text" maxLength:"20000" doc:"The message as shown: an email's quoted history and signature trimmed."`
	// Original is the whole text as received, kept beside the trimmed one.
	Original    string          `json:"original,omitempty" maxLength:"100000" doc:"The whole text as received, when trimming changed it."`
	Attachments []AttachmentRef `json:"attachments" maxItems:"10"`
	Via         string          `json:"via,omitempty" enum:"email,status_page" doc:"Where the message came from; email when absent."`
	// MessageID is the inbound mail's Message-ID (or the status page's own
	// id): the update id too, so a redelivered mail is recorded once.
	MessageID string `json:"messageId,omitempty" maxLength:"998" doc:"The inbound mail's Message-ID; the update id, so a redelivery is recorded once."`
	Subject   string `json:"subject,omitempty" maxLength:"998"`
}

func (t CustomerMessage) Validate() error {
	var c checker
	c.text("text", t.Text, false, MaxCustomerMessageText)
	c.text("original", t.Original, false, 100000)
	if strings.TrimSpace(t.Text) == "" && len(t.Attachments) == 0 {
		c.add("text", "is required when nothing is attached")
	}
	if len(t.Attachments) > MaxAttachments {
		c.add("attachments", "has more than %d items", MaxAttachments)
	}
	for i, a := range t.Attachments {
		f := fmt.Sprintf("attachments[%d]", i)
		c.text(f+".id", a.ID, true, 64)
		c.text(f+".filename", a.Filename, true, 255)
		c.text(f+".contentType", a.ContentType, true, 128)
		if a.Size < 0 {
			c.add(f+".size", "must not be negative")
		}
	}
	if t.Via != "" && !slices.Contains(MessageVia, t.Via) {
		c.add("via", "must be one of %s", strings.Join(MessageVia, ", "))
	}
	c.text("messageId", t.MessageID, false, 998)
	c.text("subject", t.Subject, false, 998)
	return c.err()
}

// CustomerNote is one message from the customer as the case shows it.
// It lives in the workflow's state, which Temporal keeps encrypted with
// the case's key, and never in a search attribute.
type CustomerNote struct {
	At          time.Time       `json:"at"`
	Via         string          `json:"via"`
	Text        string          `json:"text"`
	Original    string          `json:"original,omitempty"`
	Subject     string          `json:"subject,omitempty"`
	MessageID   string          `json:"messageId,omitempty"`
	Attachments []AttachmentRef `json:"attachments,omitempty"`
	// ResumedWait is the wait for the customer the message ended, if any.
	ResumedWait string `json:"resumedWait,omitempty"`
}

// StaffNoticeCustomerMessage is the staff notice that tells the owner the
// customer wrote.
const StaffNoticeCustomerMessage = "customer_message"
