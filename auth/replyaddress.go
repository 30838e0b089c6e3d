package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ReplyAddresses makes and checks the Reply-To address of the messages we
// send a customer: reply+<token>@<domain>, the token naming the case, until
// when a reply is taken, and an HMAC of both. A mail to a forged or expired
// address never reaches a case. The token is lower case only: mail systems
// may fold the local part's case.
type ReplyAddresses struct {
	Secret []byte
	// Domain is the right-hand side of the address, where our inbound
	// server receives mail (MX or a forward).
	Domain string
}

// replyLocalPrefix starts every reply address's local part.
const replyLocalPrefix = "reply+"

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Enabled tells whether reply addresses are made: a secret and a domain.
func (a ReplyAddresses) Enabled() bool { return len(a.Secret) > 0 && a.Domain != "" }

// Address is the reply address of case reference, good until expires.
func (a ReplyAddresses) Address(reference string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 36)
	ref := strings.ToLower(reference)
	return replyLocalPrefix + ref + "." + exp + "." + a.mac(ref, exp) + "@" + strings.ToLower(a.Domain)
}

func (a ReplyAddresses) mac(ref, exp string) string {
	// The secret may sign other links too: this key is for reply addresses only.
	m := hmac.New(sha256.New, derive(a.Secret, "complaintdesk reply address"))
	m.Write([]byte(ref + "|" + exp))
	return strings.ToLower(tokenEncoding.EncodeToString(m.Sum(nil)[:15]))
}

// Errors of a reply address.
var (
	ErrNotReplyAddress   = errors.New("not a reply address")
	ErrReplyForged       = errors.New("the reply address's signature does not match")
	ErrReplyExpired      = errors.New("the reply address has expired")
	ErrReplyWrongDomain  = errors.New("the reply address is not in our domain")
	errReplyMalformed    = errors.New("the reply address is malformed")
	errReplyNotConfigued = errors.New("reply addresses are not configured")
)

// IsReplyAddress tells whether addr has the shape of a reply address of
// ours (reply+...@domain), signed or not.
func (a ReplyAddresses) IsReplyAddress(addr string) bool {
	local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	return ok && strings.HasPrefix(local, replyLocalPrefix) && domain == strings.ToLower(a.Domain)
}

// Parse checks a reply address and returns the case it names (its
// reference in upper case, as we write it).
func (a ReplyAddresses) Parse(addr string, now time.Time) (string, error) {
	if !a.Enabled() {
		return "", errReplyNotConfigued
	}
	local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	switch {
	case !ok || !strings.HasPrefix(local, replyLocalPrefix):
		return "", ErrNotReplyAddress
	case domain != strings.ToLower(a.Domain):
		return "", ErrReplyWrongDomain
	}
	parts := strings.Split(strings.TrimPrefix(local, replyLocalPrefix), ".")
	if len(parts) != 3 {
		return "", errReplyMalformed
	}
	ref, exp, mac := parts[0], parts[1], parts[2]
	if !hmac.Equal([]byte(mac), []byte(a.mac(ref, exp))) {
		return "", ErrReplyForged
	}
	unix, err := strconv.ParseInt(exp, 36, 64)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errReplyMalformed, err)
	}
	if !now.Before(time.Unix(unix, 0)) {
		return "", ErrReplyExpired
	}
	return strings.ToUpper(ref), nil
}

// derive is a key of secret for one purpose only.
func derive(secret []byte, purpose string) []byte {
	k := hmac.New(sha256.New, secret)
	k.Write([]byte(purpose))
	return k.Sum(nil)
}
