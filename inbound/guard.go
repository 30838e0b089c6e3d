package inbound

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"
	"golang.org/x/time/rate"
)

// Limits of a message's MIME structure, checked on the raw bytes before
// the parser sees them: the parser recurses once per nesting level and
// allocates per part, with no bound of its own, so a mail of nested or
// countless parts within the size limit could exhaust the API's memory or
// stack. Real mail has a handful of parts and two or three levels.
const (
	maxBoundaries = 64   // multipart containers (each declares a boundary)
	maxDelimiters = 1000 // lines starting with "--": part delimiters and more
)

// mimeShape refuses a message whose structure is beyond any real mail's.
func mimeShape(raw []byte) error {
	if n := countFold(raw, []byte("boundary=")); n > maxBoundaries {
		return fmt.Errorf("too many nested parts (%d multipart containers, at most %d)", n, maxBoundaries)
	}
	lines := 0
	for rest := raw; len(rest) > 0; {
		line, next, _ := bytes.Cut(rest, []byte("\n"))
		if bytes.HasPrefix(line, []byte("--")) {
			if lines++; lines > maxDelimiters {
				return fmt.Errorf("too many parts (over %d)", maxDelimiters)
			}
		}
		rest = next
	}
	return nil
}

// countFold counts the case-insensitive occurrences of sep (lower case) in b.
func countFold(b, sep []byte) int {
	return bytes.Count(bytes.ToLower(b), sep)
}

// ourMessageID matches the Message-IDs and thread ids of our own messages
// (activities.ThreadID, the delivery ids): a mail that answers one is a
// reply that missed its reply address, not a new complaint.
var ourMessageID = regexp.MustCompile(`<(case\.)?CMP-\d{8}-[0-9A-Z]{6}[^<>@]*@`)

// mayOpenCase says whether a mail to the intake address may open a case:
// not one from our own addresses (our mail coming back would open case
// after case), not a reply to one of our messages (it belongs to its case:
// the sender is told to use the reply address), and not more than a few
// per sender and per connecting address an hour.
func (s *Server) mayOpenCase(envelopeFrom, remote string, env *enmime.Envelope) error {
	from, _ := env.AddressList("From")
	senders := []string{strings.ToLower(strings.TrimSpace(envelopeFrom))}
	for _, a := range from {
		senders = append(senders, strings.ToLower(a.Address))
	}
	for _, addr := range senders {
		if s.ours(addr) {
			return refuse(550, smtp.EnhancedCode{5, 7, 1}, "mail from this system's own addresses opens no complaint")
		}
	}
	if ourMessageID.MatchString(env.GetHeader("In-Reply-To") + " " + env.GetHeader("References")) {
		return refuse(550, smtp.EnhancedCode{5, 7, 1},
			"this is a reply to one of our messages: please reply to the address it gave (Reply-To), which reaches your complaint")
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	customer := senders[0] // the envelope's, unless the mail names its author
	if len(from) > 0 {
		customer = senders[1]
	}
	if !s.intakeLimits.allow("from:"+customer, "ip:"+host) {
		return refuse(451, smtp.EnhancedCode{4, 7, 1}, "too many complaints from this sender just now; please try again later")
	}
	return nil
}

// ours is an address our own messages come from: MAIL_FROM, the intake
// address, or a reply address of ours.
func (s *Server) ours(addr string) bool {
	if addr == "" {
		return false
	}
	if addr == s.intakeAddress {
		return true
	}
	for _, o := range s.Ours {
		if strings.EqualFold(addr, strings.TrimSpace(o)) {
			return true
		}
	}
	local, domain, _ := strings.Cut(addr, "@")
	return s.Replies.Domain != "" && strings.EqualFold(domain, s.Replies.Domain) && strings.HasPrefix(local, "reply+")
}

// senderLimits bound the cases mail opens per sender and per connecting
// address: a few an hour each (a burst of 5 for a sender, 30 for an
// address, which may be a provider's relay for many customers).
type senderLimits struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func newSenderLimits() *senderLimits { return &senderLimits{limiters: map[string]*rate.Limiter{}} }

// allow takes one case from each key's allowance, or none when any is spent.
func (l *senderLimits) allow(sender, address string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.limiters) > 100000 {
		l.limiters = map[string]*rate.Limiter{} // bounded memory: a flood starts afresh
	}
	get := func(key string, perHour, burst int) *rate.Limiter {
		lim, ok := l.limiters[key]
		if !ok {
			lim = rate.NewLimiter(rate.Every(time.Hour/time.Duration(perHour)), burst)
			l.limiters[key] = lim
		}
		return lim
	}
	s, a := get(sender, 5, 5), get(address, 30, 30)
	now := time.Now()
	rs, ra := s.ReserveN(now, 1), a.ReserveN(now, 1)
	if rs.DelayFrom(now) > 0 || ra.DelayFrom(now) > 0 {
		rs.CancelAt(now)
		ra.CancelAt(now)
		return false
	}
	return true
}
