// Package telemetry sets up what every process reports about itself: its
// structured logs (with the trace context), its traces and its metrics.
package telemetry

import (
	"fmt"
	"log/slog"
	"os"
)

// NewLogger returns a JSON logger on standard error at the named level
// (debug, info, warn or error). A line logged with a context that carries a
// span has its trace_id and span_id.
func NewLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: %w", level, err)
	}
	return slog.New(NewTraceHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))), nil
}
