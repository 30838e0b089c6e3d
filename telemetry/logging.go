// Package telemetry sets up what every process reports about itself: its
// structured logs, and later its traces and metrics.
package telemetry

import (
	"fmt"
	"log/slog"
	"os"
)

// NewLogger returns a JSON logger on standard error at the named level
// (debug, info, warn or error).
func NewLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: %w", level, err)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
