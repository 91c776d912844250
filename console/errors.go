package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
)

// Error codes shown to users.
const (
	EINVALID      = "EINVALID"
	ENOTFOUND     = "ENOTFOUND"
	EFORBIDDEN    = "EFORBIDDEN"
	EUNAUTHORIZED = "EUNAUTHORIZED"
	ECONFLICT     = "ECONFLICT"
	EINTERNAL     = "EINTERNAL"
	// ETHROTTLED: too many failed sign-ins; wait Error.RetryAfter.
	ETHROTTLED = "ETHROTTLED"
)

// codes maps each error code to its HTTP status: the one table.
var codes = map[string]int{
	EINVALID:      http.StatusBadRequest,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
	EINTERNAL:     http.StatusInternalServerError,
	ETHROTTLED:    http.StatusTooManyRequests,
}

// Error is an error a user may see: a code and a message written for them.
type Error struct {
	Code    string
	Message string
	// Fields are the problems of a submitted watchlist, if any.
	Fields []FieldError
	// RetryAfter is how long a throttled client must wait (ETHROTTLED).
	RetryAfter time.Duration
}

// setRetryAfter sends e's wait, if any, as a Retry-After header in whole
// seconds, rounded up.
func setRetryAfter(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
}

// Error returns the code and message.
func (e *Error) Error() string { return fmt.Sprintf("console: %s: %s", e.Code, e.Message) }

// errorf returns an *Error with a formatted message.
func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// sentinels classifies the store's errors; their text after the sentinel is
// about the request, so it is safe to show.
var sentinels = []struct {
	err  error
	code string
}{
	{precwatch.ErrInvalid, EINVALID},
	{precwatch.ErrNotFound, ENOTFOUND},
	{precwatch.ErrConflict, ECONFLICT},
	{precwatch.ErrChanged, ECONFLICT},
}

// userError returns the code and the message a user may see for err;
// anything unclassified is EINTERNAL with a fixed message.
func userError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, s := range sentinels {
		if !errors.Is(err, s.err) {
			continue
		}
		msg := err.Error()
		if i := strings.LastIndex(msg, s.err.Error()); i >= 0 {
			msg = strings.TrimPrefix(msg[i+len(s.err.Error()):], ": ")
		}
		if msg == "" {
			msg = strings.TrimPrefix(s.err.Error(), "precwatch: ")
		}
		return &Error{Code: s.code, Message: msg}
	}
	return &Error{Code: EINTERNAL, Message: "Internal error."}
}

// fail answers a request that failed: JSON under /api/, an error page
// otherwise. Internal errors are logged with their detail, which the user
// never sees.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away (a sign-in or a page closed mid-request):
		// nobody reads the answer and nothing failed on this side.
		s.logger.DebugContext(r.Context(), "request cancelled by the client", "method", r.Method, "path", r.URL.Path)
		return
	}
	e := userError(err)
	status := codes[e.Code]
	if e.Code == EINTERNAL {
		s.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	setRetryAfter(w, e)
	if isAPI(r) {
		writeJSON(w, status, map[string]any{"error": map[string]any{
			"code": e.Code, "message": e.Message, "fields": e.Fields,
		}})
		return
	}
	if e.Code == EUNAUTHORIZED && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if e.Code == EUNAUTHORIZED {
		if d := pendingDraft(r); d != nil {
			// The session ended while a note or reason was being typed:
			// sign in on the spot, the text carried through the login form.
			s.render(w, r, status, "login", &loginView{Next: "/alerts/" + d.Key, Error: e.Message, Draft: d})
			return
		}
	}
	s.render(w, r, status, "error", &errorPage{Code: e.Code, Message: e.Message, Fields: e.Fields})
}

type errorPage struct {
	Code    string
	Message string
	Fields  []FieldError
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// writeJSON writes v as the JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}
