package main

// WARC archives (issue 11): where runs' fetches are archived, wired into
// the crawler (the runs) and the console (evidence bundles).

import (
	"fmt"
	"path/filepath"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/warcfile"
	"github.com/precwatch/precwatch/internal/yamlfile"
	"github.com/precwatch/precwatch/storage/redis"
)

// ArchiveConfig is the config's archive: section.
type ArchiveConfig struct {
	// Dir is where WARC files are written, relative to the working
	// directory. Default: "warc" beside an embedded store's file; with
	// Redis, archiving needs a directory named here.
	Dir string `yaml:"dir"`
	// MaxFileBytes closes a WARC file and starts the next once it holds
	// this many bytes (default 1 GiB).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// Disabled turns archiving off: fetch records are still kept, with
	// their bodies, in the store.
	Disabled bool `yaml:"disabled"`
}

// checkArchive validates the archive: section.
func checkArchive(doc *yamlfile.Doc, a ArchiveConfig) yamlfile.Errors {
	var errs yamlfile.Errors
	if a.MaxFileBytes < 0 {
		errs = append(errs, doc.Errorf([]any{"archive", "max_file_bytes"}, "must not be negative, got %d", a.MaxFileBytes))
	} else if a.MaxFileBytes > 0 && a.MaxFileBytes < 1<<20 {
		errs = append(errs, doc.Errorf([]any{"archive", "max_file_bytes"}, "at least 1048576 (1 MiB), got %d", a.MaxFileBytes))
	}
	return errs
}

// archiveDir is the WARC directory for cfg and store dsn: the config's,
// else beside an embedded store's file; "" with Redis and no directory
// configured (several hosts share the store, each would need one).
func archiveDir(cfg *Config, dsn string) string {
	if cfg != nil && cfg.Archive.Dir != "" {
		return cfg.Archive.Dir
	}
	if redis.IsURL(dsn) {
		return ""
	}
	if dsn == "" {
		dsn = filepath.Join("var", "precwatch.db")
	}
	return filepath.Join(filepath.Dir(dsn), "warc")
}

// archiveSetting is the archive the opened store goes with: opened when a
// run or the console first needs it, so that other commands create nothing.
type archiveSetting struct {
	cfg    *Config
	dsn    string
	opened bool
	a      *warcfile.Archive
}

// setArchive notes the config and store the command opened.
func (m *Main) setArchive(cfg *Config, dsn string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.archive = archiveSetting{cfg: cfg, dsn: dsn}
}

// warcArchive is the archive of the command's store and config, or nil
// when archiving is off (disabled, or Redis without archive.dir).
func (m *Main) warcArchive() *warcfile.Archive {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := &m.archive
	if st.opened {
		return st.a
	}
	st.opened = true
	if st.cfg != nil && st.cfg.Archive.Disabled {
		return nil
	}
	dir := archiveDir(st.cfg, st.dsn)
	if dir == "" {
		if m.logger != nil {
			m.logger.Warn("WARC archiving is off: set archive.dir in the config to archive runs with a Redis store")
		}
		return nil
	}
	var max int64
	if st.cfg != nil {
		max = st.cfg.Archive.MaxFileBytes
	}
	a, err := warcfile.New(warcfile.Options{Dir: dir, MaxFileSize: max, Software: "precwatch " + version})
	if err != nil { // only an empty directory, excluded above
		if m.logger != nil {
			m.logger.Error("WARC archiving is off", "error", fmt.Errorf("archive: %w", err))
		}
		return nil
	}
	st.a = a
	return a
}

// evidenceArchive is the console's reader of WARC records, nil without
// an archive (a nil *warcfile.Archive must not become a non-nil interface).
func (m *Main) evidenceArchive() precwatch.EvidenceArchive {
	if a := m.warcArchive(); a != nil {
		return a
	}
	return nil
}
