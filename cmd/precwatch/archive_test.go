package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveConfig (issue 11): the archive: section is checked, with the
// file and line, and its directory defaults beside an embedded store.
func TestArchiveConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ section, want string }{
		{"archive: {max_file_bytes: -1}\n", ":7:11: archive.max_file_bytes: must not be negative, got -1"},
		{"archive:\n  max_file_bytes: 1000\n", ":8:3: archive.max_file_bytes: at least 1048576 (1 MiB), got 1000"},
	} {
		config := siteConfig(t, "", "") + tc.section
		_, err := ParseConfig(writeFile(t, dir, "c.yaml", config), []byte(config))
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "c.yaml")+tc.want) {
			t.Errorf("ParseConfig(%q) = %v, want %q", tc.section, err, tc.want)
		}
	}
	config := siteConfig(t, "", "") + "archive: {dir: /srv/warc, max_file_bytes: 2097152}\n"
	cfg, err := ParseConfig(writeFile(t, dir, "c.yaml", config), []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Archive.Dir != "/srv/warc" || cfg.Archive.MaxFileBytes != 2<<20 {
		t.Errorf("archive = %+v", cfg.Archive)
	}
	for _, c := range []struct {
		cfg       *Config
		dsn, want string
	}{
		{cfg, "var/precwatch.db", "/srv/warc"},
		{&Config{}, "data/precwatch.db", "data/warc"},
		{&Config{}, "redis://127.0.0.1:6379/0", ""},
		{cfg, "redis://127.0.0.1:6379/0", "/srv/warc"},
	} {
		if got := archiveDir(c.cfg, c.dsn); got != c.want {
			t.Errorf("archiveDir(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
}
