package inbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"unicode"

	"github.com/jhillyerd/enmime/v2"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
)

// Submitter opens a case; the starter is one.
type Submitter interface {
	Submit(ctx context.Context, sub starter.Submission) (starter.Result, error)
}

// openCase opens a case (channel email) for a mail to the intake address
// from no thread of ours; its Message-ID is the idempotency key, so a
// redelivery finds the same case. The customer's words are its
// description; its files follow as the case's first customer message.
func (s *Server) openCase(ctx context.Context, env *enmime.Envelope, in Incoming) (ref string, created bool, err error) {
	from, err := env.AddressList("From")
	if err != nil || len(from) == 0 {
		return "", false, errors.New("no From address")
	}
	name := strings.TrimSpace(from[0].Name)
	if name == "" {
		name, _, _ = strings.Cut(from[0].Address, "@")
	}
	subject := strings.TrimSpace(in.Subject)
	if subject == "" {
		subject = "Complaint by email"
	}
	description := strings.TrimSpace(in.Text)
	if description == "" {
		description = "(see the attached files)"
	}
	sum := sha256.Sum256([]byte(in.MessageID))
	sub := starter.Submission{IdempotencyKey: "inbound-mail:" + hex.EncodeToString(sum[:16]), Intake: complaint.Intake{
		Channel:     complaint.ChannelEmail,
		Customer:    complaint.Customer{Name: clip(name, 200), Email: from[0].Address, Language: languageOf(subject + description)},
		Subject:     clip(subject, 200),
		Description: clip(description, 10000),
	}}
	res, err := s.Intake.Submit(ctx, sub)
	if err != nil {
		return "", false, err
	}
	return res.Reference, res.Created, nil
}

// languageOf guesses the customer's language: Chinese when the mail has
// Han characters, else English.
func languageOf(text string) string {
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return "zh"
		}
	}
	return "en"
}
