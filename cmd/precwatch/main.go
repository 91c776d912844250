// Command precwatch crawls marketplaces for chemical-precursor listings and
// raises alerts for investigators. See README.md for the commands.
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
	"github.com/precwatch/precwatch/matchers"
	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/redis"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	stop()
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
		case m.LogFormat == "json" && m.logger != nil:
			// --log-format json: every stderr line is JSON (issue 9).
			m.logger.Error("precwatch failed", "error", yamlfile.RedactURLs(err.Error()))
		default:
			printError(os.Stderr, err)
		}
		os.Exit(exitCode(err))
	}
}

// printError writes a failed command's error for a person: the problems of
// a config or watchlist file one per line, as FILE:LINE:COLUMN: FIELD:
// MESSAGE (their Error joins them on one line, for logs).
func printError(w io.Writer, err error) {
	var es yamlfile.Errors
	if errors.As(err, &es) && len(es) > 1 && err.Error() == es.Error() {
		for _, e := range es {
			fmt.Fprintln(w, "precwatch:", yamlfile.RedactURLs(e.Error()))
		}
		return
	}
	fmt.Fprintln(w, "precwatch:", yamlfile.RedactURLs(err.Error()))
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0 // help was asked for, and printed
	}
	return 1
}

// Main is the program: its flags, its parts and their wiring. Tests run it
// in-process with their own streams.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	ConfigPath string
	StoreDSN   string
	LogLevel   slog.LevelVar
	LogFormat  string

	logger  *slog.Logger
	config  atomic.Pointer[Config]
	matcher swapMatcher
	// reloadMu serialises putting a watchlist in force: a reload of the
	// files and a save from the console, so that a reload that read the
	// file before a save cannot put the older watchlist back after it.
	reloadMu sync.Mutex
	// rejected is the latest reload of the files when it was rejected
	// (nil once one takes), for the console to show.
	rejected atomic.Pointer[rejectedReload]
	metrics  *metrics // run's; nil for the other commands
	scale    scaleOut // Scale-out (issue 9): lease and frontier flags of run and crawl

	mu      sync.Mutex
	store   precwatch.Store // the store the command opened, for tests
	closers []func() error
	archive archiveSetting // issue 11: WARC files of the store's runs
	// Delivery (issue 11): the daemon's webhooks, which a reload replaces,
	// and their metrics, registered once.
	hooks          atomic.Pointer[webhookRunner]
	webhookMetrics *webhookMetrics
	// retentionReload tells the daemon's prune schedule that the config
	// changed (retention.go); nil for the other commands.
	retentionReload chan struct{}
}

// NewMain returns a Main on the process's standard streams.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
}

// Run parses args (a command and its flags) and runs the command.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, topUsage())
		return &exitError{code: 2, err: errors.New("no command given")}
	}
	if args = commandFirst(args); len(args) == 0 {
		fmt.Fprint(m.Stderr, topUsage())
		return &exitError{code: 2, err: errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	if cmd == "config" {
		if len(rest) > 0 && isHelp(rest[0]) {
			return m.groupHelp("config")
		}
		if len(rest) == 0 || rest[0] != "check" {
			return &exitError{code: 2, err: errors.New("usage: precwatch config check [--config FILE]")}
		}
		cmd, rest = "config check", rest[1:]
	}
	switch cmd {
	case "run":
		return m.runDaemon(ctx, rest)
	case "crawl":
		return m.runCrawl(ctx, rest)
	case "alerts":
		return m.runAlerts(ctx, rest)
	case "match":
		return m.runMatch(ctx, rest)
	case "config check":
		return m.runConfigCheck(ctx, rest)
	case "watchlist":
		return m.runWatchlist(ctx, rest)
	case "serve":
		return m.runServe(ctx, rest)
	case "user":
		return m.runUser(ctx, rest)
	case "session": // Sessions (issue 8)
		return m.runSession(ctx, rest)
	case "listings":
		return m.runListings(ctx, rest)
	case "runs":
		return m.runRuns(ctx, rest)
	case "export": // MISP/STIX (issue 11)
		return m.runExport(ctx, rest)
	case "backup":
		return m.runBackup(ctx, rest)
	case "prune": // retention
		return m.runPrune(ctx, rest)
	case "version", "--version", "-version":
		fmt.Fprint(m.Stdout, versionText())
		return nil
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && !isHelp(rest[0]) {
			return m.Run(ctx, append(rest, "-h")) // help CMD is CMD -h
		}
		fmt.Fprint(m.Stdout, topUsage())
		return nil
	}
	fmt.Fprint(m.Stderr, topUsage())
	return &exitError{code: 2, err: fmt.Errorf("unknown command %q", cmd)}
}

// flags returns a flag set with the flags every command shares.
// commandFirst moves the flags every command takes from before the
// command to after it ("precwatch --config c.yaml crawl --site s" as
// "crawl --config c.yaml --site s"); other arguments are left as they
// are, so an unknown flag first is still reported as no command.
func commandFirst(args []string) []string {
	common := (&Main{}).flags("") // the flags every command takes, each with a value
	var lead []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if common.Lookup(name) == nil {
			return append(lead, args...)
		}
		if hasValue || len(args) < 2 {
			lead, args = append(lead, args[0]), args[1:]
			continue
		}
		lead, args = append(lead, args[0], args[1]), args[2:]
	}
	if len(args) == 0 {
		return nil // flags and no command
	}
	if len(lead) == 0 {
		return args
	}
	n := 1
	if args[0] == "config" && len(args) > 1 { // "config check" is one command
		n = 2
	}
	return slices.Concat(args[:n], lead, args[n:])
}

func (m *Main) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("precwatch "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {} // parseArgs prints it, to stdout when asked for
	fs.StringVar(&m.ConfigPath, "config", "configs/precwatch.yaml", "config file")
	fs.StringVar(&m.StoreDSN, "store", "", "store: an embedded file path or a redis:// URL (default: $"+storeEnv+", else the config's store)")
	fs.TextVar(&m.LogLevel, "log-level", &m.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&m.LogFormat, "log-format", "text", "log format: text or json")
	return fs
}

func (m *Main) parse(fs *flag.FlagSet, args []string) error {
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	opts := logOptions(&m.LogLevel) // durations in seconds (issue 10)
	if m.LogFormat == "json" {
		m.logger = slog.New(slog.NewJSONHandler(m.Stderr, opts))
	} else {
		m.logger = slog.New(slog.NewTextHandler(m.Stderr, opts))
	}
	return nil
}

// loadConfig reads the config and compiles its watchlist; nothing changes
// unless both are good.
func (m *Main) loadConfig() (*Config, *matchers.Matcher, error) {
	cfg, err := LoadConfig(m.ConfigPath)
	if err != nil {
		return nil, nil, err
	}
	// Read once: the digest is of the very bytes put in force.
	data, err := os.ReadFile(cfg.WatchlistPath())
	if err != nil {
		return nil, nil, fmt.Errorf("load watchlist: %w", err)
	}
	wl, err := matchers.ParseWatchlist(cfg.WatchlistPath(), data)
	if err != nil {
		return nil, nil, err
	}
	cfg.watchlistSum = sha256.Sum256(data)
	if err := cfg.checkWatchlist(wl); err != nil {
		return nil, nil, err
	}
	mt, err := matchers.Compile(wl)
	if err != nil {
		return nil, nil, fmt.Errorf("compile watchlist %s: %w", cfg.WatchlistPath(), err)
	}
	return cfg, mt, nil
}

// openStore opens the store named by --store, else by the config; an
// embedded store file that does not exist yet is made.
func (m *Main) openStore(ctx context.Context, cfg *Config) (precwatch.Store, error) {
	return m.openStoreFor(ctx, cfg, false)
}

// openStoreToRead is openStore for commands that read what crawls stored
// (alerts, listings, export, prune, a retro-hunt): an embedded store file
// that does not exist is an error naming where it was looked for, not a
// new, empty store. A relative store path is to the working directory, so
// such a command run elsewhere than the crawls made an empty store and
// printed "0 listing(s)".
func (m *Main) openStoreToRead(ctx context.Context, cfg *Config) (precwatch.Store, error) {
	return m.openStoreFor(ctx, cfg, true)
}

func (m *Main) openStoreFor(ctx context.Context, cfg *Config, mustExist bool) (precwatch.Store, error) {
	dsn := m.storeDSN(cfg)
	if dsn == "" {
		dsn = filepath.Join("var", "precwatch.db")
	}
	var (
		st  precwatch.Store
		err error
	)
	if redis.IsURL(dsn) { // redis://, rediss://, redis+cluster://, redis+sentinel://
		useRedisLogger(m.logger)
		st, err = redis.Open(ctx, dsn, m.logger)
	} else {
		if err := storeExists(dsn); mustExist && err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(dsn), 0o750); err != nil {
			return nil, fmt.Errorf("store %s: %w", dsn, err)
		}
		st, err = embedded.Open(ctx, dsn, m.logger)
	}
	if err != nil {
		return nil, yamlfile.RedactError(fmt.Errorf("open store: %w", err))
	}
	m.onClose(st.Close)
	m.mu.Lock()
	m.store = st
	m.mu.Unlock()
	m.setArchive(cfg, dsn) // issue 11
	return st, nil
}

// storeExists reports, as an error naming the path (absolute too) and how
// a relative one is read, an embedded store file that is not there.
func storeExists(dsn string) error {
	_, err := os.Stat(dsn)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	where := dsn
	if !filepath.IsAbs(dsn) {
		if abs, err := filepath.Abs(dsn); err == nil {
			where = fmt.Sprintf("%s (%s: a relative store path is to the working directory)", dsn, abs)
		}
	}
	return fmt.Errorf("no store at %s: give --store, or run this where the crawls ran", where)
}

// openStoreOnly opens the store for commands that need nothing else: the
// config is read only when neither --store nor $PRECWATCH_STORE names the
// store. toRead: as openStoreToRead.
func (m *Main) openStoreOnly(ctx context.Context, toRead bool) (precwatch.Store, error) {
	var cfg *Config
	if m.storeDSN(nil) == "" {
		c, err := LoadConfig(m.ConfigPath)
		if err != nil {
			// Such as a proxy password's variable, set for the daemon and
			// crawls only: name the way round it.
			return nil, fmt.Errorf("%w\n(the config is read here only to find the store: give --store or $%s and it is not read)", err, storeEnv)
		}
		cfg = c
	}
	return m.openStoreFor(ctx, cfg, toRead)
}

func (m *Main) onClose(f func() error) {
	m.mu.Lock()
	m.closers = append(m.closers, f)
	m.mu.Unlock()
}

// Close releases what the command opened, last opened first.
func (m *Main) Close() error {
	m.mu.Lock()
	cs := m.closers
	m.closers = nil
	m.mu.Unlock()
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		errs = append(errs, cs[i]())
	}
	return errors.Join(errs...)
}

// swapMatcher lets the daemon replace the watchlist while crawls run: each
// listing is matched against whichever compiled watchlist is current, and
// its matches get the severities of the config's policy in force.
type swapMatcher struct {
	p      atomic.Pointer[matchers.Matcher]
	policy atomic.Pointer[precwatch.SeverityPolicy]
}

func (s *swapMatcher) Match(l precwatch.Listing) []precwatch.Match {
	return severityPolicy(s.policy.Load()).Apply(l, s.p.Load().Match(l))
}
func (s *swapMatcher) Store(m *matchers.Matcher) { s.p.Store(m) }

// Use puts a config's watchlist and severity policy in force together.
func (s *swapMatcher) Use(m *matchers.Matcher, cfg *Config) {
	s.p.Store(m)
	s.policy.Store(&cfg.Severity)
}

var defaultSeverity = precwatch.DefaultSeverityPolicy()

// severityPolicy is p, or the default policy when no config set one.
func severityPolicy(p *precwatch.SeverityPolicy) *precwatch.SeverityPolicy {
	if p == nil {
		return &defaultSeverity
	}
	return p
}

var _ precwatch.Matcher = (*swapMatcher)(nil)
