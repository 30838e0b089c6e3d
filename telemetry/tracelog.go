package telemetry

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Keys of the trace context on a log line, as OpenTelemetry's log data model
// names them. (Lines the Temporal SDK logs inside a workflow or an activity
// carry its own TraceID and SpanID keys as well.)
const (
	LogKeyTraceID = "trace_id"
	LogKeySpanID  = "span_id"
)

// TraceHandler adds the trace id and span id of the span in a record's
// context to every line logged with that context (logger.InfoContext(ctx, ...)),
// so that a log line leads to its trace and back.
type TraceHandler struct {
	next slog.Handler
}

// NewTraceHandler wraps next. Wrapping a TraceHandler again returns it as is.
func NewTraceHandler(next slog.Handler) slog.Handler {
	if h, ok := next.(*TraceHandler); ok {
		return h
	}
	return &TraceHandler{next: next}
}

// WithTrace returns logger with its handler wrapped by NewTraceHandler.
func WithTrace(logger *slog.Logger) *slog.Logger {
	if _, ok := logger.Handler().(*TraceHandler); ok {
		return logger
	}
	return slog.New(NewTraceHandler(logger.Handler()))
}

func (h *TraceHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *TraceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String(LogKeyTraceID, sc.TraceID().String()), slog.String(LogKeySpanID, sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

func (h *TraceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &TraceHandler{next: h.next.WithAttrs(attrs)}
}

func (h *TraceHandler) WithGroup(name string) slog.Handler {
	return &TraceHandler{next: h.next.WithGroup(name)}
}
