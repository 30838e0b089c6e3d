package auth

import (
	"strings"
	"time"
)

// CustomerLinks is the configuration of what lets a customer reach their
// case without an account: the reply address in every message and the
// status page's link. The worker signs them, the API (and its inbound mail
// server) checks them, with the same settings.
type CustomerLinks struct {
	// Secret signs reply addresses and status links; empty: the survey
	// link's secret (SURVEY_LINK_SECRET) is used, each kind of link under
	// a key of its own.
	Secret string `env:"CUSTOMER_LINK_SECRET"`
	// ReplyDomain is where replies go (reply+token@ReplyDomain): a domain
	// whose mail reaches our inbound server. Empty: MAIL_FROM's domain.
	ReplyDomain string `env:"REPLY_DOMAIN"`
	// MailFrom is the address our messages come from (the worker's
	// MAIL_FROM), read here for its domain.
	MailFrom string `env:"MAIL_FROM" envDefault:"complaints@complaintdesk.local"`
	// Validity is how long a reply address or status link works after the
	// message that carried it: the reopen window by default, and each
	// message brings a fresh one.
	Validity time.Duration `env:"CUSTOMER_LINK_VALIDITY" envDefault:"720h"`
}

// SecretOr is the secret, or fallback when none is set.
func (c CustomerLinks) SecretOr(fallback string) []byte {
	if c.Secret != "" {
		return []byte(c.Secret)
	}
	return []byte(fallback)
}

// Domain is where reply addresses point: REPLY_DOMAIN, or MAIL_FROM's domain.
func (c CustomerLinks) Domain() string {
	if c.ReplyDomain != "" {
		return c.ReplyDomain
	}
	_, domain, _ := strings.Cut(c.MailFrom, "@")
	return domain
}

// Replies are the reply addresses these settings make and check.
func (c CustomerLinks) Replies(fallbackSecret string) ReplyAddresses {
	return ReplyAddresses{Secret: c.SecretOr(fallbackSecret), Domain: c.Domain()}
}
