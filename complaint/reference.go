package complaint

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
)

// referenceAlphabet leaves out 0/O, 1/I/L and U so that a reference read out
// over the phone or copied by hand cannot be misread.
const referenceAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

const referenceSuffixLen = 6

var referencePattern = regexp.MustCompile(`^CMP-[0-9]{8}-[` + referenceAlphabet + `]{6}$`)

// ValidReference reports whether s is shaped like a reference.
func ValidReference(s string) bool { return referencePattern.MatchString(s) }

// NewReference draws a random reference for the intake day of now in loc.
func NewReference(now time.Time, loc *time.Location, rnd *rand.Rand) string {
	var b strings.Builder
	for range referenceSuffixLen {
		b.WriteByte(referenceAlphabet[rnd.IntN(len(referenceAlphabet))])
	}
	return referenceFor(now, loc, b.String())
}

// KeyedReference derives the reference of an idempotent submission from its
// key, the intake day and a probe number. The same key on the same day always
// gives the same reference, so concurrent duplicates collide on the workflow
// ID; probe 1, 2, ... are the next candidates when two different keys hash to
// the same suffix.
func KeyedReference(key string, day time.Time, loc *time.Location, probe int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s#%d", key, probe))
	n := binary.BigEndian.Uint64(sum[:8])
	var b strings.Builder
	for range referenceSuffixLen {
		b.WriteByte(referenceAlphabet[n%uint64(len(referenceAlphabet))])
		n /= uint64(len(referenceAlphabet))
	}
	return referenceFor(day, loc, b.String())
}

// IntakeKeyHash is the digest of an idempotency key kept in the case's memo.
func IntakeKeyHash(key string) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(key)))
}

func referenceFor(t time.Time, loc *time.Location, suffix string) string {
	return "CMP-" + t.In(loc).Format("20060102") + "-" + suffix
}

// WorkflowID is the Temporal workflow ID of the case with this reference.
func WorkflowID(reference string) string { return "complaint-" + reference }

// DepartmentWorkflowID is the ID of a department's investigation child workflow.
func DepartmentWorkflowID(reference string, d Department) string {
	return WorkflowID(reference) + "/dept-" + string(d)
}
