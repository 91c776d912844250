package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/redis"
)

// runBackup is `precwatch backup --out FILE`: a consistent, checked copy of
// the embedded store, taken while the daemon and crawls keep writing.
// Redis keeps its own persistence (RDB snapshots, AOF), which is where a
// Redis store is backed up.
func (m *Main) runBackup(ctx context.Context, args []string) error {
	fs := m.flags("backup")
	out := fs.String("out", "", "the backup file to write (must not exist)")
	asJSON := fs.Bool("json", false, "print what was written as JSON")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return &exitError{code: 2, err: errors.New("backup: --out FILE is required")}
	}
	dsn := m.storeDSN(nil)
	if dsn == "" {
		cfg, err := LoadConfig(m.ConfigPath)
		if err != nil {
			return err
		}
		dsn = cmp.Or(m.storeDSN(cfg), filepath.Join("var", "precwatch.db"))
	}
	if redis.IsURL(dsn) {
		return &exitError{code: 2, err: errors.New("backup: the store is Redis, which backs itself up: " +
			"copy the dump.rdb a BGSAVE writes, or the AOF files (see README, Backups)")}
	}
	// Opening a missing file would create an empty store, and back it up.
	if err := storeExists(dsn); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	m.StoreDSN = dsn
	store, err := m.openStoreOnly(ctx, false) // its existence checked above, named as the backup's
	if err != nil {
		return err
	}
	info, err := store.(*embedded.Store).Backup(ctx, *out)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(info)
	}
	fmt.Fprintf(m.Stdout, "backup %s: %d bytes, schema %d, integrity ok: %d listings, %d alerts, %d pages, %d runs\n",
		info.Path, info.Bytes, info.Schema, info.Listings, info.Alerts, info.Pages, info.Runs)
	return nil
}
