package redis

import (
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestRetryWhileRedisRestarts: a Record issued while Redis is down
// succeeds once Redis is back within retry_for, and the alert it raised
// is there exactly once.
func TestRetryWhileRedisRestarts(t *testing.T) {
	srv := redistest.StartServer(t)
	s := open(t, srv.URL()+"?prefix=retry&retry_for=30s")
	defer s.Close()
	ctx := t.Context()
	srv.Stop()
	o := storetest.Synthetic(1, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))[0]
	done := make(chan error, 1)
	go func() {
		_, err := s.Record(ctx, o)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Record returned while Redis was down: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Record after Redis came back: %v", err)
	}
	as, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil || len(as) != 1 {
		t.Errorf("alerts after the restart: %d, %v; want 1", len(as), err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// TestRetryGivesUp: with Redis gone for longer than retry_for, writes fail
// with an error saying so, and Ping reports it.
func TestRetryGivesUp(t *testing.T) {
	srv := redistest.StartServer(t)
	s := open(t, srv.URL()+"?prefix=giveup&retry_for=300ms&max_retries=-1")
	defer s.Close()
	ctx := t.Context()
	srv.Stop()
	err := s.SaveRun(ctx, precwatch.Run{ID: "r", Site: "s", Start: time.Now(), Status: precwatch.RunRunning})
	if err == nil || !strings.Contains(err.Error(), "redis unreachable for") {
		t.Errorf("SaveRun with Redis gone: %v; want an unreachable error", err)
	}
	if !transient(err) {
		t.Errorf("transient(%v) = false", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping with Redis gone succeeded")
	}
	for _, e := range []error{nil, precwatch.ErrNotFound, precwatch.ErrInvalid} {
		if transient(e) {
			t.Errorf("transient(%v) = true", e)
		}
	}
}
