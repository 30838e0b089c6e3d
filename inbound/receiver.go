// Package inbound brings the customer's own words to their case: a reply
// to one of our emails (received by our SMTP server) or the status page's
// form. Both go the same way: the files are checked, sealed with the case's
// data key and stored, then the message reaches the case as the
// `customerMessage` update, its update id the mail's Message-ID, so that a
// redelivered mail is recorded once.
package inbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
)

// Cases runs a task on a case; the starter is one.
type Cases interface {
	Task(ctx context.Context, ref, task, updateID string, payload any) (complaint.CaseView, error)
}

// AttachmentStore keeps sealed attachments; *store.Store is one.
type AttachmentStore interface {
	SaveAttachment(ctx context.Context, a store.Attachment) (added bool, err error)
	DeleteAttachments(ctx context.Context, reference string, ids []string) error
	// AttachmentBytes is what a case's files hold, but those of one
	// message (a redelivery is not counted twice).
	AttachmentBytes(ctx context.Context, reference, exceptMessageID string) (int64, error)
}

// Sealer encrypts with a case's data key; *codec.Keyring is one.
type Sealer interface {
	SealFor(reference, label string, plain []byte) (codec.Sealed, error)
}

// Limits are what a customer may send.
type Limits struct {
	// MaxMessageBytes bounds a whole inbound mail (SMTP refuses more).
	MaxMessageBytes int64 `env:"INBOUND_MAX_MESSAGE_BYTES" envDefault:"26214400"`
	// MaxAttachmentBytes bounds one file.
	MaxAttachmentBytes int64 `env:"ATTACHMENT_MAX_BYTES" envDefault:"10485760"`
	// MaxCaseBytes bounds all the files of one case: a reply address or
	// a status link cannot fill the database.
	MaxCaseBytes int64 `env:"ATTACHMENT_MAX_CASE_BYTES" envDefault:"104857600"`
	// AttachmentTypes are the media types taken: photos and documents.
	AttachmentTypes []string `env:"ATTACHMENT_TYPES" envDefault:"image/jpeg,image/png,image/gif,image/webp,image/heic,application/pdf,text/plain"`
}

// DefaultLimits are the limits when configuration says nothing.
func DefaultLimits() Limits {
	return Limits{MaxMessageBytes: 25 << 20, MaxAttachmentBytes: 10 << 20, MaxCaseBytes: 100 << 20,
		AttachmentTypes: []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf", "text/plain"}}
}

// File is one file the customer sent.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Incoming is one message from the customer before it reaches the case.
type Incoming struct {
	Reference string
	// MessageID identifies the message: the mail's Message-ID, or the
	// status page's submission id. The update id.
	MessageID string
	Via       string
	Subject   string
	// Text is what staff read first; Original the whole text received.
	Text     string
	Original string
	Files    []File
}

// Receiver delivers customer messages to their cases.
type Receiver struct {
	Cases  Cases
	Store  AttachmentStore
	Keys   Sealer
	Limits Limits
}

// ErrRefusedFile is a file of a type or size we do not take.
var ErrRefusedFile = errors.New("file refused")

// ErrCaseFull is a file beyond what its case may hold (MaxCaseBytes).
var ErrCaseFull = fmt.Errorf("%w: the case holds as many files as it may", ErrRefusedFile)

// Check refuses a file the limits do not allow, naming why.
func (l Limits) Check(f File) error {
	typ := baseType(f.ContentType)
	switch {
	case int64(len(f.Data)) > l.MaxAttachmentBytes:
		return fmt.Errorf("%w: %s has %d bytes, more than %d", ErrRefusedFile, f.Name, len(f.Data), l.MaxAttachmentBytes)
	case len(f.Data) == 0:
		return fmt.Errorf("%w: %s is empty", ErrRefusedFile, f.Name)
	case !slices.Contains(l.AttachmentTypes, typ):
		return fmt.Errorf("%w: %s is %s; we take %s", ErrRefusedFile, f.Name, typ, strings.Join(l.AttachmentTypes, ", "))
	}
	// The declared type must be what the bytes are: a photo that is a program is refused.
	if sniffed := baseType(http.DetectContentType(f.Data)); sniffed != typ && !compatible(typ, sniffed) {
		return fmt.Errorf("%w: %s says %s but holds %s", ErrRefusedFile, f.Name, typ, sniffed)
	}
	return nil
}

// compatible are declared and sniffed types that agree: the sniffer knows
// no HEIC and calls any text text/plain.
func compatible(declared, sniffed string) bool {
	switch declared {
	case "image/heic":
		return sniffed == "application/octet-stream"
	case "text/plain":
		return strings.HasPrefix(sniffed, "text/")
	}
	return false
}

func baseType(t string) string {
	t, _, _ = strings.Cut(t, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// Deliver stores the message's files and puts the message on its case. A
// repeat of the same message (same MessageID) stores nothing new and
// changes nothing on the case.
func (r Receiver) Deliver(ctx context.Context, in Incoming) (complaint.CaseView, error) {
	msg := complaint.CustomerMessage{Text: clip(in.Text, complaint.MaxCustomerMessageText), Via: in.Via,
		MessageID: clip(in.MessageID, 998), Subject: clip(in.Subject, 998), Attachments: []complaint.AttachmentRef{}}
	if in.Original != in.Text {
		msg.Original = clip(in.Original, 100000)
	}
	if len(in.Files) > complaint.MaxAttachments {
		return complaint.CaseView{}, fmt.Errorf("%w: %d files, at most %d", ErrRefusedFile, len(in.Files), complaint.MaxAttachments)
	}
	// Every file is checked before any is stored: a message refused for
	// one of its files leaves nothing behind.
	var size int64
	for _, f := range in.Files {
		if err := r.Limits.Check(f); err != nil {
			return complaint.CaseView{}, err
		}
		size += int64(len(f.Data))
	}
	if size > 0 && r.Limits.MaxCaseBytes > 0 {
		held, err := r.Store.AttachmentBytes(ctx, in.Reference, msg.MessageID)
		if err != nil {
			return complaint.CaseView{}, err
		}
		if held+size > r.Limits.MaxCaseBytes {
			return complaint.CaseView{}, fmt.Errorf("%w (%d MB held, at most %d MB)", ErrCaseFull,
				held>>20, r.Limits.MaxCaseBytes>>20)
		}
	}
	var added []string // stored by this delivery, not an earlier one
	for i, f := range in.Files {
		id := AttachmentID(in.Reference, in.MessageID, i)
		sealed, err := r.Keys.SealFor(in.Reference, id, f.Data)
		if err != nil {
			return complaint.CaseView{}, fmt.Errorf("seal attachment: %w", err)
		}
		name := cleanName(f.Name, i)
		a := store.Attachment{ID: id, Reference: in.Reference, MessageID: msg.MessageID, Filename: name,
			ContentType: baseType(f.ContentType), Size: int64(len(f.Data)), KeyID: sealed.KeyID, Sealed: sealed.Data}
		isNew, err := r.Store.SaveAttachment(ctx, a)
		if err != nil {
			return complaint.CaseView{}, err
		}
		if isNew {
			added = append(added, id)
		}
		msg.Attachments = append(msg.Attachments, complaint.AttachmentRef{ID: id, Filename: name,
			ContentType: a.ContentType, Size: a.Size})
	}
	v, err := r.Cases.Task(ctx, in.Reference, complaint.TaskCustomerMessage, updateID(in.MessageID), msg)
	if len(added) > 0 && refusedForGood(err) {
		// The case took no message (ended, withdrawn, erased): its files
		// must not stay where staff would find them. One whose answer is
		// unknown (a timeout) keeps them: the message may be on the case.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if derr := r.Store.DeleteAttachments(dctx, in.Reference, added); derr != nil {
			err = errors.Join(err, derr)
		}
	}
	return v, err
}

// refusedForGood: the case answered and will not take the message.
func refusedForGood(err error) bool {
	var rejected *starter.RejectedError
	return errors.Is(err, starter.ErrEnded) || errors.Is(err, starter.ErrNotFound) ||
		errors.Is(err, starter.ErrConflict) || errors.As(err, &rejected)
}

// updateID is the update id of a message: its Message-ID, bounded (an
// update id is short; a hash keeps a long one unique).
func updateID(messageID string) string {
	if len(messageID) <= 200 {
		return "msg:" + messageID
	}
	sum := sha256.Sum256([]byte(messageID))
	return "msg:" + hex.EncodeToString(sum[:])
}

// AttachmentID names the n-th file of a message on a case: the same for a
// redelivery, so it is stored once.
func AttachmentID(reference, messageID string, n int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", reference, messageID, n)))
	return hex.EncodeToString(sum[:16])
}

// cleanName keeps a file's base name, printable, bounded.
func cleanName(name string, n int) string {
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(name), "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		name = fmt.Sprintf("attachment-%d", n+1)
	}
	return clip(name, 255)
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
