package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/redis"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// BenchmarkQueue measures the queue page and /api/alerts over 100,000
// alerts in each store backend, server-side (the handler, session check
// included, without the network).
func BenchmarkQueue(b *testing.B) {
	for name, open := range map[string]func(b *testing.B) precwatch.ConsoleStore{
		"embedded": openBenchStore,
		"redis": func(b *testing.B) precwatch.ConsoleStore {
			s, err := redis.Open(context.Background(), redistest.Start(b)+"?prefix=bench", nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
	} {
		b.Run(name, func(b *testing.B) { benchQueue(b, open(b)) })
	}
}

func benchQueue(b *testing.B, store precwatch.ConsoleStore) {
	ctx := context.Background()
	start := time.Now()
	obs := benchObservations(100000)
	// One writer: the store serialises writes anyway, and two contend for
	// its lock.
	for _, o := range obs {
		if _, err := store.Record(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	page, err := store.QueryAlerts(ctx, precwatch.AlertQuery{Limit: 1})
	if err != nil || page.Total != 100000 {
		b.Fatalf("seeded %d alerts (%v), want 100000", page.Total, err)
	}
	b.Logf("seeded %d alerts in %v", page.Total, time.Since(start).Round(time.Millisecond))

	hash, err := passwordHash()
	if err != nil {
		b.Fatal(err)
	}
	if err := store.CreateUser(ctx, precwatch.User{Name: "ivy", Role: precwatch.RoleInvestigator, PasswordHash: hash, CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	rec := httptest.NewRecorder()
	login := httptest.NewRequest("POST", "/api/login", jsonBody(`{"name":"ivy","password":"`+password+`"}`))
	login.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, login)
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusOK || len(cookies) == 0 {
		b.Fatalf("login: %d", rec.Code)
	}
	for _, c := range []struct{ name, path string }{
		{"page/first", "/alerts"},
		{"page/filtered", "/alerts?site=chemshop&severity=medium&status=new&substance=nitromethane"},
		{"api/first", "/api/alerts"},
		{"api/filtered", "/api/alerts?site=chemshop&severity=medium&status=new&substance=nitromethane"},
		{"api/page100", "/api/alerts?offset=5000"},
		{"api/status-page100", "/api/alerts?status=new&offset=5000"},
		{"api/vendor", "/api/alerts?vendor=vendor-042"},
		{"api/search", "/api/alerts?q=L004242"},
		// Words most alerts have: a substance's name, two together, and
		// with filters.
		{"api/search-common", "/api/alerts?q=peroxide"},
		{"api/search-common-sev", "/api/alerts?q=peroxide&severity=high&offset=1000"},
		{"api/search-common2", "/api/alerts?q=chemicals+shipping"},
		{"api/search-filtered", "/api/alerts?q=bottle&site=chemshop&severity=medium"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", c.path, nil)
				req.AddCookie(cookies[0])
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.path, rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/op")
		})
	}
}

// openBenchStore opens an embedded store on tmpfs when there is one: the
// benchmark measures the console, not the disk the seed is written to.
func openBenchStore(b *testing.B) precwatch.ConsoleStore {
	dir := b.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "precwatch-bench-"); err == nil {
			dir = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	s, err := embedded.Open(context.Background(), filepath.Join(dir, "precwatch.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchSubstances are matches as a matcher reports them, over every
// severity (names and thresholds only).
var benchSubstances = []precwatch.Match{
	{Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityHigh, Term: "hydrogen peroxide", Kind: "name", Field: "description", LimitPercent: ptr(12.0), ConcentrationPercent: ptr(30.0), OverLimit: ptr(true)},
	{Substance: "nitromethane", Name: "Nitromethane", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityMedium, Term: "nitromethane", Kind: "name", Field: "description", LimitPercent: ptr(30.0)},
	{Substance: "acetone", Name: "Acetone", Regime: precwatch.RegimeEUAnnexII, Severity: precwatch.SeverityLow, Term: "acetone", Kind: "name", Field: "description"},
	{Substance: "sulphuric-acid", Name: "Sulphuric acid", Regime: precwatch.RegimeEUAnnexII, Severity: precwatch.SeverityLow, Term: "sulphuric acid", Kind: "name", Field: "description"},
	{Substance: "thiodiglycol", Name: "Thiodiglycol", Regime: precwatch.RegimeCWC2, Severity: precwatch.SeverityCritical, Term: "thiodiglycol", Kind: "name", Field: "description"},
	{Substance: "nitric-acid", Name: "Nitric acid", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityMedium, Term: "nitric acid", Kind: "name", Field: "description", LimitPercent: ptr(3.0)},
	{Substance: "potassium-chlorate", Name: "Potassium chlorate", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityHigh, Term: "potassium chlorate", Kind: "name", Field: "description", LimitPercent: ptr(40.0), ConcentrationPercent: ptr(99.0), OverLimit: ptr(true)},
}

// benchObservations returns listings that raise alerts alerts in all: each
// lists one to seven substances (four on average, a multi-product shop
// page), over five sites and 500 vendors, a minute apart.
func benchObservations(alerts int) []precwatch.Observation {
	sites := []string{"silkvault", "agora2", "chemshop", "darkbay", "nexus"}
	start := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var out []precwatch.Observation
	for i, n := 0, 0; n < alerts; i++ {
		k := min(1+i%7, alerts-n)
		var ms []precwatch.Match
		var desc strings.Builder
		desc.WriteString("Bulk offer. ")
		for j := range k {
			m := benchSubstances[(i+j)%len(benchSubstances)]
			m.Start = desc.Len()
			desc.WriteString(m.Term)
			m.End = desc.Len()
			m.Text = m.Term
			desc.WriteString(", 1 L bottle. ")
			ms = append(ms, m)
		}
		desc.WriteString("Shipping worldwide.")
		at := start.Add(time.Duration(i) * time.Minute)
		id := fmt.Sprintf("L%06d", i)
		site := sites[i%len(sites)]
		out = append(out, precwatch.Observation{
			Listing: precwatch.Listing{
				Site: site, ID: id, URL: "http://" + site + ".onion/item/" + id, Title: "Lot " + id + " chemicals",
				Description: desc.String(), Price: float64(10 + i%500), Currency: "EUR",
				Vendor: fmt.Sprintf("vendor-%03d", i%500), FetchedAt: at, Tor: true,
			},
			Matches: ms, RunID: "run-bench", At: at,
		})
		n += k
	}
	return out
}
