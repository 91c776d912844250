package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/embedded"
)

// password is every test user's password.
const password = "correct horse battery"

// testUsers: one per role.
var testUsers = map[precwatch.Role]string{
	precwatch.RoleInvestigator: "ivy",
	precwatch.RoleAnalyst:      "ana",
	precwatch.RoleOperator:     "otto",
	precwatch.RoleAdmin:        "adam",
}

// passwordHash is bcrypt at its minimum cost, so that the many logins of the
// tests stay fast under -race; HashPassword's own cost is tested on its own.
var passwordHash = sync.OnceValues(func() (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	return string(h), err
})

// fakeOperator is the scheduler as a set of function fields.
type fakeOperator struct {
	SitesFn      func() []precwatch.Site
	NextFn       func(site string) time.Time
	StartFn      func(site string) error
	ProxyCheckFn func(ctx context.Context, site precwatch.Site) error
}

func (f *fakeOperator) Sites() []precwatch.Site    { return f.SitesFn() }
func (f *fakeOperator) Next(site string) time.Time { return f.NextFn(site) }
func (f *fakeOperator) Start(site string) error    { return f.StartFn(site) }
func (f *fakeOperator) ProxyCheck(ctx context.Context, s precwatch.Site) error {
	return f.ProxyCheckFn(ctx, s)
}

// fakeWatchlists is the watchlist service as a set of function fields.
type fakeWatchlists struct {
	ActiveFn   func(ctx context.Context) (*precwatch.Watchlist, int, error)
	ValidateFn func(w *precwatch.Watchlist) []FieldError
	PreviewFn  func(ctx context.Context, w *precwatch.Watchlist) (Preview, error)
	ApplyFn    func(ctx context.Context, w *precwatch.Watchlist, author, comment string) (int, error)
	LoadFn     func(ctx context.Context, version int) (*precwatch.Watchlist, error)
	// rejectedAt and rejectedErr are the daemon's latest rejected reload
	// (zero when none); set by the test while the server reads them.
	rejectedMu  sync.Mutex
	rejectedAt  time.Time
	rejectedErr error
}

func (f *fakeWatchlists) RejectedReload() (time.Time, error) {
	f.rejectedMu.Lock()
	defer f.rejectedMu.Unlock()
	return f.rejectedAt, f.rejectedErr
}

func (f *fakeWatchlists) setRejected(at time.Time, err error) {
	f.rejectedMu.Lock()
	defer f.rejectedMu.Unlock()
	f.rejectedAt, f.rejectedErr = at, err
}

func (f *fakeWatchlists) Active(ctx context.Context) (*precwatch.Watchlist, int, error) {
	return f.ActiveFn(ctx)
}
func (f *fakeWatchlists) Validate(w *precwatch.Watchlist) []FieldError { return f.ValidateFn(w) }
func (f *fakeWatchlists) Preview(ctx context.Context, w *precwatch.Watchlist) (Preview, error) {
	return f.PreviewFn(ctx, w)
}
func (f *fakeWatchlists) Apply(ctx context.Context, w *precwatch.Watchlist, author, comment string) (int, error) {
	return f.ApplyFn(ctx, w, author, comment)
}
func (f *fakeWatchlists) Load(ctx context.Context, version int) (*precwatch.Watchlist, error) {
	return f.LoadFn(ctx, version)
}

// testWatchlist holds names and identifiers only.
func testWatchlist() *precwatch.Watchlist {
	return &precwatch.Watchlist{Version: "test", Substances: []precwatch.Substance{
		{ID: "hydrogen-peroxide", EntryType: "compound", Names: map[string]string{"en": "Hydrogen peroxide", "de": "Wasserstoffperoxid", "fr": "Peroxyde d'hydrogène"},
			Synonyms: []string{"hydrogen dioxide"}, CAS: "7722-84-1", Regimes: []precwatch.RegimeEntry{{Regime: precwatch.RegimeEUAnnexI, LimitPercent: ptr(12.0)}}},
		{ID: "nitromethane", EntryType: "compound", Names: map[string]string{"en": "Nitromethane", "de": "Nitromethan"},
			CAS: "75-52-5", Regimes: []precwatch.RegimeEntry{{Regime: precwatch.RegimeEUAnnexI, LimitPercent: ptr(30.0)}}},
		{ID: "acetone", EntryType: "compound", Names: map[string]string{"en": "Acetone", "de": "Aceton"},
			Synonyms: []string{"propanone"}, CAS: "67-64-1", Regimes: []precwatch.RegimeEntry{{Regime: precwatch.RegimeEUAnnexII}}},
	}}
}

// newWatchlistFake keeps versions in the real store, validates names and
// terms, and previews by looking for every name and synonym in the stored
// listings' text.
func newWatchlistFake(store precwatch.ConsoleStore) *fakeWatchlists {
	var mu sync.Mutex
	active, version := testWatchlist(), 0
	hits := func(ctx context.Context, w *precwatch.Watchlist) (map[string]PreviewHit, int, error) {
		out, n := map[string]PreviewHit{}, 0
		err := store.Listings(ctx, "", func(st precwatch.ListingState) error {
			n++
			text := strings.ToLower(st.Listing.Title + " " + st.Listing.Description)
			// A term suppression covers the terms inside it too, as the
			// matcher reports only the longest ("Nitromethan" in
			// "nitromethane").
			suppressed := func(id, term string) bool {
				return slices.ContainsFunc(w.Suppressions, func(sp precwatch.Suppression) bool {
					return (sp.Substance == "" || sp.Substance == id) && sp.Site == st.Listing.Site &&
						(sp.Listing != "" && sp.Listing == st.Listing.Identity() || sp.Term != "" && strings.Contains(strings.ToLower(sp.Term), strings.ToLower(term)))
				})
			}
			for _, s := range w.Substances {
				for _, term := range append(slices.Collect(mapValues(s.Names)), s.Synonyms...) {
					if term != "" && strings.Contains(text, strings.ToLower(term)) && !suppressed(s.ID, term) {
						out[st.Key+"/"+s.ID] = PreviewHit{Site: st.Listing.Site, ListingKey: st.Key, Title: st.Listing.Title, Substance: s.ID, Term: term}
					}
				}
			}
			return nil
		})
		return out, n, err
	}
	f := &fakeWatchlists{}
	f.ActiveFn = func(ctx context.Context) (*precwatch.Watchlist, int, error) {
		mu.Lock()
		defer mu.Unlock()
		return active, version, nil
	}
	f.ValidateFn = func(w *precwatch.Watchlist) []FieldError {
		var errs []FieldError
		for i, s := range w.Substances {
			if s.Names["en"] == "" {
				errs = append(errs, FieldError{Field: fmt.Sprintf("substances[%d].names.en", i), Message: "an English name is required"})
			}
			for lang, n := range s.Names {
				if len(lang) != 2 {
					errs = append(errs, FieldError{Field: fmt.Sprintf("substances[%d].names.%s", i, lang), Message: "language: two letters"})
				} else if n == "" {
					errs = append(errs, FieldError{Field: fmt.Sprintf("substances[%d].names.%s", i, lang), Message: "empty name"})
				}
			}
			for j, syn := range s.Synonyms {
				if len(syn) < 3 {
					errs = append(errs, FieldError{Field: fmt.Sprintf("substances[%d].synonyms[%d]", i, j), Message: "shorter than 3 characters"})
				}
			}
		}
		// The file loader's rules for suppressions, in short.
		for i, sp := range w.Suppressions {
			if sp.Reason == "" {
				errs = append(errs, FieldError{Field: fmt.Sprintf("suppressions[%d].reason", i), Message: "a reason is required"})
			}
			if sp.Term == "" && sp.Listing == "" {
				errs = append(errs, FieldError{Field: fmt.Sprintf("suppressions[%d]", i), Message: "a term or a listing is required"})
			}
		}
		return errs
	}
	f.PreviewFn = func(ctx context.Context, w *precwatch.Watchlist) (Preview, error) {
		mu.Lock()
		cur := active
		mu.Unlock()
		old, n, err := hits(ctx, cur)
		if err != nil {
			return Preview{}, err
		}
		next, _, err := hits(ctx, w)
		if err != nil {
			return Preview{}, err
		}
		p := Preview{Listings: n}
		for k, h := range next {
			if _, ok := old[k]; !ok {
				p.Added = append(p.Added, h)
			}
		}
		for k, h := range old {
			if _, ok := next[k]; !ok {
				p.Removed = append(p.Removed, h)
			}
		}
		return p, nil
	}
	f.ApplyFn = func(ctx context.Context, w *precwatch.Watchlist, author, comment string) (int, error) {
		if errs := f.ValidateFn(w); len(errs) > 0 {
			return 0, fmt.Errorf("fake: %w: %s", precwatch.ErrInvalid, errs[0].Message)
		}
		data, err := json.Marshal(w)
		if err != nil {
			return 0, err
		}
		n, err := store.SaveWatchlistVersion(ctx, precwatch.WatchlistVersion{Author: author, At: time.Now(), Comment: comment, Data: data})
		if err != nil {
			return 0, err
		}
		mu.Lock()
		active, version = w, n
		mu.Unlock()
		return n, nil
	}
	f.LoadFn = func(ctx context.Context, v int) (*precwatch.Watchlist, error) {
		wv, err := store.WatchlistVersion(ctx, v)
		if err != nil {
			return nil, err
		}
		var w precwatch.Watchlist
		if err := json.Unmarshal(wv.Data, &w); err != nil {
			return nil, err
		}
		return &w, nil
	}
	return f
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

// testSites are the operator's sites; "offline" has a proxy that does not
// answer.
func testSites() []precwatch.Site {
	return []precwatch.Site{
		{Name: "silkvault", StartURLs: []string{"http://silkvault.onion/"}, Tor: true, Schedule: "@every 1h"},
		{Name: "chemshop", StartURLs: []string{"http://chemshop.test/"}, Schedule: "0 */6 * * *"},
		{Name: "offline", StartURLs: []string{"http://offline.onion/"}, Tor: true, Proxy: "socks5://user:secret@127.0.0.1:1", Schedule: "@daily"},
	}
}

func newOperatorFake(started *[]string, mu *sync.Mutex) *fakeOperator {
	return &fakeOperator{
		SitesFn: testSites,
		NextFn:  func(string) time.Time { return t0.Add(time.Hour) },
		StartFn: func(site string) error {
			mu.Lock()
			defer mu.Unlock()
			if slices.Contains(*started, site) {
				return fmt.Errorf("fake: %w: a run of %s is in progress", precwatch.ErrConflict, site)
			}
			*started = append(*started, site)
			return nil
		},
		ProxyCheckFn: func(ctx context.Context, s precwatch.Site) error {
			if s.Name == "offline" {
				return fmt.Errorf("fake: dial %s: connection refused", s.ProxyURL())
			}
			return nil
		},
	}
}

// t0 is the seed data's clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is a console over a real embedded store in a temporary directory.
type env struct {
	t       testing.TB
	store   precwatch.ConsoleStore
	srv     *Server
	ts      *httptest.Server
	wl      *fakeWatchlists
	op      *fakeOperator
	mu      sync.Mutex
	started []string
	keys    map[string]string // seeded alerts by name
}

func openStore(t testing.TB) precwatch.ConsoleStore {
	t.Helper()
	s, err := embedded.Open(context.Background(), filepath.Join(t.TempDir(), "precwatch.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, store: openStore(t), keys: map[string]string{}}
	e.wl = newWatchlistFake(e.store)
	e.op = newOperatorFake(&e.started, &e.mu)
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for role, name := range testUsers {
		if err := e.store.CreateUser(ctx, precwatch.User{Name: name, Role: role, PasswordHash: hash, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	e.srv, err = New(Options{Store: e.store, Operator: e.op, Watchlists: e.wl})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.hashCost = bcrypt.MinCost
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	e.seed()
	return e
}

// xssText is listing text that would run script, load a remote image or
// offer a javascript: link if it were ever rendered as HTML.
const xssText = `<script>window.__pwned=1</script> <img src=http://evil.example/x.png> <a href="javascript:alert(1)">x</a>`

// seed records listings as a crawl would: shop-style ads with their pages.
func (e *env) seed() {
	e.t.Helper()
	ctx := context.Background()
	type ad struct {
		name, site, id, title, desc, vendor string
		price                               float64
		match                               precwatch.Match
		at                                  time.Time
	}
	peroxide := precwatch.Match{Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI,
		Severity: precwatch.SeverityHigh, Term: "hydrogen peroxide", Kind: "name", Field: "title",
		ConcentrationPercent: ptr(35.0), LimitPercent: ptr(12.0), OverLimit: ptr(true),
		Quantity: &precwatch.Quantity{Value: 5, Unit: "L", Count: 1, Millilitres: 5000, Text: "5 L"},
		Steps:    []string{"casefold"}, Score: 71, Reasons: []string{"EU Annex I", "35% w/w, 2.9x the 12% limit", "5 L"}}
	nitro := precwatch.Match{Substance: "nitromethane", Name: "Nitromethane", Regime: precwatch.RegimeEUAnnexI,
		Severity: precwatch.SeverityMedium, Term: "nitromethane", Kind: "name", Field: "title", LimitPercent: ptr(30.0)}
	acetone := precwatch.Match{Substance: "acetone", Name: "Acetone", Regime: precwatch.RegimeEUAnnexII,
		Severity: precwatch.SeverityLow, Term: "acetone", Kind: "name", Field: "description"}
	ads := []ad{
		{"peroxide", "silkvault", "p1", "Hydrogen peroxide 35% – 5 L canister", "Food grade. Shipping EU-wide, tracked. =HYPERLINK(\"http://evil.example\")", "=cmd|' /C calc'!A0", 89.5, peroxide, t0},
		{"peroxide2", "chemshop", "p2", "Wasserstoffperoxid / hydrogen peroxide 30%, 1 L", "Lab grade, 1 L bottle, ships in 2 days.", "=cmd|' /C calc'!A0", 24, peroxide, t0.Add(time.Minute)},
		{"nitro", "silkvault", "n1", "Nitromethane 98% 1 L", "Racing fuel additive. Price per litre, discreet shipping.", "fuelking", 45, nitro, t0.Add(2 * time.Minute)},
		{"acetone", "chemshop", "a1", "Solvent 5 L", "Pure acetone 99.5%, 5 L can, shipping 3-5 days.", "labsupply", 19.99, acetone, t0.Add(3 * time.Minute)},
		{"xss", "silkvault", "x1", "Nitromethane " + xssText, "Description " + xssText + " nitromethane", "evilvendor", 10, nitro, t0.Add(4 * time.Minute)},
	}
	for _, a := range ads {
		m := a.match
		text := a.title
		if m.Field == "description" {
			text = a.desc
		}
		i := strings.Index(strings.ToLower(text), m.Term)
		if i < 0 {
			e.t.Fatalf("seed %s: term %q not in %q", a.name, m.Term, text)
		}
		m.Start, m.End, m.Text = i, i+len(m.Term), text[i:i+len(m.Term)]
		body := []byte("<html><body><h1>" + a.title + "</h1><script>window.__pwned=1</script></body></html>")
		h := sha256.Sum256(body)
		sum := hex.EncodeToString(h[:])
		if err := e.store.SavePage(ctx, precwatch.Page{SHA256: sum, Site: a.site, URL: "http://" + a.site + ".onion/item/" + a.id, FetchedAt: a.at, ContentType: "text/html", Body: body}); err != nil {
			e.t.Fatal(err)
		}
		l := precwatch.Listing{Site: a.site, ID: a.id, URL: "http://" + a.site + ".onion/item/" + a.id, Title: a.title, Description: a.desc,
			Price: a.price, Currency: "EUR", Vendor: a.vendor, FetchedAt: a.at, PageSHA256: sum, Tor: true}
		res, err := e.store.Record(ctx, precwatch.Observation{Listing: l, Matches: []precwatch.Match{m}, RunID: "run-1", At: a.at})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(res.NewAlerts) != 1 {
			e.t.Fatalf("seed %s: %d new alerts, want 1", a.name, len(res.NewAlerts))
		}
		e.keys[a.name] = res.NewAlerts[0]
	}
	for _, r := range []precwatch.Run{
		{ID: "run-1", Site: "silkvault", Start: t0, End: t0.Add(5 * time.Minute), Status: precwatch.RunPartial, Pages: 12, Listings: 3, NewListings: 3, Alerts: 3, Errors: []string{"fetch http://silkvault.onion/page/4: timeout"}},
		{ID: "run-2", Site: "chemshop", Start: t0, End: t0.Add(2 * time.Minute), Status: precwatch.RunOK, Pages: 4, Listings: 2, NewListings: 2, Alerts: 2,
			Requests: 5, Bytes: 2048, NotModified: 3, DetailsSkipped: 7, StoppedEarly: true, Throttled: 4, ThrottleWait: 12345 * time.Millisecond,
			GoneUndecided: "read from mirror chemshop2.onion: <b>the primary</b> did not answer"},
	} {
		if err := e.store.SaveRun(ctx, r); err != nil {
			e.t.Fatal(err)
		}
	}
}

// client is an HTTP client with its own cookie jar.
type client struct {
	e    *env
	http *http.Client
}

func (e *env) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// as returns a client signed in as the user of role.
func (e *env) as(role precwatch.Role) *client {
	e.t.Helper()
	c := e.anon()
	resp := c.do("POST", "/api/login", map[string]string{"name": testUsers[role], "password": password}, nil)
	if resp.code != http.StatusOK {
		e.t.Fatalf("login as %s: %d %s", role, resp.code, resp.body)
	}
	return c
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode is the code of an API error response.
func (r response) errorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a request; a non-nil body is sent as JSON.
func (c *client) do(method, path string, body any, header http.Header) response {
	c.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.e.ts.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// form posts a form as a browser on the console's own page would.
func (c *client) form(path string, values map[string][]string) response {
	c.e.t.Helper()
	var b strings.Builder
	for k, vs := range values {
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(urlQueryEscape(k) + "=" + urlQueryEscape(v))
		}
	}
	req, err := http.NewRequest("POST", c.e.ts.URL+path, strings.NewReader(b.String()))
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: body}
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func jsonBody(s string) io.Reader { return strings.NewReader(s) }

// The console runs on the real embedded store.
var _ precwatch.ConsoleStore = (*embedded.Store)(nil)
