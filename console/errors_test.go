package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request its client abandoned (a sign-in page closed while bcrypt ran)
// is not an internal error: it is logged at debug, not error, while a real
// failure still is.
func TestFailLogsCancelledAtDebug(t *testing.T) {
	var logs bytes.Buffer
	s, err := New(Options{Store: openStore(t), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := httptest.NewRequest("POST", "/login", nil).WithContext(ctx)
	s.fail(httptest.NewRecorder(), r, fmt.Errorf("console: login: %w", context.Canceled))
	if got := logs.String(); strings.Contains(got, "level=ERROR") || !strings.Contains(got, "cancelled by the client") {
		t.Errorf("cancelled request logged:\n%s", got)
	}
	logs.Reset()
	r = httptest.NewRequest("POST", "/login", nil)
	s.fail(httptest.NewRecorder(), r, fmt.Errorf("console: login: %w", errors.New("disk full")))
	if got := logs.String(); !strings.Contains(got, "level=ERROR") {
		t.Errorf("internal error logged as:\n%s", got)
	}
}

func TestFormatScore(t *testing.T) {
	for in, want := range map[float64]string{71: "71", 68.5: "68.5", 0: "0", 99.94999: "99.9", 100: "100"} {
		if got := formatScore(in); got != want {
			t.Errorf("formatScore(%v) = %q, want %q", in, got, want)
		}
	}
}
