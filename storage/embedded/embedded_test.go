package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() precwatch.Store {
		path := filepath.Join(t.TempDir(), "precwatch.db")
		return func() precwatch.Store { return open(t, path) }
	})
}

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) func() precwatch.ConsoleStore {
		path := filepath.Join(t.TempDir(), "precwatch.db")
		return func() precwatch.ConsoleStore { return open(t, path) }
	})
}

func TestSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "precwatch.db")
	s := open(t, path)
	defer s.Close()
	ctx := context.Background()
	pragma := func(name string) string {
		var v string
		if err := s.db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	if got, want := pragma("journal_mode"), "wal"; got != want {
		t.Errorf("journal_mode = %q, want %q", got, want)
	}
	if got, want := pragma("foreign_keys"), "1"; got != want {
		t.Errorf("foreign_keys = %q, want %q", got, want)
	}
	if got, want := pragma("busy_timeout"), "30000"; got != want {
		t.Errorf("busy_timeout = %q, want %q", got, want)
	}
	// A long-running daemon's WAL is checkpointed into the file as it
	// grows, so it stays bounded and synchronous=NORMAL loses at most the
	// commits since the last checkpoint.
	if got, want := pragma("wal_autocheckpoint"), "1000"; got != want {
		t.Errorf("wal_autocheckpoint = %q, want SQLite's default %q", got, want)
	}
	if got, want := pragma("user_version"), strconv.Itoa(len(migrations)); got != want {
		t.Errorf("user_version = %q, want %q", got, want)
	}
	// Reopening does not migrate again (it would fail on CREATE TABLE).
	s2 := open(t, path)
	s2.Close()

	// A store written by a newer program is refused rather than misread.
	if _, err := s.db.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path, nil); err == nil {
		t.Error("Open of a newer schema succeeded")
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		t.Fatal(err)
	}

	// The alerts' foreign key to listings is enforced.
	_, err := s.db.ExecContext(ctx, `INSERT INTO alerts (key, listing_key, site, substance, regime, severity, status, created_at, updated_at, json)
		VALUES ('k', 'no-such-listing', 's', 'x', 'r', 1, 'new', 0, 0, '{}')`)
	if err == nil {
		t.Error("alert without listing inserted: foreign keys are off")
	}
}

// TestFullText checks that the FTS5 index follows listings' titles and
// descriptions through inserts and updates.
func TestFullText(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "precwatch.db"))
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	l := precwatch.Listing{Site: "silkvault", ID: "1", Title: "Hydrogen peroxide 30%", Description: "Lab grade, tracked shipping"}
	if _, err := s.Record(ctx, precwatch.Observation{Listing: l, At: at, RunID: "r"}); err != nil {
		t.Fatal(err)
	}
	search := func(q string) []string {
		t.Helper()
		rows, err := s.db.QueryContext(ctx, `SELECT l.key FROM listings_fts f JOIN listings l ON l.rowid = f.rowid WHERE listings_fts MATCH ?`, q)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		defer rows.Close()
		var keys []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		return keys
	}
	key := precwatch.ListingKey("silkvault", "id:1")
	if got := search("peroxide"); len(got) != 1 || got[0] != key {
		t.Errorf("search peroxide = %v, want [%s]", got, key)
	}
	if got := search("tracked"); len(got) != 1 {
		t.Errorf("search in description = %v", got)
	}
	l.Title, l.Description = "Acetone 1L", "Courier shipping"
	if _, err := s.Record(ctx, precwatch.Observation{Listing: l, At: at.Add(time.Hour), RunID: "r2"}); err != nil {
		t.Fatal(err)
	}
	if got := search("peroxide"); len(got) != 0 {
		t.Errorf("old title still indexed: %v", got)
	}
	if got := search("acetone"); len(got) != 1 {
		t.Errorf("new title not indexed: %v", got)
	}
	if _, err := s.MarkGone(ctx, precwatch.Run{ID: "r3", Site: "silkvault", Start: at.Add(2 * time.Hour), Status: precwatch.RunOK}); err != nil {
		t.Fatal(err)
	}
	if got := search("courier"); len(got) != 1 {
		t.Errorf("MarkGone broke the index: %v", got)
	}
	// The index is consistent with its content table.
	if _, err := s.db.ExecContext(ctx, "INSERT INTO listings_fts(listings_fts, rank) VALUES ('integrity-check', 1)"); err != nil {
		t.Errorf("fts integrity-check: %v", err)
	}
}

// TestQueryPlans checks that the console's queries use the indexes at any
// size rather than sorting the table.
func TestQueryPlans(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "precwatch.db"))
	defer s.Close()
	for _, q := range []string{
		"SELECT json FROM alerts" + alertOrder + " LIMIT 50",
		"SELECT json FROM alerts WHERE status = 'new'" + alertOrder + " LIMIT 50",
		"SELECT json FROM alerts WHERE site = 's'" + alertOrder + " LIMIT 50",
		"SELECT json FROM alerts WHERE substance = 'x'" + alertOrder + " LIMIT 50",
		"SELECT json FROM alerts WHERE regime = 'x'" + alertOrder + " LIMIT 50",
		"SELECT json FROM alerts WHERE vendor = 'x'" + alertOrder + " LIMIT 50",
		"SELECT json FROM alerts WHERE assignee = 'x'" + alertOrder + " LIMIT 50",
		"SELECT json FROM alerts WHERE +created_at >= 5 AND +created_at <= 9" + alertOrder + " LIMIT 50",
		"SELECT json FROM alerts WHERE status = 'new' AND +created_at >= 5" + alertOrder + " LIMIT 50",
		"SELECT json FROM runs WHERE site = 's' ORDER BY start DESC, id LIMIT 10",
	} {
		plan := explain(t, s.db, q)
		if contains(plan, "USE TEMP B-TREE") {
			t.Errorf("%s\nsorts instead of using an index: %v", q, plan)
		}
	}
	// A text query walks the order index and probes the connection's
	// match table by rowid, rather than sorting the matches.
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := matchText(ctx, conn, []string{"peroxide"}); err != nil {
		t.Fatal(err)
	}
	q := "SELECT json FROM alerts WHERE status = 'new' AND +rowid IN (SELECT id FROM temp.text_match)" + alertOrder + " LIMIT 50"
	plan := explain(t, conn, q)
	if contains(plan, "USE TEMP B-TREE") || !contains(plan, "ROWID SEARCH ON TABLE text_match") {
		t.Errorf("%s\nplan %v, want the order index probing text_match by rowid", q, plan)
	}
}

func explain(t *testing.T, db queryer, q string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return plan
}

func contains(ss []string, sub string) bool {
	return slices.ContainsFunc(ss, func(s string) bool { return strings.Contains(s, sub) })
}

// TestUpgradeV1: a file written by the version-1 schema opens in place:
// its alerts get the new columns and full text, and the console's tables
// appear.
func TestUpgradeV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "precwatch.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, migrations[0]+"PRAGMA user_version = 1;"); err != nil {
		t.Fatal(err)
	}
	l := precwatch.Listing{Site: "silkvault", ID: "1", URL: "http://silkvault.test/1", Title: "Peroxyde d'hydrogène 35%",
		Description: "Livraison discrète", Price: 40, Currency: "EUR", Vendor: "chemking"}
	m := precwatch.Match{Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityHigh}
	next, write, _ := precwatch.Reconcile(nil, nil, precwatch.Observation{Listing: l, Matches: []precwatch.Match{m}, RunID: "r", At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if len(write) != 1 {
		t.Fatalf("reconcile wrote %d alerts", len(write))
	}
	a := write[0]
	if _, err := db.ExecContext(ctx, "INSERT INTO listings (key, site, last_run_id, title, description, json) VALUES (?, ?, 'r', ?, ?, ?)",
		next.Key, l.Site, l.Title, l.Description, jsonString(t, next)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO alerts (key, listing_key, site, substance, regime, severity, status, created_at, updated_at, json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.Key, next.Key, a.Site, a.Substance, string(a.Regime), int(a.Severity), string(a.Status),
		nanos(a.CreatedAt), nanos(a.UpdatedAt), jsonString(t, a)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("user_version = %d (%v), want %d", version, err, len(migrations))
	}
	p, err := s.QueryAlerts(ctx, precwatch.AlertQuery{Vendor: "chemking", Text: "HYDROGENE discrete"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 1 || len(p.Alerts) != 1 || p.Alerts[0].Key != a.Key {
		t.Errorf("upgraded alert not found by vendor and text: %+v", p)
	}
	if _, err := s.UpdateAlert(ctx, precwatch.AlertAction{Key: a.Key, Actor: "ana", At: time.Now(), Action: precwatch.ActionClaim}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.QueryAlerts(ctx, precwatch.AlertQuery{Assignee: "ana", Text: "livraison"}); err != nil || p.Total != 1 {
		t.Errorf("claimed upgraded alert: %+v, %v", p, err)
	}
	if err := s.CreateUser(ctx, precwatch.User{Name: "ana", Role: precwatch.RoleAdmin}); err != nil {
		t.Errorf("console tables missing after upgrade: %v", err)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO alerts_fts(alerts_fts, rank) VALUES ('integrity-check', 1)"); err != nil {
		t.Errorf("alerts_fts integrity-check: %v", err)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUpgradeV2: a version-2 file gets the score column filled from each
// alert's JSON (0 for JSON written before scores), and its order indexes
// rank by score within a severity.
func TestUpgradeV2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "precwatch.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, migrations[0]+migrations[1]+ftsV2+"PRAGMA user_version = 2;"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var want []precwatch.Alert
	for i, score := range []float64{0.2, 0.9, -1, 0.5} {
		l := precwatch.Listing{Site: "silkvault", ID: fmt.Sprint(i), Title: "Hydrogen peroxide", Vendor: "v"}
		m := precwatch.Match{Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI,
			Severity: precwatch.SeverityHigh, Score: score, Reasons: []string{"over limit"}}
		// Later listings are newer: the old order was the reverse of i.
		next, write, _ := precwatch.Reconcile(nil, nil, precwatch.Observation{Listing: l, Matches: []precwatch.Match{m}, RunID: "r", At: at.Add(time.Duration(i) * time.Minute)})
		a := write[0]
		raw := jsonString(t, a)
		if score < 0 {
			// Written before alerts had a score.
			a.Score, a.Reasons = 0, nil
			raw = strings.Replace(raw, `"score":-1,"reasons":["over limit"],`, "", 1)
			var top map[string]any
			if err := json.Unmarshal([]byte(raw), &top); err != nil || top["score"] != nil {
				t.Fatalf("JSON still has a score (%v): %s", err, raw)
			}
		}
		want = append(want, a)
		if _, err := db.ExecContext(ctx, "INSERT INTO listings (key, site, last_run_id, title, description, json) VALUES (?, ?, 'r', ?, '', ?)",
			next.Key, l.Site, l.Title, jsonString(t, next)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO alerts (key, listing_key, site, substance, regime, severity, status, created_at, updated_at, vendor, words, json)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.Key, next.Key, a.Site, a.Substance, string(a.Regime), int(a.Severity), string(a.Status),
			nanos(a.CreatedAt), nanos(a.UpdatedAt), l.Vendor, alertWords(a), raw); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("user_version = %d (%v), want %d", version, err, len(migrations))
	}
	for _, a := range want {
		var score float64
		if err := s.db.QueryRowContext(ctx, "SELECT score FROM alerts WHERE key = ?", a.Key).Scan(&score); err != nil || score != a.Score {
			t.Errorf("alert %s score column = %v (%v), want %v", a.Listing.ID, score, err, a.Score)
		}
	}
	precwatch.SortAlerts(want)
	if ids := listingIDs(want); !slices.Equal(ids, []string{"1", "3", "0", "2"}) {
		t.Fatalf("reference order %v: the fixture does not test score order", ids)
	}
	as, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := listingIDs(as), listingIDs(want); !slices.Equal(got, want) {
		t.Errorf("Alerts order after upgrade = %v, want %v", got, want)
	}
	p, err := s.QueryAlerts(ctx, precwatch.AlertQuery{Vendor: "v", Text: "peroxide"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := listingIDs(p.Alerts), listingIDs(want); !slices.Equal(got, want) || p.Total != 4 {
		t.Errorf("QueryAlerts order after upgrade = %v (total %d), want %v", got, p.Total, want)
	}
	for _, name := range []string{"alerts_order", "alerts_status", "alerts_site", "alerts_substance", "alerts_regime", "alerts_vendor", "alerts_assignee"} {
		var sqlText string
		if err := s.db.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", name).Scan(&sqlText); err != nil {
			t.Errorf("index %s: %v", name, err)
			continue
		}
		if !strings.Contains(sqlText, "severity DESC, score DESC, created_at DESC, key)") {
			t.Errorf("index %s = %s, want it to end in the score order", name, sqlText)
		}
	}
}

func listingIDs(as []precwatch.Alert) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.Listing.ID
	}
	return ids
}
