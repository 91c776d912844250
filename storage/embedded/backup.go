package embedded

// Backups: a consistent copy of the store taken while the daemon and other
// processes keep writing to it. Copying the file is not one: a WAL-mode
// database is the file plus its -wal, and a copy taken between a commit
// and a checkpoint holds half of either.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// BackupInfo describes a backup Backup wrote and checked.
type BackupInfo struct {
	Path     string `json:"path"`
	Bytes    int64  `json:"bytes"`
	Schema   int    `json:"schema"`
	Listings int64  `json:"listings"`
	Alerts   int64  `json:"alerts"`
	Pages    int64  `json:"pages"`
	Runs     int64  `json:"runs"`
}

// Backup writes a copy of the store to dst, which must not exist. VACUUM
// INTO copies one read snapshot of the database: in WAL mode a reader
// neither waits for writers nor makes them wait, so crawls in this and
// other processes go on, and the copy holds every transaction committed
// before the snapshot and none after (a page with its listings, alerts
// and events, or none of them). The copy is written beside dst under a
// temporary name, synced, checked (integrity_check, the schema version)
// and only then renamed to dst, so dst is a whole, checked backup or
// absent.
func (s *Store) Backup(ctx context.Context, dst string) (BackupInfo, error) {
	if dst == "" {
		return BackupInfo{}, errors.New("embedded: backup: empty destination")
	}
	if _, err := os.Lstat(dst); err == nil {
		return BackupInfo{}, fmt.Errorf("embedded: backup: %s already exists", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return BackupInfo{}, fmt.Errorf("embedded: backup: %w", err)
	}
	dir := filepath.Dir(dst)
	tmpf, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("embedded: backup: %w", err)
	}
	tmp := tmpf.Name()
	// VACUUM INTO refuses an existing non-empty file; the empty one only
	// reserves the name with mode 0600 (the store holds sessions' secrets).
	tmpf.Close()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("embedded: backup to %s: %w", dst, err)
	}
	if err := syncFile(tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("embedded: backup to %s: %w", dst, err)
	}
	info, err := CheckBackup(ctx, tmp)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("embedded: backup to %s: %w", dst, err)
	}
	// A link, not a rename: it fails if dst appeared meanwhile, where a
	// rename would replace it.
	if err := os.Link(tmp, dst); err != nil {
		return BackupInfo{}, fmt.Errorf("embedded: backup: %w", err)
	}
	if err := syncFile(dir); err != nil {
		return BackupInfo{}, fmt.Errorf("embedded: backup: %w", err)
	}
	info.Path = dst
	return info, nil
}

// CheckBackup opens the database file at path read-only and checks it:
// SQLite's integrity_check, and a schema version this program knows. It
// returns what the file holds.
func CheckBackup(ctx context.Context, path string) (BackupInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check backup: %w", err)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check backup %s: %w", path, err)
	}
	defer db.Close()
	info := BackupInfo{Path: path, Bytes: st.Size()}
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return BackupInfo{}, fmt.Errorf("check backup %s: integrity_check: %w", path, err)
	}
	if result != "ok" {
		return BackupInfo{}, fmt.Errorf("check backup %s: integrity_check: %s", path, result)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&info.Schema); err != nil {
		return BackupInfo{}, fmt.Errorf("check backup %s: schema version: %w", path, err)
	}
	if info.Schema != len(migrations) {
		return BackupInfo{}, fmt.Errorf("check backup %s: schema version %d, this program's is %d", path, info.Schema, len(migrations))
	}
	for _, c := range []struct {
		table string
		n     *int64
	}{{"listings", &info.Listings}, {"alerts", &info.Alerts}, {"pages", &info.Pages}, {"runs", &info.Runs}} {
		// The table names are ours, not input.
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+c.table).Scan(c.n); err != nil {
			return BackupInfo{}, fmt.Errorf("check backup %s: count %s: %w", path, c.table, err)
		}
	}
	return info, nil
}

// syncFile flushes a file, or a directory's entries, to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
