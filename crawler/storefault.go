package crawler

// Store faults (issue 9): a store write that fails (Redis down, paused or
// restarting past the store's own retries) stops and fails the run, and is
// logged at error level, not debug, so an operator sees it.

import (
	"context"
	"errors"
	"log/slog"
)

// storeFailed notes a failed store write and returns err. Writes cut short
// because the run itself was cancelled are not store faults.
func (r *run) storeFailed(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if r.ctx != nil && r.ctx.Err() != nil {
			return err
		}
	}
	r.mu.Lock()
	first := r.storeErr == nil
	if first {
		r.storeErr = err
	}
	r.mu.Unlock()
	level := slog.LevelWarn
	if first {
		level = slog.LevelError
	}
	r.c.logger.Log(context.Background(), level, "store write failed", "run_id", r.rec.ID, "error", err)
	// The store retried for as long as it was told to: every further
	// write would fail the same way, so the run stops here, as it does
	// when its proxy is unreachable.
	if first && r.cancel != nil {
		r.cancel()
	}
	return err
}
