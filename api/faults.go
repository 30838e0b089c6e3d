package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/sdk/temporal"
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
		logFault(ctx.Context(), log(), f.Status, f.Detail, f.cause, "operation", ctx.Operation().OperationID,
			"method", ctx.Method(), "path", ctx.URL().Path)
		return f.ErrorModel, nil
	}
}

// writeFault answers a request the API failed outside huma's operations
// (authentication, the codec server) as logFaults does inside them.
func writeFault(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, detail string, cause error) {
	logFault(r.Context(), log, status, detail, cause, "method", r.Method, "path", r.URL.Path)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	writeProblem(w, status, detail)
}

// logFault logs a failed answer: ERROR for a 500, WARN for a 503, and only
// DEBUG when the caller went away first (its own cancellation is the cause).
func logFault(ctx context.Context, log *slog.Logger, status int, detail string, cause error, attrs ...any) {
	level := slog.LevelError
	switch {
	case ctx.Err() != nil:
		level = slog.LevelDebug
	case status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	}
	log.Log(ctx, level, "request failed", append(attrs, "status", status, "detail", detail, "cause", safeCause(cause))...)
}

// safeCause is what the log may keep of an internal error. The errors of a
// case's workflow reach the API decrypted and may quote the customer
// (an activity's failure, a rejected update's message): of those only the
// type is logged. A URL's query (an address looked up) is left out.
func safeCause(err error) string {
	var (
		app    *temporal.ApplicationError
		urlErr *url.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &app):
		return "application error of type " + strconv.Quote(app.Type())
	case errors.As(err, &urlErr):
		u, perr := url.Parse(urlErr.URL)
		where := "a URL"
		if perr == nil {
			where = u.Scheme + "://" + u.Host + u.Path
		}
		return urlErr.Op + " " + where + ": " + safeCause(urlErr.Err)
	}
	return err.Error()
}
