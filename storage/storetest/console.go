package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/internal/words"
)

// RunConsole runs the suite of what precwatch.ConsoleStore adds to the
// Store: the alert workflow, queue queries, accounts, sessions, the audit
// log, watchlist versions and site states. open is as for Run.
func RunConsole(t *testing.T, open func(t *testing.T) func() precwatch.ConsoleStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, factory func() precwatch.ConsoleStore)
	}{
		{"UpdateAlert", testUpdateAlert},
		{"UpdateAlertConcurrent", testUpdateAlertConcurrent},
		{"RecordKeepsWorkflow", testRecordKeepsWorkflow},
		{"QueryAlerts", testQueryAlerts},
		{"QueryAlertsText", testQueryAlertsText},
		{"QueryAlertsPageCap", testQueryAlertsPageCap},
		{"QueryAlertsFollowsWrites", testQueryAlertsFollowsWrites},
		{"QueryAlertsScoreOrder", testQueryAlertsScoreOrder},
		{"QueryAlertsSort", testQueryAlertsSort},
		{"Users", testUsers},
		{"UpdateUserConcurrent", testUpdateUserConcurrent},
		{"Sessions", testSessions},
		{"Audit", testAudit},
		{"AuditQuery", testAuditQuery},
		{"AuditCount", testAuditCount},
		{"WatchlistVersions", testWatchlistVersions},
		{"SiteStates", testSiteStates},
		{"ConsolePersistence", testConsolePersistence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func consoleClient(t *testing.T, factory func() precwatch.ConsoleStore) precwatch.ConsoleStore {
	t.Helper()
	s := factory()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func update(t *testing.T, s precwatch.ConsoleStore, act precwatch.AlertAction) precwatch.Alert {
	t.Helper()
	a, err := s.UpdateAlert(context.Background(), act)
	if err != nil {
		t.Fatalf("UpdateAlert(%+v): %v", act, err)
	}
	return a
}

func query(t *testing.T, s precwatch.ConsoleStore, q precwatch.AlertQuery) precwatch.AlertPage {
	t.Helper()
	p, err := s.QueryAlerts(context.Background(), q)
	if err != nil {
		t.Fatalf("QueryAlerts(%+v): %v", q, err)
	}
	return p
}

func actions(a precwatch.Alert) []string {
	var out []string
	for _, e := range a.Timeline {
		out = append(out, e.Action+":"+e.From+">"+e.To+":"+e.Text)
	}
	return out
}

func testUpdateAlert(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	ctx := context.Background()
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	record(t, s, o)
	key := alertKey(o, "hydrogen-peroxide")
	at := t0.Add(time.Hour)

	a := update(t, s, precwatch.AlertAction{Key: key, Actor: "ana", At: at, Action: precwatch.ActionClaim})
	if a.Assignee != "ana" || !a.UpdatedAt.Equal(at) {
		t.Errorf("after claim: assignee %q updated %v", a.Assignee, a.UpdatedAt)
	}
	a = update(t, s, precwatch.AlertAction{Key: key, Actor: "ana", At: at.Add(time.Minute), Action: precwatch.ActionStatus, Status: precwatch.StatusTriaged})
	a = update(t, s, precwatch.AlertAction{Key: key, Actor: "ben", At: at.Add(2 * time.Minute), Action: precwatch.ActionNote, Text: "  vendor also on agora2  "})
	want := []string{"claim:>ana:", "status:new>triaged:", "note:>:vendor also on agora2"}
	if got := actions(a); !slices.Equal(got, want) {
		t.Errorf("timeline = %v, want %v", got, want)
	}
	// What UpdateAlert returns is what is stored.
	if got, want := jsonOf(t, getAlert(t, s, key)), jsonOf(t, a); got != want {
		t.Errorf("stored alert differs from the returned one:\n got %s\nwant %s", got, want)
	}
	// Rejected actions change nothing.
	before := jsonOf(t, getAlert(t, s, key))
	for _, bad := range []precwatch.AlertAction{
		{Key: key, Actor: "ana", At: at, Action: precwatch.ActionStatus, Status: precwatch.StatusNew},
		{Key: key, Actor: "ana", At: at, Action: precwatch.ActionStatus, Status: precwatch.StatusDismissed},
		{Key: key, Actor: "ana", At: at, Action: precwatch.ActionNote, Text: "   "},
		{Key: key, Actor: "", At: at, Action: precwatch.ActionClaim},
		{Key: key, Actor: "ana", At: at, Action: "delete"},
	} {
		if _, err := s.UpdateAlert(ctx, bad); !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("UpdateAlert(%+v) error = %v, want ErrInvalid", bad, err)
		}
	}
	if got := jsonOf(t, getAlert(t, s, key)); got != before {
		t.Errorf("a rejected action changed the alert:\n got %s\nwant %s", got, before)
	}
	if _, err := s.UpdateAlert(ctx, precwatch.AlertAction{Key: "no-such-alert", Actor: "ana", At: at, Action: precwatch.ActionClaim}); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("UpdateAlert(unknown) error = %v, want ErrNotFound", err)
	}

	// The indexes follow: status and assignee filters see the change.
	if p := query(t, s, precwatch.AlertQuery{Status: precwatch.StatusTriaged, Assignee: "ana"}); p.Total != 1 || len(p.Alerts) != 1 || p.Alerts[0].Key != key {
		t.Errorf("triaged+ana = %v (total %d), want [%s]", keysOf(p.Alerts), p.Total, key)
	}
	a = update(t, s, precwatch.AlertAction{Key: key, Actor: "ben", At: at.Add(3 * time.Minute), Action: precwatch.ActionClaim})
	a = update(t, s, precwatch.AlertAction{Key: key, Actor: "ben", At: at.Add(4 * time.Minute), Action: precwatch.ActionStatus, Status: precwatch.StatusDismissed, Text: "already reported"})
	if p := query(t, s, precwatch.AlertQuery{Assignee: "ana"}); p.Total != 0 || len(p.Alerts) != 0 {
		t.Errorf("ana still has %v", keysOf(p.Alerts))
	}
	if p := query(t, s, precwatch.AlertQuery{Status: precwatch.StatusTriaged}); p.Total != 0 {
		t.Errorf("still triaged: %v", keysOf(p.Alerts))
	}
	if p := query(t, s, precwatch.AlertQuery{Status: precwatch.StatusDismissed, Assignee: "ben"}); p.Total != 1 {
		t.Errorf("dismissed+ben total %d, want 1", p.Total)
	}
	if got := allAlerts(t, s, precwatch.AlertFilter{Status: precwatch.StatusDismissed}); len(got) != 1 {
		t.Errorf("Alerts(dismissed) = %v", keysOf(got))
	}
	a = update(t, s, precwatch.AlertAction{Key: key, Actor: "ben", At: at.Add(5 * time.Minute), Action: precwatch.ActionUnclaim})
	if a.Assignee != "" || len(a.Timeline) != 6 || a.Timeline[5].From != "ben" {
		t.Errorf("after unclaim: assignee %q timeline %v", a.Assignee, actions(a))
	}
	if p := query(t, s, precwatch.AlertQuery{Assignee: "ben"}); p.Total != 0 {
		t.Errorf("unclaimed alert still assigned: total %d", p.Total)
	}
}

// testUpdateAlertConcurrent: investigators on several clients act on the
// same alerts while a crawler records a change: no timeline entry and no
// history event is lost.
func testUpdateAlertConcurrent(t *testing.T, factory func() precwatch.ConsoleStore) {
	const workers, notes = 4, 8
	ctx := context.Background()
	clients := make([]precwatch.ConsoleStore, workers+1)
	for i := range clients {
		clients[i] = consoleClient(t, factory)
	}
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30), thiodiglycol())
	record(t, clients[0], o)
	keys := []string{alertKey(o, "hydrogen-peroxide"), alertKey(o, "thiodiglycol")}
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := range workers {
		wg.Go(func() {
			for i := range notes {
				for _, k := range keys {
					act := precwatch.AlertAction{Key: k, Actor: fmt.Sprintf("inv%d", w), At: t0.Add(time.Hour), Action: precwatch.ActionNote, Text: fmt.Sprintf("note %d/%d", w, i)}
					if _, err := clients[w].UpdateAlert(ctx, act); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 4 {
			if _, err := clients[workers].Record(ctx, obs("silkvault", "L1", float64(50+i), t0.Add(time.Duration(i+1)*time.Minute), "run-2", peroxide(30), thiodiglycol())); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, k := range keys {
		a := getAlert(t, clients[0], k)
		if got, want := len(a.Timeline), workers*notes; got != want {
			t.Errorf("alert %s: %d timeline entries, want %d", a.Substance, got, want)
		}
		seen := map[string]bool{}
		for _, e := range a.Timeline {
			seen[e.Text] = true
		}
		if len(seen) != workers*notes {
			t.Errorf("alert %s: %d distinct notes, want %d", a.Substance, len(seen), workers*notes)
		}
		if got, want := len(a.History), 5; got != want {
			t.Errorf("alert %s: %d history events, want %d (raised + 4 changes)", a.Substance, got, want)
		}
	}
}

// testRecordKeepsWorkflow: a material change rewrites an alert but keeps
// its status, assignee and timeline; a sighting older than the last one
// changes nothing.
func testRecordKeepsWorkflow(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	record(t, s, o)
	key := alertKey(o, "hydrogen-peroxide")
	update(t, s, precwatch.AlertAction{Key: key, Actor: "ana", At: t0.Add(time.Minute), Action: precwatch.ActionClaim})
	update(t, s, precwatch.AlertAction{Key: key, Actor: "ana", At: t0.Add(2 * time.Minute), Action: precwatch.ActionStatus, Status: precwatch.StatusTriaged})
	want := update(t, s, precwatch.AlertAction{Key: key, Actor: "ana", At: t0.Add(3 * time.Minute), Action: precwatch.ActionNote, Text: "price watch"})

	res := record(t, s, obs("silkvault", "L1", 60, t0.Add(time.Hour), "run-2", peroxide(30)))
	if !res.Changed {
		t.Fatalf("price change not recorded: %+v", res)
	}
	a := getAlert(t, s, key)
	if a.Status != precwatch.StatusTriaged || a.Assignee != "ana" {
		t.Errorf("after a change: status %q assignee %q, want triaged, ana", a.Status, a.Assignee)
	}
	if got, want := actions(a), actions(want); !slices.Equal(got, want) {
		t.Errorf("after a change: timeline %v, want %v", got, want)
	}
	if got, want := kinds(a), []string{precwatch.EventRaised, precwatch.EventChanged}; !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
	if p := query(t, s, precwatch.AlertQuery{Status: precwatch.StatusTriaged, Assignee: "ana"}); p.Total != 1 {
		t.Errorf("triaged+ana total %d after a change, want 1", p.Total)
	}
	if p := query(t, s, precwatch.AlertQuery{Status: precwatch.StatusNew}); p.Total != 0 {
		t.Errorf("a change put the alert back to new: %v", keysOf(p.Alerts))
	}
}

// queryFixture records alerts spread over every filter: sites, vendors (one
// without), substances of every regime and severity, scores, statuses,
// assignees, creation times (ties and nanosecond steps) and listing texts
// with accents and mixed case.
func queryFixture(t *testing.T, s precwatch.ConsoleStore, n int) []precwatch.Alert {
	t.Helper()
	ms := [][]precwatch.Match{
		{peroxide(30)}, {nitromethane()}, {sulphuric()}, {thiodiglycol()},
		{peroxide(30), sulphuric()}, {thiodiglycol(), nitromethane()}, {peroxide(5)},
	}
	titles := []string{"Peroxyde d'hydrogène 30%", "HYDROGEN Peroxide lab grade", "Nitrométhane racing", "Thiodiglycol CAS 111-48-8", "Schwefelsäure technisch", "Kit"}
	descs := []string{"Livraison rapide, discrète.", "Fast shipping. Escrow only.", "", "Café-crème colour bottle", "Shipping worldwide; DISCRETE packaging"}
	vendors := []string{"chemkinG", "", "nordlab", "Lab Supply Co", "Химлаб"}
	statuses := []precwatch.AlertStatus{precwatch.StatusTriaged, precwatch.StatusEscalated, precwatch.StatusDismissed}
	var keys []string
	for i := range n {
		at := t0.Add(time.Duration(i/3) * time.Minute)
		if i%7 == 0 {
			at = at.Add(time.Nanosecond)
		}
		// Scores in ten steps, often tied, unrelated to creation order.
		score := float64((i*7)%10) * 2.5
		o := obs([]string{"silkvault", "agora2", "chemshop"}[i%3], fmt.Sprintf("Q%04d", i), float64(10+i), at, "run-1", scored(score, ms[i%len(ms)]...)...)
		o.Listing.Title = titles[i%len(titles)] + fmt.Sprintf(" lot%d", i)
		o.Listing.Description = descs[(i/2)%len(descs)]
		o.Listing.Vendor = vendors[(i/5)%len(vendors)]
		keys = append(keys, record(t, s, o).NewAlerts...)
	}
	for i, k := range keys {
		at := t0.Add(24 * time.Hour)
		if i%3 == 0 {
			update(t, s, precwatch.AlertAction{Key: k, Actor: []string{"ana", "ben"}[i%2], At: at, Action: precwatch.ActionClaim})
		}
		if i%4 != 0 {
			act := precwatch.AlertAction{Key: k, Actor: "ana", At: at, Action: precwatch.ActionStatus, Status: statuses[i%len(statuses)], Text: "reason"}
			update(t, s, act)
		}
	}
	all := make([]precwatch.Alert, len(keys))
	for i, k := range keys {
		all[i] = getAlert(t, s, k)
	}
	precwatch.SortAlerts(all)
	return all
}

// matchesQuery is the reference meaning of an AlertQuery's filters.
func matchesQuery(a precwatch.Alert, q precwatch.AlertQuery) bool {
	if (q.Status != "" && a.Status != q.Status) || a.Severity < q.MinSeverity ||
		(q.Substance != "" && a.Substance != q.Substance) || (q.Regime != "" && a.Regime != q.Regime) ||
		(q.Site != "" && a.Site != q.Site) || (q.Vendor != "" && !strings.EqualFold(a.Listing.Vendor, q.Vendor)) ||
		(q.Assignee != "" && a.Assignee != q.Assignee) ||
		(!q.Since.IsZero() && a.CreatedAt.Before(q.Since)) || (!q.Until.IsZero() && a.CreatedAt.After(q.Until)) {
		return false
	}
	have := words.Split(a.Listing.Title, a.Listing.Description)
	for _, w := range words.Split(q.Text) {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func expectPage(t *testing.T, s precwatch.ConsoleStore, all []precwatch.Alert, q precwatch.AlertQuery) {
	t.Helper()
	var match []precwatch.Alert
	for _, a := range all {
		if matchesQuery(a, q) {
			match = append(match, a)
		}
	}
	precwatch.SortAlertsBy(match, q.Sort)
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	lo := min(max(q.Offset, 0), len(match))
	want := keysOf(match[lo:min(lo+limit, len(match))])
	p := query(t, s, q)
	if got := keysOf(p.Alerts); !slices.Equal(got, want) {
		t.Errorf("QueryAlerts(%+v):\n got %d %v\nwant %d %v", q, len(got), got, len(want), want)
	}
	if p.Total != len(match) {
		t.Errorf("QueryAlerts(%+v).Total = %d, want %d", q, p.Total, len(match))
	}
}

func testQueryAlerts(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	all := queryFixture(t, s, 150)
	// A full page comes back whole and in SortAlerts order.
	p := query(t, s, precwatch.AlertQuery{Limit: 3})
	if got, want := jsonOf(t, p.Alerts), jsonOf(t, all[:3]); got != want {
		t.Errorf("first page:\n got %s\nwant %s", got, want)
	}
	mid := all[len(all)/2].CreatedAt
	for _, q := range []precwatch.AlertQuery{
		{},
		{Limit: 1000},
		{Limit: 7, Offset: 3},
		{Offset: 180},
		{Offset: 10000},
		{Offset: -5, Limit: -1},
		{Status: precwatch.StatusNew},
		{Status: precwatch.StatusDismissed, Limit: 10, Offset: 5},
		{Status: "unknown"},
		{MinSeverity: precwatch.SeverityHigh},
		{MinSeverity: precwatch.SeverityCritical, Offset: 10},
		{MinSeverity: precwatch.Severity(42)},
		{Substance: "nitromethane"},
		{Regime: precwatch.RegimeEUAnnexII},
		{Regime: precwatch.RegimeCWC2, Status: precwatch.StatusTriaged},
		{Site: "agora2", Limit: 100},
		{Vendor: "chemkinG"},
		{Vendor: "chemking"}, // the vendor filter ignores case
		{Vendor: "CHEMKING", Status: precwatch.StatusNew},
		{Vendor: "lab supply co", Site: "chemshop"},
		{Vendor: "химЛАБ"},  // beyond ASCII too
		{Vendor: "chemkin"}, // but is not a prefix match
		{Vendor: "Lab Supply Co", Site: "chemshop"},
		{Assignee: "ana"},
		{Assignee: "ben", Status: precwatch.StatusEscalated},
		{Since: mid},
		{Until: mid},
		{Since: mid, Until: mid},
		{Since: t0.Add(10 * time.Minute), Until: t0.Add(40*time.Minute + time.Nanosecond), MinSeverity: precwatch.SeverityMedium},
		{Since: t0.Add(20 * time.Minute), Status: precwatch.StatusNew, Site: "silkvault", Offset: 2, Limit: 5},
		{Status: precwatch.StatusNew, Site: "chemshop", MinSeverity: precwatch.SeverityHigh, Substance: "hydrogen-peroxide"},
		{Text: "peroxide"},
		{Text: "Shipping", Status: precwatch.StatusNew, Limit: 20, Offset: 20},
		{Text: "shipping discrete", Vendor: "nordlab", Since: t0.Add(30 * time.Minute)},
		{Text: "shipping", MinSeverity: precwatch.SeverityHigh},
		{Text: "peroxide", Offset: 3, Limit: 4},
		{Text: "fast shipping escrow", Assignee: "ana"},
		{Text: "kit", Site: "chemshop"},
		{Text: "kit", Status: precwatch.StatusTriaged, MinSeverity: precwatch.SeverityMedium},
		{Text: "shipping", Since: mid},
		{Text: "shipping", Since: mid, Status: precwatch.StatusNew, MinSeverity: precwatch.SeverityMedium},
		{Text: "shipping", Assignee: "ben", Until: mid, Limit: 3, Offset: 1},
		{Text: "lot12 shipping"},
		{Text: "nothing-like-this"},
		{Text: "nothing-like-this", Status: precwatch.StatusNew, Since: mid},
		{Text: "  ;;  "},
	} {
		expectPage(t, s, all, q)
	}
}

// testQueryAlertsSort: each order of the queue, with every kind of filter,
// pages as precwatch.SortAlertsBy orders the matches; an unknown order, or a
// page of a non-default order deeper than MaxSortDepth, is ErrInvalid.
func testQueryAlertsSort(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	all := queryFixture(t, s, 150)
	mid := all[len(all)/2].CreatedAt
	for _, sort := range precwatch.AlertSorts {
		for _, q := range []precwatch.AlertQuery{
			{},
			{Limit: 1000},
			{Limit: 7, Offset: 3},
			{Limit: 1, Offset: 149},
			{Offset: 180},
			{Status: precwatch.StatusNew},
			{Status: precwatch.StatusDismissed, Limit: 10, Offset: 5},
			{MinSeverity: precwatch.SeverityHigh, Limit: 9, Offset: 4},
			{MinSeverity: precwatch.Severity(42)},
			{Substance: "nitromethane", Limit: 5, Offset: 5},
			{Site: "agora2", Limit: 100},
			{Site: "chemshop", Offset: 20, Limit: 6},
			{Vendor: "CHEMKING"},
			{Assignee: "ana", Limit: 4, Offset: 2},
			{Since: mid},
			{Until: mid, Limit: 11, Offset: 11},
			{Since: mid, Until: mid},
			{Since: t0.Add(10 * time.Minute), Until: t0.Add(40*time.Minute + time.Nanosecond), MinSeverity: precwatch.SeverityMedium},
			{Since: t0.Add(20 * time.Minute), Status: precwatch.StatusNew, Offset: 2, Limit: 5},
			{Text: "shipping", Limit: 8, Offset: 8},
			{Text: "peroxide", Site: "silkvault"},
			{Text: "shipping", Since: mid, Status: precwatch.StatusNew},
			{Text: "nothing-like-this"},
		} {
			q.Sort = sort
			expectPage(t, s, all, q)
		}
	}
	// Every alert once across the pages of each order.
	for _, sort := range precwatch.AlertSorts {
		seen := map[string]bool{}
		for off := 0; off < len(all); off += 13 {
			for _, a := range query(t, s, precwatch.AlertQuery{Sort: sort, Offset: off, Limit: 13}).Alerts {
				if seen[a.Key] {
					t.Errorf("sort %s: %s on two pages", sort, a.Key)
				}
				seen[a.Key] = true
			}
		}
		if len(seen) != len(all) {
			t.Errorf("sort %s: %d alerts over the pages, want %d", sort, len(seen), len(all))
		}
	}
	for _, q := range []precwatch.AlertQuery{
		{Sort: "price"},
		{Sort: precwatch.SortNewest, Offset: precwatch.MaxSortDepth - 49, Limit: 50},
		{Sort: precwatch.SortSite, Offset: precwatch.MaxSortDepth},
	} {
		if _, err := s.QueryAlerts(context.Background(), q); !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("QueryAlerts(%+v) = %v, want ErrInvalid", q, err)
		}
	}
	// The default order pages as deep as there are alerts.
	if _, err := s.QueryAlerts(context.Background(), precwatch.AlertQuery{Sort: precwatch.SortSeverity, Offset: precwatch.MaxSortDepth}); err != nil {
		t.Errorf("deep page of the default order: %v", err)
	}
}

// testQueryAlertsPageCap: a page holds at most 500 alerts, 50 by default.
func testQueryAlertsPageCap(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	const listings, substances = 26, 20
	for i := range listings {
		var ms []precwatch.Match
		for k := range substances {
			m := sulphuric()
			m.Substance = fmt.Sprintf("substance-%02d", k)
			ms = append(ms, m)
		}
		record(t, s, obs("chemshop", fmt.Sprintf("P%02d", i), 10, t0.Add(time.Duration(i)*time.Second), "run-1", ms...))
	}
	for _, c := range []struct {
		q    precwatch.AlertQuery
		want int
	}{
		{precwatch.AlertQuery{}, 50},
		{precwatch.AlertQuery{Limit: 1000}, 500},
		{precwatch.AlertQuery{Limit: 1000, Offset: 500}, listings*substances - 500},
		{precwatch.AlertQuery{Limit: 501, Site: "chemshop"}, 500},
	} {
		p := query(t, s, c.q)
		if len(p.Alerts) != c.want || p.Total != listings*substances {
			t.Errorf("QueryAlerts(%+v) = %d alerts, total %d; want %d, total %d", c.q, len(p.Alerts), p.Total, c.want, listings*substances)
		}
	}
}

// testQueryAlertsText: the text filter wants every word, in the title or
// the description, whatever the case and accents, and whole words only.
func testQueryAlertsText(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	all := queryFixture(t, s, 30)
	count := func(text string) int {
		t.Helper()
		p := query(t, s, precwatch.AlertQuery{Text: text, Limit: 500})
		for _, a := range p.Alerts {
			if !matchesQuery(a, precwatch.AlertQuery{Text: text}) {
				t.Errorf("Text %q found %q / %q", text, a.Listing.Title, a.Listing.Description)
			}
		}
		return p.Total
	}
	byTitle := func(prefix string) int {
		n := 0
		for _, a := range all {
			if strings.HasPrefix(a.Listing.Title, prefix) {
				n++
			}
		}
		return n
	}
	hydrogene := byTitle("Peroxyde d'hydrogène")
	if hydrogene == 0 {
		t.Fatal("fixture without the accented title")
	}
	for _, text := range []string{"hydrogène", "HYDROGENE", "Hydrogéne", "d'hydrogène peroxyde", "peroxyde, hydrogene!"} {
		if got := count(text); got != hydrogene {
			t.Errorf("Text %q: %d alerts, want %d", text, got, hydrogene)
		}
	}
	if got, want := count("schwefelsaure"), byTitle("Schwefelsäure"); got != want || want == 0 {
		t.Errorf("Text schwefelsaure: %d alerts, want %d", got, want)
	}
	if got := count("hydrogen"); got != byTitle("HYDROGEN") {
		t.Errorf("Text hydrogen: %d, want %d (not the French word)", got, byTitle("HYDROGEN"))
	}
	for _, text := range []string{"hydro", "peroxide hydrogène", "lot999999"} {
		if got := count(text); got != 0 {
			t.Errorf("Text %q: %d alerts, want 0", text, got)
		}
	}
	// A word of the description, and one of the listing number.
	if got := count("cafe"); got == 0 {
		t.Error("Text cafe found nothing in descriptions")
	}
	if got := count("LOT7"); got != 1 {
		t.Errorf("Text LOT7: %d alerts, want 1", got)
	}
	if got := count("111 48 8"); got != byTitle("Thiodiglycol") {
		t.Errorf("Text 111 48 8: %d, want %d", got, byTitle("Thiodiglycol"))
	}
}

// testQueryAlertsFollowsWrites: the text and vendor filters follow the
// listing's latest text and vendor.
func testQueryAlertsFollowsWrites(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	o.Listing.Title, o.Listing.Vendor = "Peroxide bleach", "alpha"
	record(t, s, o)
	o.At, o.RunID = t0.Add(time.Hour), "run-2"
	o.Listing.Title, o.Listing.Vendor = "Peroxide stain remover", "beta"
	o.Listing.Price = 50
	record(t, s, o)
	for _, c := range []struct {
		q    precwatch.AlertQuery
		want int
	}{
		{precwatch.AlertQuery{Text: "bleach"}, 0},
		{precwatch.AlertQuery{Text: "stain"}, 1},
		{precwatch.AlertQuery{Text: "peroxide"}, 1},
		{precwatch.AlertQuery{Vendor: "alpha"}, 0},
		{precwatch.AlertQuery{Vendor: "beta", Text: "remover"}, 1},
	} {
		if p := query(t, s, c.q); p.Total != c.want || len(p.Alerts) != c.want {
			t.Errorf("QueryAlerts(%+v) = %d alerts, total %d; want %d", c.q, len(p.Alerts), p.Total, c.want)
		}
	}
}

// testQueryAlertsScoreOrder: queries rank by score within a severity under
// every filter, a creation window among them, and follow a re-scoring
// material change and workflow changes without losing or doubling an
// alert.
func testQueryAlertsScoreOrder(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	var os []precwatch.Observation
	for i := range 24 {
		// Newer listings score lower; several share a score; times one
		// nanosecond apart and one shared, for the window's edges.
		at := t0.Add(time.Duration(i) * time.Nanosecond)
		if i == 23 {
			at = t0.Add(22 * time.Nanosecond)
		}
		ms := scored(float64(24-i)/2-float64(i%3), peroxide(30))
		if i%4 == 3 {
			ms = scored(float64(i), thiodiglycol())
		}
		o := obs([]string{"silkvault", "agora2"}[i%2], fmt.Sprintf("R%02d", i), 20, at, "run-1", ms...)
		o.Listing.Title, o.Listing.Vendor = "Peroxide lot "+strconv.Itoa(i), []string{"alpha", "beta", "gamma"}[i%3]
		os = append(os, o)
		record(t, s, o)
	}
	keys := make([]string, len(os))
	for i, o := range os {
		keys[i] = alertKey(o, o.Matches[0].Substance)
		if i%5 == 0 {
			update(t, s, precwatch.AlertAction{Key: keys[i], Actor: "ana", At: t0.Add(time.Hour), Action: precwatch.ActionClaim})
		}
	}
	queries := []precwatch.AlertQuery{
		{},
		{Limit: 5, Offset: 4},
		{MinSeverity: precwatch.SeverityCritical},
		{Site: "agora2"},
		{Vendor: "beta", Site: "silkvault"},
		{Text: "peroxide"},
		{Status: precwatch.StatusNew, MinSeverity: precwatch.SeverityHigh},
		{Assignee: "ana"},
		{Since: t0.Add(3 * time.Nanosecond), Until: t0.Add(22 * time.Nanosecond)},
		{Since: t0.Add(5*time.Nanosecond + 1), Limit: 4, Offset: 1},
		{Until: t0.Add(7 * time.Nanosecond), Site: "agora2", Text: "peroxide lot"},
		{Since: t0.Add(2 * time.Nanosecond), Until: t0.Add(2 * time.Nanosecond)},
		{Since: t0.Add(22 * time.Nanosecond), MinSeverity: precwatch.SeverityHigh, Vendor: "beta"},
		{Since: t0.Add(time.Minute)},
	}
	all := func() []precwatch.Alert {
		var as []precwatch.Alert
		for _, k := range keys {
			as = append(as, getAlert(t, s, k))
		}
		precwatch.SortAlerts(as)
		return as
	}
	before := all()
	for _, q := range queries {
		expectPage(t, s, before, q)
	}
	// The score, not the creation time, leads within a severity.
	if p := query(t, s, precwatch.AlertQuery{MinSeverity: precwatch.SeverityHigh, Limit: 500}); len(p.Alerts) > 1 {
		for i := 1; i < len(p.Alerts); i++ {
			if a, b := p.Alerts[i-1], p.Alerts[i]; a.Severity == b.Severity && a.Score < b.Score {
				t.Errorf("%s (score %v) before %s (score %v)", a.Listing.ID, a.Score, b.Listing.ID, b.Score)
			}
		}
	}

	// Material changes re-score a few alerts, up and down, and one
	// alert changes status; every query follows.
	for i, sc := range map[int]float64{20: 500, 1: -10, 6: 11.75, 9: 11.75} {
		o := os[i]
		o.At, o.RunID, o.Listing.Price = t0.Add(2*time.Hour), "run-2", 99
		o.Matches = scored(sc, o.Matches[0])
		if res := record(t, s, o); !res.Changed || len(res.UpdatedAlerts) != 1 {
			t.Fatalf("re-scoring %s: %+v", o.Listing.ID, res)
		}
	}
	update(t, s, precwatch.AlertAction{Key: keys[20], Actor: "ben", At: t0.Add(3 * time.Hour), Action: precwatch.ActionStatus, Status: precwatch.StatusTriaged})
	after := all()
	if slices.Equal(keysOf(after), keysOf(before)) {
		t.Fatal("re-scoring did not change the reference order: the test proves nothing")
	}
	if i := slices.IndexFunc(after, func(a precwatch.Alert) bool { return a.Severity == precwatch.SeverityHigh }); i < 0 || after[i].Key != keys[20] {
		t.Errorf("reference order of the high alerts does not start with R20: %v", keysOf(after))
	}
	for _, q := range append(queries, precwatch.AlertQuery{Status: precwatch.StatusTriaged}, precwatch.AlertQuery{Status: precwatch.StatusNew, Since: t0.Add(10 * time.Nanosecond)}) {
		expectPage(t, s, after, q)
	}
}

func testUsers(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	ctx := context.Background()
	zed := precwatch.User{Name: "zed", Role: precwatch.RoleAdmin, PasswordHash: "$2a$10$x", CreatedAt: t0}
	ana := precwatch.User{Name: "ana", Role: precwatch.RoleInvestigator, PasswordHash: "$2a$10$y", CreatedAt: t0.Add(time.Minute)}
	for _, u := range []precwatch.User{zed, ana} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Name, err)
		}
	}
	if err := s.CreateUser(ctx, precwatch.User{Name: "ana", Role: precwatch.RoleAdmin}); !errors.Is(err, precwatch.ErrConflict) {
		t.Errorf("CreateUser(existing) error = %v, want ErrConflict", err)
	}
	for _, bad := range []precwatch.User{{Name: "", Role: precwatch.RoleAdmin}, {Name: "x", Role: "root"}} {
		if err := s.CreateUser(ctx, bad); !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("CreateUser(%+v) error = %v, want ErrInvalid", bad, err)
		}
	}
	got, err := s.User(ctx, "ana")
	if err != nil || jsonOf(t, got) != jsonOf(t, ana) {
		t.Errorf("User(ana) = %+v, %v; want %+v", got, err, ana)
	}
	ana.Role, ana.Disabled = precwatch.RoleAnalyst, true
	err = s.UpdateUser(ctx, "ana", func(u *precwatch.User, all []precwatch.User) error {
		if seen, want := jsonOf(t, all), jsonOf(t, []precwatch.User{got, zed}); seen != want {
			t.Errorf("UpdateUser's change sees %s, want %s", seen, want)
		}
		u.Role, u.Disabled = ana.Role, ana.Disabled
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, "ana"); got.Role != precwatch.RoleAnalyst || !got.Disabled {
		t.Errorf("after update: %+v", got)
	}
	noop := func(*precwatch.User, []precwatch.User) error { return nil }
	if err := s.UpdateUser(ctx, "nobody", noop); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("UpdateUser(nobody) error = %v, want ErrNotFound", err)
	}
	// A refused, renaming or invalid change writes nothing.
	errNo := errors.New("refused")
	for _, bad := range []struct {
		change func(*precwatch.User, []precwatch.User) error
		want   error
	}{
		{func(u *precwatch.User, _ []precwatch.User) error { u.Role = precwatch.RoleAdmin; return errNo }, errNo},
		{func(u *precwatch.User, _ []precwatch.User) error { u.Name = "zed"; return nil }, precwatch.ErrInvalid},
		{func(u *precwatch.User, _ []precwatch.User) error { u.Role = "root"; return nil }, precwatch.ErrInvalid},
	} {
		if err := s.UpdateUser(ctx, "ana", bad.change); !errors.Is(err, bad.want) {
			t.Errorf("UpdateUser error = %v, want %v", err, bad.want)
		}
	}
	if got, _ := s.User(ctx, "ana"); jsonOf(t, got) != jsonOf(t, ana) {
		t.Errorf("after refused changes: %+v, want %+v", got, ana)
	}
	if _, err := s.User(ctx, "nobody"); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("User(nobody) error = %v, want ErrNotFound", err)
	}
	us, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, us), jsonOf(t, []precwatch.User{ana, zed}); got != want {
		t.Errorf("Users = %s, want %s", got, want)
	}
}

// testUpdateUserConcurrent has two clients, as two console processes
// would, each demote one of the two admins while "another active admin
// remains" is checked in the change: the changes are made to overlap, and
// exactly one may succeed, so that an admin always remains.
func testUpdateUserConcurrent(t *testing.T, factory func() precwatch.ConsoleStore) {
	ctx := context.Background()
	clients := []precwatch.ConsoleStore{consoleClient(t, factory), consoleClient(t, factory)}
	errLast := errors.New("the last active admin")
	for round := range 3 {
		names := []string{fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)}
		for _, n := range names {
			if err := clients[0].CreateUser(ctx, precwatch.User{Name: n, Role: precwatch.RoleAdmin, CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		// Each change, the first time it runs, waits (a bounded while:
		// a store that serialises writers runs the other one after it)
		// for the other to have read the users too.
		var entered [2]chan struct{}
		for i := range entered {
			entered[i] = make(chan struct{})
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, n := range names {
			wg.Go(func() {
				first := true
				errs[i] = clients[i].UpdateUser(ctx, n, func(u *precwatch.User, all []precwatch.User) error {
					if first {
						first = false
						close(entered[i])
						select {
						case <-entered[1-i]:
						case <-time.After(300 * time.Millisecond):
						}
					}
					if !slices.ContainsFunc(all, func(o precwatch.User) bool {
						return o.Name != n && slices.Contains(names, o.Name) && o.Role == precwatch.RoleAdmin && !o.Disabled
					}) {
						return errLast
					}
					u.Role = precwatch.RoleAnalyst
					return nil
				})
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, errLast):
				t.Errorf("round %d: demoting %s: %v", round, names[i], err)
			}
		}
		admins := 0
		for _, n := range names {
			if u, err := clients[1].User(ctx, n); err == nil && u.Role == precwatch.RoleAdmin {
				admins++
			}
		}
		if ok != 1 || admins != 1 {
			t.Errorf("round %d: %d demotions succeeded and %d admins remain (errors %v); want 1 and 1", round, ok, admins, errs)
		}
	}
}

func testSessions(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	se := precwatch.Session{ID: "abc123", User: "ana", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, "abc123", now.Add(30*time.Minute))
	if err != nil || jsonOf(t, got) != jsonOf(t, se) {
		t.Errorf("Session = %+v, %v; want %+v", got, err, se)
	}
	for _, at := range []time.Time{now.Add(time.Hour), now.Add(2 * time.Hour)} {
		if _, err := s.Session(ctx, "abc123", at); !errors.Is(err, precwatch.ErrNotFound) {
			t.Errorf("Session at %v (expired) error = %v, want ErrNotFound", at.Sub(now), err)
		}
	}
	if _, err := s.Session(ctx, "nope", now); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("Session(nope) error = %v, want ErrNotFound", err)
	}
	other := precwatch.Session{ID: "def456", User: "ben", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "abc123"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "abc123", now); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("deleted session error = %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, "def456", now); err != nil {
		t.Errorf("deleting one session lost another: %v", err)
	}
	if err := s.DeleteSession(ctx, "abc123"); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}
	if err := s.CreateSession(ctx, precwatch.Session{User: "ana", ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("CreateSession without id error = %v, want ErrInvalid", err)
	}
}

func testAudit(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	ctx := context.Background()
	var want []precwatch.AuditEntry
	for i := range 5 {
		// Out of time order: the log is in the order of appending.
		e := precwatch.AuditEntry{At: t0.Add(time.Duration(5-i) * time.Minute), Actor: "ana", Action: "alert.status", Target: fmt.Sprintf("alert-%d", i), Detail: "triaged"}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		want = append([]precwatch.AuditEntry{e}, want...)
	}
	for _, c := range []struct{ limit, n int }{{3, 3}, {10, 5}, {0, 5}} {
		es, err := s.Audit(ctx, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		for i := range es {
			if i > 0 && es[i].ID >= es[i-1].ID {
				t.Errorf("Audit(%d): id %d after %d, want decreasing", c.limit, es[i].ID, es[i-1].ID)
			}
		}
		for i := range es {
			es[i].ID = 0
		}
		if got, want := jsonOf(t, es), jsonOf(t, want[:c.n]); got != want {
			t.Errorf("Audit(%d) = %s, want %s", c.limit, got, want)
		}
	}
}

func testWatchlistVersions(t *testing.T, factory func() precwatch.ConsoleStore) {
	ctx := context.Background()
	s := consoleClient(t, factory)
	if _, err := s.WatchlistVersion(ctx, 1); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("WatchlistVersion(1) on an empty store error = %v, want ErrNotFound", err)
	}
	n, err := s.SaveWatchlistVersion(ctx, precwatch.WatchlistVersion{Version: 77, Author: "ana", At: t0, Comment: "initial", Data: []byte("substances: []\n")})
	if err != nil || n != 1 {
		t.Fatalf("first SaveWatchlistVersion = %d, %v; want 1", n, err)
	}
	// Concurrent saves from several clients get distinct, dense numbers.
	const workers, each = 4, 5
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for w := range workers {
		c := consoleClient(t, factory)
		wg.Go(func() {
			for i := range each {
				n, err := c.SaveWatchlistVersion(ctx, precwatch.WatchlistVersion{Author: fmt.Sprintf("w%d", w), At: t0.Add(time.Hour), Data: fmt.Appendf(nil, "v %d %d", w, i)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	want := make([]int, workers*each)
	for i := range want {
		want[i] = i + 2
	}
	if !slices.Equal(got, want) {
		t.Errorf("concurrent versions = %v, want %v", got, want)
	}
	vs, err := s.WatchlistVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1+workers*each {
		t.Fatalf("%d versions, want %d", len(vs), 1+workers*each)
	}
	for i, v := range vs {
		if v.Version != len(vs)-i || v.Data != nil {
			t.Errorf("versions[%d] = %d with %d bytes of data, want %d without", i, v.Version, len(v.Data), len(vs)-i)
		}
	}
	if last := vs[len(vs)-1]; last.Author != "ana" || last.Comment != "initial" || !last.At.Equal(t0) {
		t.Errorf("version 1 = %+v", last)
	}
	v, err := s.WatchlistVersion(ctx, 1)
	if err != nil || string(v.Data) != "substances: []\n" || v.Version != 1 || v.Author != "ana" {
		t.Errorf("WatchlistVersion(1) = %+v %q, %v", v, v.Data, err)
	}
	if _, err := s.WatchlistVersion(ctx, 99); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("WatchlistVersion(99) error = %v, want ErrNotFound", err)
	}
}

func testSiteStates(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	ctx := context.Background()
	if m, err := s.SiteStates(ctx); err != nil || len(m) != 0 {
		t.Errorf("SiteStates on an empty store = %v, %v", m, err)
	}
	a := precwatch.SiteState{Site: "silkvault", Paused: true, By: "olga", At: t0}
	b := precwatch.SiteState{Site: "agora2", Paused: true, By: "olga", At: t0}
	for _, st := range []precwatch.SiteState{a, b} {
		if err := s.SetSiteState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	b.Paused, b.At = false, t0.Add(time.Hour)
	if err := s.SetSiteState(ctx, b); err != nil {
		t.Fatal(err)
	}
	m, err := s.SiteStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, m), jsonOf(t, map[string]precwatch.SiteState{"silkvault": a, "agora2": b}); got != want {
		t.Errorf("SiteStates = %s, want %s", got, want)
	}
	if err := s.SetSiteState(ctx, precwatch.SiteState{}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("SetSiteState without site error = %v, want ErrInvalid", err)
	}
}

func testConsolePersistence(t *testing.T, factory func() precwatch.ConsoleStore) {
	ctx := context.Background()
	s := factory()
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	record(t, s, o)
	a := update(t, s, precwatch.AlertAction{Key: alertKey(o, "hydrogen-peroxide"), Actor: "ana", At: t0, Action: precwatch.ActionClaim})
	now := time.Now()
	steps := []error{
		s.CreateUser(ctx, precwatch.User{Name: "ana", Role: precwatch.RoleAdmin}),
		s.CreateSession(ctx, precwatch.Session{ID: "s1", User: "ana", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}),
		s.AppendAudit(ctx, precwatch.AuditEntry{At: t0, Actor: "ana", Action: "login"}),
		s.SetSiteState(ctx, precwatch.SiteState{Site: "silkvault", Paused: true}),
	}
	_, err := s.SaveWatchlistVersion(ctx, precwatch.WatchlistVersion{Author: "ana", Data: []byte("x")})
	steps = append(steps, err)
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := consoleClient(t, factory)
	if p := query(t, s2, precwatch.AlertQuery{Assignee: "ana", Text: "listing"}); p.Total != 1 || jsonOf(t, p.Alerts) != jsonOf(t, []precwatch.Alert{a}) {
		t.Errorf("claimed alert after reopening: %+v", p)
	}
	if _, err := s2.User(ctx, "ana"); err != nil {
		t.Errorf("user after reopening: %v", err)
	}
	if _, err := s2.Session(ctx, "s1", now); err != nil {
		t.Errorf("session after reopening: %v", err)
	}
	if es, err := s2.Audit(ctx, 10); err != nil || len(es) != 1 {
		t.Errorf("audit after reopening: %v, %v", es, err)
	}
	if m, err := s2.SiteStates(ctx); err != nil || !m["silkvault"].Paused {
		t.Errorf("site states after reopening: %v, %v", m, err)
	}
	if v, err := s2.WatchlistVersion(ctx, 1); err != nil || string(v.Data) != "x" {
		t.Errorf("watchlist version after reopening: %+v, %v", v, err)
	}
}
