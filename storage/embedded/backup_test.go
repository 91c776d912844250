package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestBackup: a backup opens as a store holding the same alerts, each with
// its evidence; an existing destination is never replaced; a damaged file
// fails the check.
func TestBackup(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "precwatch.db"))
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		p, obs := storetest.EvidenceBatch("silkvault", at.Add(time.Duration(i)*time.Hour), fmt.Sprintf("B%d", 2*i), fmt.Sprintf("B%d", 2*i+1))
		if _, err := s.RecordPage(ctx, p, obs); err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil || len(want) == 0 {
		t.Fatalf("alerts before the backup: %d, %v", len(want), err)
	}

	dst := filepath.Join(dir, "backup.db")
	info, err := s.Backup(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if info.Path != dst || info.Alerts != int64(len(want)) || info.Listings != 6 || info.Pages != 3 || info.Schema != len(migrations) || info.Bytes == 0 {
		t.Errorf("backup info %+v, want %d alerts, 6 listings, 3 pages, schema %d", info, len(want), len(migrations))
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v (%v), want 0600: it holds sessions' cookies", fi.Mode().Perm(), err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".backup.db.*")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	b := open(t, dst)
	got, err := b.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("backup holds %d alerts, want %d", len(got), len(want))
	}
	storetest.EvidenceOf(t, b)
	b.Close()

	// An existing file is never replaced, by name or by a link to it.
	if err := os.WriteFile(filepath.Join(dir, "keep.db"), []byte("not a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(ctx, filepath.Join(dir, "keep.db")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup over an existing file: %v, want an 'already exists' error", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep.db")); string(b) != "not a backup" {
		t.Errorf("the existing file was changed: %q", b)
	}

	// A damaged copy fails the check.
	raw, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckBackup(ctx, bad); err == nil {
		t.Error("CheckBackup of a truncated file passed")
	}
}

// TestBackupWhileWriting: backups taken while other connections record
// pages each hold whole pages only (every alert with its evidence page,
// every listing of a page or none) and never fewer alerts than an earlier
// backup; the writers never fail because of them.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "precwatch.db")
	s := open(t, path)
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	const writers, pages = 3, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		// Each writer its own store handle, as another process would have.
		ws := open(t, path)
		defer ws.Close()
		wg.Go(func() {
			for i := range pages {
				p, obs := storetest.EvidenceBatch("silkvault", at.Add(time.Duration(i)*time.Minute), fmt.Sprintf("W%d-%d-a", w, i), fmt.Sprintf("W%d-%d-b", w, i))
				if _, err := ws.RecordPage(ctx, p, obs); err != nil {
					errs <- err
					return
				}
				time.Sleep(40 * time.Millisecond) // a crawl's pace, so that backups overlap the writes
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var last int64
	midway := 0
	for i, finished := 0, false; !finished; i++ {
		select {
		case <-done:
			finished = true // one more backup, of everything
		default:
		}
		dst := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		info, err := s.Backup(ctx, dst)
		if err != nil {
			t.Fatal(err)
		}
		if info.Alerts < last {
			t.Errorf("backup %d holds %d alerts, fewer than the %d of an earlier one", i, info.Alerts, last)
		}
		last = info.Alerts
		if info.Listings%2 != 0 || info.Alerts != 2*info.Listings {
			t.Errorf("backup %d holds %d listings and %d alerts: part of a page", i, info.Listings, info.Alerts)
		}
		if info.Listings > 0 && info.Listings < writers*pages*2 {
			midway++
		}
		b := open(t, dst)
		storetest.EvidenceOf(t, b)
		b.Close()
		t.Logf("backup %d: %d listings, %d alerts", i, info.Listings, info.Alerts)
	}
	close(errs)
	for err := range errs {
		t.Errorf("writer: %v", err)
	}
	if midway < 2 {
		t.Errorf("%d backups were taken while the writers ran, want 2 or more", midway)
	}
	if last != writers*pages*2*2 {
		t.Errorf("last backup holds %d alerts, want %d", last, writers*pages*2*2)
	}
}

// TestStoreFileMode: a new store, and the WAL files SQLite makes beside it,
// are readable by their owner only (sessions' cookies, password hashes).
func TestStoreFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "precwatch.db")
	s := open(t, path)
	defer s.Close()
	p, obs := storetest.EvidenceBatch("silkvault", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), "M1")
	if _, err := s.RecordPage(context.Background(), p, obs); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
		}
	}
}
