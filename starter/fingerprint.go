package starter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// ErrKeyReused is an idempotency key submitted again with another body
// (the IETF Idempotency-Key draft answers 422).
var ErrKeyReused = errors.New("this idempotency key was used before with a different body")

// checkBody refuses a keyed submission whose body differs from the one the
// key was first submitted with. The body is compared as decoded, so a
// repeat that only spaces or orders its JSON differently is the same.
func (s *Starter) checkBody(ctx context.Context, keyHash string, in complaint.Intake) error {
	canonical, err := json.Marshal(in)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(canonical)
	same, err := s.opts.IntakeKeys.MatchIntakeBody(ctx, keyHash, hex.EncodeToString(sum[:]))
	switch {
	case err != nil:
		return fmt.Errorf("%w: intake keys: %w", ErrUnavailable, err)
	case !same:
		return ErrKeyReused
	}
	return nil
}
