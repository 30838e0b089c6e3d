// Package telemetry sets up what every process reports about itself: its
// structured logs (with the trace context), its traces and its metrics.
package telemetry

import (
	"fmt"
	"log/slog"
	"os"
)

// Logging is how a process logs, read from the environment.
type Logging struct {
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// LogFormat is json (for log collectors) or text (for a person at a
	// terminal; `make dev` asks for it when its output is one).
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
}

// NewLogger returns a logger on standard error at the configured level
// (debug, info, warn or error) and format. A line logged with a context that
// carries a span has its trace_id and span_id.
func NewLogger(cfg Logging) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: %w", cfg.LogLevel, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	switch cfg.LogFormat {
	case "json", "":
		h = slog.NewJSONHandler(os.Stderr, opts)
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	default:
		return nil, fmt.Errorf("LOG_FORMAT %q: want json or text", cfg.LogFormat)
	}
	return slog.New(NewTraceHandler(h)), nil
}
