package inbound

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"
)

// Limits of a message's MIME structure, checked on the raw bytes before
// the parser sees them: the parser recurses once per nesting level and
// allocates per part, with no bound of its own, so a mail of nested or
// countless parts within the size limit could exhaust the API's memory or
// stack. Real mail has a handful of parts and two or three levels.
const (
	maxContainers = 64   // multipart containers in use (a boundary each)
	maxParts      = 1000 // part delimiters in all
)

// boundaryParam finds the boundaries a message declares.
var boundaryParam = regexp.MustCompile(`(?i)boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))`)

// mimeShape refuses a message whose structure is beyond any real mail's.
// Only lines that delimit a declared boundary count ("--" and the
// boundary): a text file of comment lines or "-----" rules is no part.
func mimeShape(raw []byte) error {
	declared := map[string]bool{}
	for _, m := range boundaryParam.FindAllSubmatch(raw, -1) {
		declared[string(m[1])+string(m[2])] = true
	}
	if len(declared) == 0 {
		return nil
	}
	used := map[string]bool{}
	parts := 0
	for rest := raw; len(rest) > 0; {
		line, next, _ := bytes.Cut(rest, []byte("\n"))
		rest = next
		if !bytes.HasPrefix(line, []byte("--")) {
			continue
		}
		b := strings.TrimRight(string(line[2:]), " \t\r")
		b = strings.TrimSuffix(b, "--")
		if !declared[b] {
			continue
		}
		used[b] = true
		if parts++; parts > maxParts {
			return fmt.Errorf("too many parts (over %d)", maxParts)
		}
	}
	if len(used) > maxContainers {
		return fmt.Errorf("too many nested parts (%d multipart containers, at most %d)", len(used), maxContainers)
	}
	return nil
}

// ourMessageID matches the Message-IDs and thread ids of our own messages
// (activities.ThreadID, the delivery ids): a mail that answers one is a
// reply that missed its reply address, not a new complaint.
var ourMessageID = regexp.MustCompile(`(?i)<(case\.)?CMP-\d{8}-[0-9A-Z]{6}[^<>@]*@`)

// mayOpenCase says whether a mail to the intake address may open a case:
// not one from our own addresses (our mail coming back would open case
// after case), not a reply to one of our messages (it belongs to its case:
// the sender is told to use the reply address), and not more than a few
// per sender and per connecting address an hour. giveBack returns the
// allowance taken when no case was opened after all.
func (s *Server) mayOpenCase(envelopeFrom, remote string, env *enmime.Envelope) (giveBack func(), err error) {
	none := func() {}
	from, _ := env.AddressList("From")
	senders := []string{strings.ToLower(strings.TrimSpace(envelopeFrom))}
	for _, a := range from {
		senders = append(senders, strings.ToLower(a.Address))
	}
	for _, addr := range senders {
		if s.ours(addr) {
			return none, refuse(550, smtp.EnhancedCode{5, 7, 1}, "mail from this system's own addresses opens no complaint")
		}
	}
	if ourMessageID.MatchString(env.GetHeader("In-Reply-To") + " " + env.GetHeader("References")) {
		return none, refuse(550, smtp.EnhancedCode{5, 7, 1},
			"this is a reply to one of our messages: please reply to the address it gave (Reply-To), which reaches your complaint")
	}
	customer := senders[0] // the envelope's, unless the mail names its author
	if len(from) > 0 {
		customer = senders[1]
	}
	giveBack, ok := s.intakeLimits.take(customer, hostOf(remote))
	if !ok {
		return none, refuse(451, smtp.EnhancedCode{4, 7, 1}, "too many complaints from this sender just now; please try again later")
	}
	return giveBack, nil
}

// hostOf is a connection's remote host, without its port.
func hostOf(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
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
// host (INBOUND_INTAKE_PER_SENDER, INBOUND_INTAKE_PER_HOST), in any hour:
// each key keeps the times of its cases in the last hour. A host may be a
// provider's relay for many customers, hence its larger allowance.
type senderLimits struct {
	perSender, perHost int
	mu                 sync.Mutex
	taken              map[string][]time.Time
	now                func() time.Time
}

func newSenderLimits(perSender, perHost int) *senderLimits {
	return &senderLimits{perSender: max(1, perSender), perHost: max(1, perHost), taken: map[string][]time.Time{}, now: time.Now}
}

// take takes one case from the host's and the sender's allowance, or none
// when either is spent; giveBack returns it. A sender's entry is made only
// once its host may send, so varying From grows the table no faster than
// the host's allowance.
func (l *senderLimits) take(sender, host string) (giveBack func(), ok bool) {
	if l == nil {
		return func() {}, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.taken) > 100000 {
		l.taken = map[string][]time.Time{} // bounded memory: a flood starts afresh
	}
	now := l.now()
	recent := func(key string) []time.Time {
		ts := slices.DeleteFunc(l.taken[key], func(t time.Time) bool { return now.Sub(t) >= time.Hour })
		if len(ts) == 0 {
			delete(l.taken, key)
		} else {
			l.taken[key] = ts
		}
		return ts
	}
	hk, sk := "host:"+host, "from:"+sender
	if len(recent(hk)) >= l.perHost || len(recent(sk)) >= l.perSender {
		return nil, false
	}
	l.taken[hk] = append(l.taken[hk], now)
	l.taken[sk] = append(l.taken[sk], now)
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, k := range []string{hk, sk} {
			if i := slices.Index(l.taken[k], now); i >= 0 {
				l.taken[k] = slices.Delete(l.taken[k], i, i+1)
			}
		}
	}, true
}
