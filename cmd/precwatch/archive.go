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
	// directory. Default: "warc" beside an embedded store's file, else
	// var/warc.
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

// archiveDir is the WARC directory for cfg and store dsn.
func archiveDir(cfg *Config, dsn string) string {
	if cfg != nil && cfg.Archive.Dir != "" {
		return cfg.Archive.Dir
	}
	if dsn == "" || redis.IsURL(dsn) {
		return filepath.Join("var", "warc")
	}
	return filepath.Join(filepath.Dir(dsn), "warc")
}

// openArchive opens the WARC archive for cfg and store dsn; nil when the
// config turns it off.
func (m *Main) openArchive(cfg *Config, dsn string) (*warcfile.Archive, error) {
	if cfg != nil && cfg.Archive.Disabled {
		return nil, nil
	}
	var max int64
	if cfg != nil {
		max = cfg.Archive.MaxFileBytes
	}
	a, err := warcfile.New(warcfile.Options{Dir: archiveDir(cfg, dsn), MaxFileSize: max, Software: "precwatch " + version})
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	m.mu.Lock()
	m.archive = a
	m.mu.Unlock()
	return a, nil
}

// warcArchive is the archive the command opened with its store, or nil.
func (m *Main) warcArchive() *warcfile.Archive {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.archive
}

// evidenceArchive is the console's reader of WARC records, nil without
// an archive (a nil *warcfile.Archive must not become a non-nil interface).
func (m *Main) evidenceArchive() precwatch.EvidenceArchive {
	if a := m.warcArchive(); a != nil {
		return a
	}
	return nil
}
