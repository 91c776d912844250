package embedded

// Scale-out (issue 9): a run lease per site, in the leases table, taken
// and renewed in write transactions, so that processes sharing the file
// (on one machine) run one crawl of a site at a time.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/precwatch/precwatch"
)

var _ precwatch.LeaseStore = (*Store)(nil)

type leaseRow struct {
	holder, runID string
	token         int64
	expires       int64
	released      bool
}

func getLease(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, site string) (*leaseRow, error) {
	var r leaseRow
	err := q.QueryRowContext(ctx, "SELECT holder, token, run_id, expires_at, released FROM leases WHERE site = ?", site).
		Scan(&r.holder, &r.token, &r.runID, &r.expires, &r.released)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *leaseRow) lease(site string) precwatch.Lease {
	return precwatch.Lease{Site: site, Holder: r.holder, Token: r.token, RunID: r.runID,
		Expires: time.Unix(0, r.expires).UTC(), Released: r.released}
}

func (r *leaseRow) held(now time.Time) bool { return !r.released && r.expires > now.UnixNano() }

// AcquireLease takes site's lease; see precwatch.LeaseStore.
func (s *Store) AcquireLease(ctx context.Context, site, holder string, ttl time.Duration) (precwatch.Lease, error) {
	if err := precwatch.ValidLease(site, holder, ttl); err != nil {
		return precwatch.Lease{}, fmt.Errorf("embedded: acquire lease: %w", err)
	}
	var out precwatch.Lease
	var held bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		prev, err := getLease(ctx, tx, site)
		if err != nil {
			return err
		}
		if prev != nil && prev.held(now) {
			out, held = prev.lease(site), true
			return nil
		}
		var token int64 = 1
		if prev != nil {
			token = prev.token + 1
		}
		exp := now.Add(ttl)
		if _, err := tx.ExecContext(ctx, `
INSERT INTO leases (site, holder, token, run_id, expires_at, released) VALUES (?, ?, ?, '', ?, 0)
ON CONFLICT (site) DO UPDATE SET holder = excluded.holder, token = excluded.token, run_id = '',
	expires_at = excluded.expires_at, released = 0`, site, holder, token, exp.UnixNano()); err != nil {
			return err
		}
		out = precwatch.Lease{Site: site, Holder: holder, Token: token, Expires: exp.UTC()}
		if prev != nil {
			p := prev.lease(site)
			out.Previous = &p
		}
		return nil
	})
	if err != nil {
		return precwatch.Lease{}, fmt.Errorf("embedded: acquire lease %s: %w", site, err)
	}
	if held {
		return out, fmt.Errorf("embedded: acquire lease %s: held by %s: %w", site, out.Holder, precwatch.ErrLeaseHeld)
	}
	return out, nil
}

// RenewLease extends l; see precwatch.LeaseStore.
func (s *Store) RenewLease(ctx context.Context, l precwatch.Lease, ttl time.Duration) (precwatch.Lease, error) {
	if err := precwatch.ValidLease(l.Site, l.Holder, ttl); err != nil {
		return precwatch.Lease{}, fmt.Errorf("embedded: renew lease: %w", err)
	}
	var out precwatch.Lease
	lost := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := getLease(ctx, tx, l.Site)
		if err != nil {
			return err
		}
		// The token is the site's latest as long as nobody took the lease
		// since, even when it expired.
		if cur == nil || cur.holder != l.Holder || cur.token != l.Token || cur.released {
			lost = true
			return nil
		}
		exp := time.Now().Add(ttl)
		if _, err := tx.ExecContext(ctx, "UPDATE leases SET expires_at = ?, run_id = ? WHERE site = ?",
			exp.UnixNano(), l.RunID, l.Site); err != nil {
			return err
		}
		out = precwatch.Lease{Site: l.Site, Holder: l.Holder, Token: l.Token, RunID: l.RunID, Expires: exp.UTC()}
		return nil
	})
	if err != nil {
		return precwatch.Lease{}, fmt.Errorf("embedded: renew lease %s: %w", l.Site, err)
	}
	if lost {
		return precwatch.Lease{}, fmt.Errorf("embedded: renew lease %s (token %d): %w", l.Site, l.Token, precwatch.ErrLeaseLost)
	}
	return out, nil
}

// ReleaseLease gives l back; see precwatch.LeaseStore.
func (s *Store) ReleaseLease(ctx context.Context, l precwatch.Lease) error {
	res, err := s.db.ExecContext(ctx, `
UPDATE leases SET released = 1 WHERE site = ? AND holder = ? AND token = ? AND released = 0 AND expires_at > ?`,
		l.Site, l.Holder, l.Token, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("embedded: release lease %s: %w", l.Site, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("embedded: release lease %s (token %d): %w", l.Site, l.Token, precwatch.ErrLeaseLost)
	}
	return nil
}

// CurrentLease returns site's held lease, or ErrNotFound.
func (s *Store) CurrentLease(ctx context.Context, site string) (precwatch.Lease, error) {
	cur, err := getLease(ctx, s.db, site)
	if err != nil {
		return precwatch.Lease{}, fmt.Errorf("embedded: lease %s: %w", site, err)
	}
	if cur == nil || !cur.held(time.Now()) {
		return precwatch.Lease{}, fmt.Errorf("embedded: lease %s: %w", site, precwatch.ErrNotFound)
	}
	return cur.lease(site), nil
}
