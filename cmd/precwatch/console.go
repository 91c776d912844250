package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/console"
	"github.com/precwatch/precwatch/crawler"
	"github.com/precwatch/precwatch/internal/yamlfile"
	"github.com/precwatch/precwatch/matchers"
)

// consoleStore asserts that the opened store can serve the console.
func consoleStore(st precwatch.Store) (precwatch.ConsoleStore, error) {
	cs, ok := st.(precwatch.ConsoleStore)
	if !ok {
		return nil, fmt.Errorf("store %T cannot serve the console", st)
	}
	return cs, nil
}

// accountHint says how to make the first console account when there is
// none: the console's sign-in page alone cannot tell a new operator.
func (m *Main) accountHint(ctx context.Context, cs precwatch.ConsoleStore) {
	us, err := cs.Users(ctx)
	if err != nil || len(us) > 0 {
		return
	}
	fmt.Fprintln(m.Stdout, "no console account yet: create one with `precwatch user add --name NAME --role admin` (the password is read from stdin, or generated and printed)")
}

// serveConsole starts the console on addr and returns its address; it
// shuts down when ctx is done (5 s grace), before the store closes.
func (m *Main) serveConsole(ctx context.Context, addr, certFile, keyFile string, store precwatch.ConsoleStore, sched *crawler.Scheduler) (string, func(), error) {
	var op console.Operator
	if sched != nil {
		op = &operator{sched: sched}
	}
	ex, err := interchange(m.config.Load()) // MISP/STIX exports (issue 11)
	if err != nil {
		return "", nil, err
	}
	srv, err := console.New(console.Options{
		Store:         store,
		Logger:        m.logger,
		Operator:      op,
		Watchlists:    &watchlistService{m: m, store: store},
		SecureCookies: certFile != "",
		Interchange:   ex,
		Archive:       m.evidenceArchive(), // issue 11
	})
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{
		Handler:           m.withHealth(srv.Handler()), // /healthz, /readyz (issue 10)
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	base, shutdown, err := m.serveHTTP(ctx, "console", addr, hs, certFile, keyFile)
	if err != nil {
		return "", nil, err
	}
	return base + "/", shutdown, nil
}

// serveHTTP listens on addr and serves hs there (over TLS with a
// certificate) until the returned shutdown, which waits for it; what names
// the server in errors and logs. It returns the server's base URL.
func (m *Main) serveHTTP(ctx context.Context, what, addr string, hs *http.Server, certFile, keyFile string) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("%s: listen %s: %w", what, addr, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		if certFile != "" {
			err = hs.ServeTLS(ln, certFile, keyFile)
		} else {
			err = hs.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logger.Error(what+" stopped", "error", err)
		}
	}()
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			m.logger.Warn(what+" shutdown", "error", err)
		}
		<-done
	}
	scheme := "http"
	if certFile != "" {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String(), shutdown, nil
}

// runServe is `precwatch serve`: the console alone, without crawling.
func (m *Main) runServe(ctx context.Context, args []string) error {
	fs := m.flags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "console listen address")
	cert := fs.String("tls-cert", "", "TLS certificate file (serve HTTPS, Secure cookies)")
	key := fs.String("tls-key", "", "TLS key file")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	cfg, mt, err := m.loadConfig()
	if err != nil {
		return err
	}
	m.config.Store(cfg)
	m.matcher.Use(mt, cfg)
	st, err := m.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	cs, err := consoleStore(st)
	if err != nil {
		return err
	}
	u, shutdown, err := m.serveConsole(ctx, *addr, *cert, *key, cs, nil)
	if err != nil {
		return err
	}
	m.accountHint(ctx, cs)
	fmt.Fprintf(m.Stdout, "console: %s\n", u)
	<-ctx.Done()
	shutdown()
	return nil
}

// runUser is `precwatch user add --name N --role R`; the password is read
// from stdin, or generated and printed when stdin is empty.
func (m *Main) runUser(ctx context.Context, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		return m.groupHelp("user")
	}
	if len(args) == 0 || args[0] != "add" {
		return &exitError{code: 2, err: errors.New("usage: precwatch user add --name NAME --role investigator|analyst|operator|admin < password")}
	}
	fs := m.flags("user add")
	name := fs.String("name", "", "user name (required)")
	role := fs.String("role", "investigator", "role: investigator, analyst, operator or admin")
	if err := m.parse(fs, args[1:]); err != nil {
		return err
	}
	r, err := precwatch.ParseRole(*role)
	if err != nil || *name == "" {
		return &exitError{code: 2, err: fmt.Errorf("user add: need --name and a valid --role: %v", err)}
	}
	st, err := m.openStoreOnly(ctx, false)
	if err != nil {
		return err
	}
	cs, err := consoleStore(st)
	if err != nil {
		return err
	}
	pw, err := readPassword(m.Stdin)
	if err != nil {
		return err
	}
	generated := pw == ""
	if generated {
		pw = rand.Text()
	}
	if err := addUser(ctx, cs, *name, r, pw, "cli"); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(m.Stdout, "user %s (%s) created; password: %s\n", *name, r, pw)
	} else {
		fmt.Fprintf(m.Stdout, "user %s (%s) created\n", *name, r)
	}
	return nil
}

func readPassword(in io.Reader) (string, error) {
	if in == nil {
		return "", nil
	}
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return "", nil // a terminal: generate one rather than echo it
		}
	}
	line, err := bufio.NewReader(io.LimitReader(in, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("user add: read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func addUser(ctx context.Context, cs precwatch.ConsoleStore, name string, role precwatch.Role, pw, actor string) error {
	hash, err := console.HashPassword(pw)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	now := time.Now().UTC()
	if err := cs.CreateUser(ctx, precwatch.User{Name: name, Role: role, PasswordHash: hash, CreatedAt: now}); err != nil {
		return fmt.Errorf("user add %q: %w", name, err)
	}
	return cs.AppendAudit(ctx, precwatch.AuditEntry{At: now, Actor: actor, Action: "user.create", Target: name, Detail: "role " + string(role)})
}

// demoLogin gives the demo an admin account with a fresh password at every
// start, so that the printed login always works.
func demoLogin(ctx context.Context, cs precwatch.ConsoleStore) (string, error) {
	pw := rand.Text()
	hash, err := console.HashPassword(pw)
	if err != nil {
		return "", err
	}
	err = cs.UpdateUser(ctx, "admin", func(u *precwatch.User, _ []precwatch.User) error {
		u.PasswordHash, u.Role, u.Disabled = hash, precwatch.RoleAdmin, false
		return nil
	})
	if errors.Is(err, precwatch.ErrNotFound) {
		return pw, addUser(ctx, cs, "admin", precwatch.RoleAdmin, pw, "demo")
	}
	if err != nil {
		return "", err
	}
	return pw, cs.AppendAudit(ctx, precwatch.AuditEntry{At: time.Now().UTC(), Actor: "demo", Action: "user.password", Target: "admin"})
}

// operator is the scheduler as the console sees it.
type operator struct {
	sched *crawler.Scheduler
}

func (o *operator) Sites() []precwatch.Site    { return o.sched.Sites() }
func (o *operator) Next(site string) time.Time { return o.sched.Next(site) }
func (o *operator) Start(site string) error {
	err := o.sched.Launch(site)
	switch {
	case errors.Is(err, crawler.ErrBusy):
		return fmt.Errorf("%w: %v", precwatch.ErrConflict, err)
	case errors.Is(err, crawler.ErrUnknownSite):
		return fmt.Errorf("%w: %v", precwatch.ErrNotFound, err)
	}
	return err
}

func (o *operator) ProxyCheck(ctx context.Context, site precwatch.Site) error {
	return checkProxy(ctx, site)
}

// checkProxy says whether the site's SOCKS5 proxy answers a greeting; a
// site without a proxy has nothing to check.
func checkProxy(ctx context.Context, site precwatch.Site) error {
	raw := site.ProxyURL()
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("proxy %q: %w", raw, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return fmt.Errorf("proxy %s: %w", u.Host, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// SOCKS5 greeting offering "no authentication"; the answer is 05 00.
	if _, err := conn.Write([]byte{5, 1, 0}); err != nil {
		return fmt.Errorf("proxy %s: %w", u.Host, err)
	}
	var resp [2]byte
	if _, err := io.ReadFull(conn, resp[:]); err != nil {
		return fmt.Errorf("proxy %s: no SOCKS5 answer: %w", u.Host, err)
	}
	if resp[0] != 5 {
		return fmt.Errorf("proxy %s: not a SOCKS5 server", u.Host)
	}
	return nil
}

// watchlistService lets analysts edit the watchlist from the console: it
// validates with the matcher's own loader, previews with a retro-hunt over
// the stored listings, and saves each version in the store before writing
// the file and swapping the matcher.
type watchlistService struct {
	m     *Main
	store precwatch.ConsoleStore
}

// rejectedReload is a reload of the config and watchlist files that was
// refused, the previous ones staying in force.
type rejectedReload struct {
	at  time.Time
	err error // redacted: no secret of the config
}

// RejectedReload tells the console when the latest reload of the files
// was rejected and why (console.ReloadStatus), so that an analyst who
// broke the watchlist file sees it there and not only in the daemon's log.
func (w *watchlistService) RejectedReload() (time.Time, error) {
	if r := w.m.rejected.Load(); r != nil {
		return r.at, r.err
	}
	return time.Time{}, nil
}

func (w *watchlistService) current() (*matchers.Matcher, *Config, error) {
	mt, cfg := w.m.matcher.p.Load(), w.m.config.Load()
	if mt == nil || cfg == nil {
		return nil, nil, errors.New("no watchlist loaded")
	}
	return mt, cfg, nil
}

func (w *watchlistService) Active(ctx context.Context) (*precwatch.Watchlist, int, error) {
	mt, _, err := w.current()
	if err != nil {
		return nil, 0, err
	}
	vs, err := w.store.WatchlistVersions(ctx)
	if err != nil {
		return nil, 0, err
	}
	n := 0
	if len(vs) > 0 {
		n = vs[0].Version
	}
	return mt.Watchlist(), n, nil
}

func (w *watchlistService) Validate(wl *precwatch.Watchlist) []console.FieldError {
	_, err := w.parse(wl)
	if err == nil {
		return nil
	}
	var probs yamlfile.Errors
	if !errors.As(err, &probs) {
		return []console.FieldError{{Message: err.Error()}}
	}
	out := make([]console.FieldError, len(probs))
	for i, p := range probs {
		out[i] = console.FieldError{Field: p.Field, Message: p.Msg}
	}
	return out
}

// parse round-trips wl through YAML and the strict loader, so the console
// is held to exactly the rules a file is.
func (w *watchlistService) parse(wl *precwatch.Watchlist) ([]byte, error) {
	data, err := yaml.Marshal(wl)
	if err != nil {
		return nil, fmt.Errorf("encode watchlist: %w", err)
	}
	if _, err := matchers.ParseWatchlist("watchlist", data); err != nil {
		return nil, err
	}
	return data, nil
}

func (w *watchlistService) Preview(ctx context.Context, wl *precwatch.Watchlist) (console.Preview, error) {
	active, _, err := w.current()
	if err != nil {
		return console.Preview{}, err
	}
	candidate, err := matchers.Compile(wl)
	if err != nil {
		return console.Preview{}, err
	}
	added, removed, scanned, err := retroHunt(ctx, w.store, active, candidate)
	if err != nil {
		return console.Preview{}, err
	}
	conv := func(hs []retroHit) []console.PreviewHit {
		out := make([]console.PreviewHit, len(hs))
		for i, h := range hs {
			out[i] = console.PreviewHit{Site: h.Site, ListingKey: h.ListingKey, Title: h.Title, Substance: h.Substance, Term: h.Term}
		}
		return out
	}
	return console.Preview{Added: conv(added), Removed: conv(removed), Listings: scanned}, nil
}

func (w *watchlistService) Apply(ctx context.Context, wl *precwatch.Watchlist, author, comment string) (int, error) {
	active, cfg, err := w.current()
	if err != nil {
		return 0, err
	}
	data, err := w.parse(wl)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", precwatch.ErrInvalid, err)
	}
	mt, err := matchers.Compile(wl)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", precwatch.ErrInvalid, err)
	}
	w.m.reloadMu.Lock()
	defer w.m.reloadMu.Unlock()
	if cfg = w.m.config.Load(); cfg == nil {
		return 0, errors.New("no config loaded")
	}
	onDisk, err := handEdited(cfg)
	if err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	// Keep the watchlist that was in force before the first edit, so that
	// one can always return to it.
	if vs, err := w.store.WatchlistVersions(ctx); err != nil {
		return 0, err
	} else if len(vs) == 0 {
		orig, err := yaml.Marshal(active.Watchlist())
		if err != nil {
			return 0, err
		}
		if _, err := w.store.SaveWatchlistVersion(ctx, precwatch.WatchlistVersion{Author: "file", At: now, Comment: "as loaded from " + cfg.WatchlistPath(), Data: orig}); err != nil {
			return 0, err
		}
	}
	data = w.keepComments(cfg.WatchlistPath(), onDisk, wl, data)
	v, err := w.store.SaveWatchlistVersion(ctx, precwatch.WatchlistVersion{Author: author, At: now, Comment: comment, Data: data})
	if err != nil {
		return 0, err
	}
	if err := writeFileAtomic(cfg.WatchlistPath(), data); err != nil {
		return 0, err
	}
	saved := *cfg
	saved.watchlistSum = sha256.Sum256(data)
	w.m.config.Store(&saved)
	w.m.matcher.Store(mt)
	w.m.metrics.observeReload("console", nil, len(wl.Substances))
	w.m.logger.Info("watchlist saved from the console", "version", v, "author", author, "substances", len(wl.Substances))
	return v, nil
}

// handEdited reads the watchlist file and returns it (nil when it cannot
// be read), or an error wrapping ErrChanged when it is a valid watchlist
// other than the one in force: a hand edit the daemon has not read yet,
// which a save from the console would throw away unseen. A file that does
// not parse is not refused: its reload was rejected, the console shows
// why, and a save is how an analyst mends it.
func handEdited(cfg *Config) ([]byte, error) {
	path := cfg.WatchlistPath()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil
	}
	if sha256.Sum256(data) == cfg.watchlistSum {
		return data, nil
	}
	if _, err := matchers.ParseWatchlist(path, data); err != nil {
		return data, nil
	}
	return nil, fmt.Errorf("console: save watchlist: %w: %s was edited on disk since it was loaded; "+
		"the daemon puts it in force at its next look at the file (--reload-interval, or SIGHUP); reload this page then and make the change again", precwatch.ErrChanged, path)
}

// keepComments returns wl written over old, the watchlist file at path as
// read before the save (the bytes handEdited checked), with the file's
// comments, key order and quoting kept (yamlfile.Merge), so that a save
// from the console does not strip what people wrote in the file; or data
// (wl encoded afresh) when the file was unreadable (old is nil) or the
// merged text does not decode exactly as wl.
func (w *watchlistService) keepComments(path string, old []byte, wl *precwatch.Watchlist, data []byte) []byte {
	if old == nil {
		return data
	}
	merged, err := yamlfile.Merge(old, wl)
	if err == nil {
		var back *precwatch.Watchlist
		if back, err = matchers.ParseWatchlist(path, merged); err == nil {
			var again []byte
			if again, err = yaml.Marshal(back); err == nil && !bytes.Equal(again, data) {
				err = errors.New("the merged file decodes differently")
			}
		}
	}
	if err != nil {
		w.m.logger.Warn("watchlist saved without the file's comments", "path", path, "error", err)
		return data
	}
	return merged
}

func (w *watchlistService) Load(ctx context.Context, version int) (*precwatch.Watchlist, error) {
	v, err := w.store.WatchlistVersion(ctx, version)
	if err != nil {
		return nil, err
	}
	return matchers.ParseWatchlist(fmt.Sprintf("watchlist version %d", version), v.Data)
}

// writeFileAtomic replaces path with data so that a reader (the daemon's
// file watch) never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".watchlist-*.yaml")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
