package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler"
	"github.com/precwatch/precwatch/crawler/extract"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// Config is the precwatch configuration file.
type Config struct {
	// Watchlist is the watchlist file, relative to the config file.
	Watchlist string `yaml:"watchlist"`
	// Store is the default store: an embedded file path (relative to the
	// working directory) or a redis:// URL. The --store flag overrides it.
	Store string `yaml:"store"`
	// Sites are the monitored marketplaces.
	Sites []precwatch.Site `yaml:"sites"`
	// Export configures the MISP and STIX exports (issue 11).
	Export ExportConfig `yaml:"export"`
	// Severity is the severity policy (issue 12): what it sets is merged
	// over precwatch.DefaultSeverityPolicy, map key by map key.
	Severity precwatch.SeverityPolicy `yaml:"severity"`
	// Webhooks are where alert events are delivered (issue 11, webhooks.go).
	Webhooks []WebhookConfig `yaml:"webhooks"`
	// Archive is where runs' fetches are written as WARC (issue 11).
	Archive ArchiveConfig `yaml:"archive"`
	// Retention is how long fetch records, page bodies and runs are kept,
	// and when the daemon prunes (retention.go).
	Retention RetentionConfig `yaml:"retention"`

	path string // the file it was read from
	// missingWatchlist names the watchlist line when its file is not
	// there (LoadConfig's error).
	missingWatchlist error
	doc              *yamlfile.Doc // its positions, for errors found once the watchlist is read
	// watchlistSum is the SHA-256 of the watchlist file as loaded with this
	// config (or saved from the console since): a save refuses to write
	// over a valid hand edit not yet in force.
	watchlistSum [sha256.Size]byte
}

// checkWatchlist reports what of the config names substances wl does not
// hold: a severity family member spelt wrong would never raise anything.
func (c *Config) checkWatchlist(wl *precwatch.Watchlist) error {
	ids := make(map[string]bool, len(wl.Substances))
	for _, s := range wl.Substances {
		ids[s.ID] = true
	}
	// Only the families the config wrote: the defaults name the reference
	// watchlist's substances, which a deployment's own watchlist may lack.
	defaults := precwatch.DefaultSeverityPolicy().Families
	var errs yamlfile.Errors
	for _, name := range slices.Sorted(maps.Keys(c.Severity.Families)) {
		if slices.Equal(c.Severity.Families[name], defaults[name]) || c.doc == nil {
			continue
		}
		for i, id := range c.Severity.Families[name] {
			if !ids[id] {
				errs = append(errs, c.doc.Errorf([]any{"severity", "families", name, i}, "no substance %q in the watchlist %s", id, c.WatchlistPath()))
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// WatchlistPath resolves the watchlist file against the config's directory.
func (c *Config) WatchlistPath() string {
	if c.Watchlist == "" || filepath.IsAbs(c.Watchlist) {
		return c.Watchlist
	}
	return filepath.Join(filepath.Dir(c.path), c.Watchlist)
}

// Site returns the named site.
func (c *Config) Site(name string) (precwatch.Site, bool) {
	for _, s := range c.Sites {
		if s.Name == name {
			return s, true
		}
	}
	return precwatch.Site{}, false
}

// LoadConfig reads and validates a config file. Every error names the file,
// the line, the column and the field, with secrets redacted.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(path, data)
	if err == nil && cfg.missingWatchlist != nil {
		return nil, cfg.missingWatchlist
	}
	return cfg, err
}

// ParseConfig parses and validates config data read from path.
func ParseConfig(path string, data []byte) (*Config, error) {
	cfg := &Config{path: path, Severity: precwatch.DefaultSeverityPolicy()}
	doc, err := yamlfile.DecodeWith(path, data, cfg, configSources)
	if err != nil {
		return nil, err
	}
	var errs yamlfile.Errors
	if cfg.Watchlist == "" {
		errs = append(errs, doc.Errorf([]any{"watchlist"}, "required: the watchlist file"))
	} else if _, err := os.Stat(cfg.WatchlistPath()); errors.Is(err, fs.ErrNotExist) {
		// Kept for LoadConfig: ParseConfig also checks config text alone.
		cfg.missingWatchlist = doc.Errorf([]any{"watchlist"}, "no file %s (a relative path is to the config's directory; the project's is configs/watchlist.yaml)", cfg.WatchlistPath())
	}
	if len(cfg.Sites) == 0 {
		errs = append(errs, doc.Errorf([]any{"sites"}, "at least one site is required"))
	}
	names := map[string]int{}
	for i, s := range cfg.Sites {
		at := func(field ...any) []any { return append([]any{"sites", i}, field...) }
		if s.Name == "" {
			errs = append(errs, doc.Errorf(at("name"), "required"))
		} else if j, dup := names[s.Name]; dup {
			errs = append(errs, doc.Errorf(at("name"), "site %q already defined at sites[%d]", s.Name, j))
		}
		names[s.Name] = i
		if len(s.StartURLs) == 0 {
			errs = append(errs, doc.Errorf(at("start_urls"), "at least one start URL is required"))
		}
		for j, raw := range s.StartURLs {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, doc.Errorf(at("start_urls", j), "not an absolute http(s) URL: %q", raw))
			}
		}
		// No schedule: crawled only on demand (crawler.OnDemand).
		if !crawler.OnDemand(s) {
			if _, err := crawler.ParseSchedule(s.Schedule); err != nil {
				errs = append(errs, doc.Errorf(at("schedule"), "bad cron spec %q: %v", s.Schedule, errors.Unwrap(err)))
			}
		}
		if p := s.ProxyURL(); p != "" {
			u, err := url.Parse(p)
			if err != nil || (u.Scheme != "socks5" && u.Scheme != "socks5h") || u.Host == "" {
				errs = append(errs, doc.Errorf(at("proxy"), "want a socks5://host:port URL, got %q", p))
			}
		}
		if s.Charset != "" {
			if _, err := crawler.SiteCharset(s.Charset); err != nil {
				errs = append(errs, doc.Errorf(at("charset"), "%v", err))
			}
		}
		if name, err := crawler.CheckHeaders(s.Politeness.Headers); err != nil {
			errs = append(errs, doc.Errorf(at("politeness", "headers", name), "%v", err))
		}
		errs = append(errs, negativeNumbers(doc, i, s)...)
		errs = append(errs, checkSessionConfig(doc, s, at)...) // Sessions (issue 8)
		errs = append(errs, checkCircuitsMirrors(doc, at, s)...)
		switch s.Extract.Mode {
		case "", precwatch.ExtractSelectors, precwatch.ExtractJSONLD, precwatch.ExtractJSON:
			if _, err := extract.New(s.Extract); err != nil {
				// At the rule's own line: sites[0].extract.detail.price.
				var fe *extract.FieldError
				if errors.As(err, &fe) {
					errs = append(errs, doc.ErrorAt(yamlfile.FieldName(at("extract")...)+"."+fe.Field, fe.Err.Error()))
				} else {
					errs = append(errs, doc.Errorf(at("extract"), "%v", strings.TrimPrefix(err.Error(), "extract: ")))
				}
			}
		default:
			errs = append(errs, doc.Errorf(at("extract"), "unknown extraction mode %q (want selectors, jsonld or json)", s.Extract.Mode))
		}
	}
	errs = append(errs, checkExportConfig(doc, cfg.Export)...) // MISP/STIX export (issue 11)
	for _, p := range cfg.Severity.Problems() {
		errs = append(errs, doc.Errorf(append([]any{"severity"}, p.Path...), "%s", p.Msg))
	}
	errs = append(errs, checkWebhooks(doc, cfg)...)        // Delivery (issue 11)
	errs = append(errs, checkArchive(doc, cfg.Archive)...) // issue 11
	errs = append(errs, checkRetention(doc, &cfg.Retention)...)
	if len(errs) > 0 {
		return nil, errs
	}
	cfg.doc = doc
	return cfg, nil
}
