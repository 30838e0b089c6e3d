package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// retryAfter is what a 503 asks the caller to wait: a busy moment of
// Temporal or the database usually passes within seconds.
const retryAfter = 2

// serverFault is an answer of ours that failed (5xx). The caller gets the
// problem and, on a 503, when to try again; the cause — an internal error
// that is no business of the caller's — goes only to the log, where an
// operator can find why a request failed.
type serverFault struct {
	*huma.ErrorModel
	cause error
}

// unavailable is a 503: a dependency cannot answer now; retrying is safe.
func unavailable(detail string, cause error) error {
	return &serverFault{cause: cause, ErrorModel: &huma.ErrorModel{
		Status: http.StatusServiceUnavailable, Title: http.StatusText(http.StatusServiceUnavailable), Detail: detail,
	}}
}

// unexpected is a 500: an error no mapping foresaw.
func unexpected(cause error) error {
	return &serverFault{cause: cause, ErrorModel: &huma.ErrorModel{
		Status: http.StatusInternalServerError, Title: http.StatusText(http.StatusInternalServerError),
		Detail: "unexpected error",
	}}
}

func (f *serverFault) Unwrap() error { return f.cause }

// GetHeaders makes huma send Retry-After with a 503.
func (f *serverFault) GetHeaders() http.Header {
	if f.Status != http.StatusServiceUnavailable {
		return nil
	}
	return http.Header{"Retry-After": {strconv.Itoa(retryAfter)}}
}

// logFaults is a huma transformer: it logs a server fault's cause with the
// request it failed, and answers the problem alone.
func logFaults(log func() *slog.Logger) huma.Transformer {
	return func(ctx huma.Context, _ string, v any) (any, error) {
		var f *serverFault
		err, ok := v.(error)
		if !ok || !errors.As(err, &f) {
			return v, nil
		}
		level := slog.LevelError
		if f.Status == http.StatusServiceUnavailable {
			level = slog.LevelWarn
		}
		log().Log(ctx.Context(), level, "request failed", "operation", ctx.Operation().OperationID,
			"method", ctx.Method(), "path", ctx.URL().Path, "status", f.Status, "detail", f.Detail, "cause", f.cause)
		return f.ErrorModel, nil
	}
}
