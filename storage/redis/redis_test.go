package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/internal/words"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
	"github.com/redis/go-redis/v9"
)

func open(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() precwatch.Store {
		url := redistest.Start(t) + "?prefix=conformance"
		return func() precwatch.Store { return open(t, url) }
	})
}

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) func() precwatch.ConsoleStore {
		url := redistest.Start(t) + "?prefix=conformance"
		return func() precwatch.ConsoleStore { return open(t, url) }
	})
}

func TestOpenOptions(t *testing.T) {
	base := redistest.Start(t)
	s := open(t, base+"?prefix=pw-test&stream_maxlen=10&max_attempts=3&dial_timeout=2s")
	defer s.Close()
	if s.prefix != "pw-test" || s.streamMaxLen != 10 || s.maxAttempts != 3 {
		t.Errorf("options = prefix %q maxlen %d attempts %d", s.prefix, s.streamMaxLen, s.maxAttempts)
	}
	if got, want := s.StreamKey(), "{pw-test}:alerts:stream"; got != want {
		t.Errorf("StreamKey = %q, want %q", got, want)
	}
	for _, bad := range []string{"?stream_maxlen=-1", "?max_attempts=0", "?bogus=1"} {
		if _, err := Open(context.Background(), base+bad, nil); err == nil {
			t.Errorf("Open(%s) succeeded", bad)
		}
	}
	if _, err := Open(context.Background(), "redis://127.0.0.1:1/0?max_retries=-1", nil); err == nil {
		t.Error("Open of a closed port succeeded")
	}
}

// TestPrefixIsolation: two stores with different prefixes on one Redis do
// not see each other's data, and every key lives under its prefix.
func TestPrefixIsolation(t *testing.T) {
	base := redistest.Start(t)
	a, b := open(t, base+"?prefix=a"), open(t, base+"?prefix=b")
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	o := storetest.Synthetic(1, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))[0]
	if _, err := a.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	if as, err := b.Alerts(ctx, precwatch.AlertFilter{}); err != nil || len(as) != 0 {
		t.Errorf("prefix b sees %d alerts (%v)", len(as), err)
	}
	keys, err := a.Client().Keys(ctx, "*").Result() // a test may scan; the store never does
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "{a}:") && !strings.HasPrefix(k, "{b}:") {
			t.Errorf("key %q outside the prefix", k)
		}
	}
}

// TestStreamOnePerAlert: under concurrent writers the stream gets exactly
// one "raised" entry per alert, and one entry per history event.
func TestStreamOnePerAlert(t *testing.T) {
	url := redistest.Start(t)
	ctx := context.Background()
	const workers = 6
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sightings := storetest.Synthetic(30, t0)
	changed := make([]precwatch.Observation, len(sightings))
	for i, o := range sightings {
		o.Listing.Price += 1
		o.At, o.RunID = o.At.Add(time.Hour), "run-2"
		changed[i] = o
	}
	stores := make([]*Store, workers)
	for i := range stores {
		stores[i] = open(t, url)
		defer stores[i].Close()
	}
	for _, batch := range [][]precwatch.Observation{sightings, changed} {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w, s := range stores {
			wg.Go(func() {
				for i := range batch {
					o := batch[(i*(w+1)+w)%len(batch)] // a different order per worker
					if _, err := s.Record(ctx, o); err != nil {
						errs <- err
						return
					}
				}
				for _, o := range batch { // and everything again
					if _, err := s.Record(ctx, o); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	s := stores[0]
	alerts, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := s.Client().XRange(ctx, s.StreamKey(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		key, _ := e.Values["key"].(string)
		event, _ := e.Values["event"].(string)
		count[key+" "+event]++
		if e.Values["json"] == nil || e.Values["site"] == nil || e.Values["substance"] == nil || e.Values["severity"] == nil {
			t.Errorf("entry %s lacks fields: %v", e.ID, e.Values)
		}
	}
	if len(alerts) < len(sightings) {
		t.Fatalf("%d alerts from %d listings", len(alerts), len(sightings))
	}
	for _, a := range alerts {
		for _, event := range []string{precwatch.EventRaised, precwatch.EventChanged} {
			if got := count[a.Key+" "+event]; got != 1 {
				t.Errorf("alert %s: %d %q entries, want 1", a.Key, got, event)
			}
		}
	}
	if got, want := len(entries), 2*len(alerts); got != want {
		t.Errorf("%d stream entries, want %d", got, want)
	}
}

// TestStreamCapped: the stream is trimmed near stream_maxlen.
func TestStreamCapped(t *testing.T) {
	s := open(t, redistest.Start(t)+"?stream_maxlen=20")
	defer s.Close()
	ctx := context.Background()
	for _, o := range storetest.Synthetic(400, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Client().XLen(ctx, s.StreamKey()).Result()
	if err != nil {
		t.Fatal(err)
	}
	// "~" trims whole macro nodes (100 entries by default), never below 20.
	if n < 20 || n > 250 {
		t.Errorf("stream length %d, want near 20", n)
	}
}

// TestRecordGivesUp: with one attempt, a transaction that always conflicts
// fails with a clear error instead of looping.
func TestRecordGivesUp(t *testing.T) {
	s := open(t, redistest.Start(t)+"?max_attempts=2")
	defer s.Close()
	ctx := context.Background()
	o := storetest.Synthetic(1, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))[0]
	calls := 0
	err := s.retry(ctx, func() error {
		calls++
		return fmt.Errorf("exec: %w", errTxFailed())
	})
	if err == nil || calls != 2 {
		t.Errorf("retry = %v after %d calls, want an error after 2", err, calls)
	}
	if _, err := s.Record(ctx, o); err != nil {
		t.Errorf("uncontended Record: %v", err)
	}
}

// TestRecordRetriesOnConflict: a status change that lands between Record's
// reads and its EXEC aborts the transaction, and the retry keeps both.
func TestRecordRetriesOnConflict(t *testing.T) {
	url := redistest.Start(t)
	s, other := open(t, url), open(t, url)
	defer s.Close()
	defer other.Close()
	ctx := context.Background()
	o := storetest.Synthetic(1, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))[0]
	if _, err := s.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	key := precwatch.AlertKey(o.Listing.Site, o.Listing.Identity(), o.Matches[0].Substance)
	calls := 0
	s.beforeExec = func() {
		calls++
		if calls == 1 {
			if err := other.SetAlertStatus(ctx, key, precwatch.StatusEscalated, o.At); err != nil {
				t.Error(err)
			}
		}
	}
	changed := o
	changed.Listing.Price += 10
	changed.At = o.At.Add(time.Hour)
	res, err := s.Record(ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := calls, 2; got != want {
		t.Errorf("%d attempts, want %d (the first must conflict)", got, want)
	}
	if !res.Changed {
		t.Errorf("Record = %+v, want Changed", res)
	}
	a, err := s.Alert(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != precwatch.StatusEscalated || len(a.History) != 2 {
		t.Errorf("alert status %q, %d events; want escalated with 2 (raised, changed)", a.Status, len(a.History))
	}
}

// TestReindexOnOpen: data written before the word, vendor and regime
// indexes existed is indexed when a newer program opens it.
func TestReindexOnOpen(t *testing.T) {
	url := redistest.Start(t) + "?prefix=old"
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	o := storetest.Synthetic(1, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))[0]
	if _, err := s.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	// Back to the version-1 layout: only the all/status/site/substance
	// indexes, and no schema version.
	keys, err := s.rdb.Keys(ctx, "{old}:alerts:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		for _, f := range []string{":set:word:", ":set:vendor:", ":set:regime:"} {
			if strings.Contains(k, f) {
				s.rdb.Del(ctx, k)
			}
		}
	}
	s.rdb.Del(ctx, "{old}:schema")
	q := precwatch.AlertQuery{Text: o.Listing.Title, Vendor: o.Listing.Vendor, Regime: o.Matches[0].Regime}
	if p, err := s.QueryAlerts(ctx, q); err != nil || p.Total != 0 {
		t.Fatalf("before reindexing: %+v, %v; want nothing found", p, err)
	}
	s2 := open(t, url)
	defer s2.Close()
	if p, err := s2.QueryAlerts(ctx, q); err != nil || p.Total != 1 {
		t.Errorf("after reopening: %+v, %v; want the alert", p, err)
	}
	if v, err := s2.rdb.Get(ctx, "{old}:schema").Int(); err != nil || v != schemaVersion {
		t.Errorf("schema = %d, %v", v, err)
	}
}

// TestMigrateSets: filter indexes written by schema 7 (a sorted set per
// field value and word, P:alerts:idx:<field>:<value>) become filter sets
// on open: queries find what they found, and the old sorted sets are
// gone.
func TestMigrateSets(t *testing.T) {
	url := redistest.Start(t) + "?prefix=v7"
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, o := range storetest.Synthetic(300, start) {
		res, err := s.Record(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			for _, k := range res.NewAlerts {
				if _, err := s.UpdateAlert(ctx, precwatch.AlertAction{Key: k, Actor: "ana", At: start.Add(time.Hour), Action: precwatch.ActionClaim}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	queries := []precwatch.AlertQuery{
		{Text: "peroxide"},
		{Text: "Ref 17", Limit: 500},
		{Text: "lab grade", Status: precwatch.StatusNew, MinSeverity: precwatch.SeverityMedium},
		{Text: "shipping", Site: "agora2", Since: start.Add(time.Minute), Until: start.Add(3 * time.Minute)},
		{Status: precwatch.StatusNew, Offset: 20},
		{Assignee: "ana", Regime: precwatch.RegimeEUAnnexI},
		{Vendor: "vendor-007", Substance: "nitromethane"},
	}
	want := make([]precwatch.AlertPage, len(queries))
	for i, q := range queries {
		p, err := s.QueryAlerts(ctx, q)
		if err != nil || p.Total == 0 {
			t.Fatalf("QueryAlerts(%+v) = %d alerts, %v; want some", q, p.Total, err)
		}
		want[i] = p
	}
	// Back to the schema-7 layout.
	all, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	sets, err := s.rdb.Keys(ctx, "{v7}:alerts:set:*").Result()
	if err != nil || len(sets) == 0 {
		t.Fatalf("no filter sets (%v)", err)
	}
	s.rdb.Del(ctx, sets...)
	oldKeys := map[string]bool{}
	for _, a := range all {
		s.rdb.ZRem(ctx, s.timeKey(), alertMember(a))
		s.rdb.ZRem(ctx, s.key("alerts", "idx", "all"), alertMember(a))
		s.rdb.ZAdd(ctx, s.timeKey(), redis.Z{Score: timeScore(a.Severity, a.CreatedAt), Member: hexMember(a)})
		s.rdb.ZAdd(ctx, s.key("alerts", "idx", "all"), redis.Z{Member: hexMember(a)})
		var fs []filter
		for _, f := range alertFilters(&a) {
			fs = append(fs, f)
		}
		for _, wd := range words.Split(a.Listing.Title, a.Listing.Description) {
			fs = append(fs, filter{"word", wd})
		}
		for _, f := range fs {
			s.rdb.ZAdd(ctx, s.idxKey(f.field, f.value), redis.Z{Member: hexMember(a)})
			oldKeys[s.idxKey(f.field, f.value)] = true
		}
	}
	s.rdb.Set(ctx, "{v7}:schema", 7, 0)

	s2 := open(t, url)
	defer s2.Close()
	for i, q := range queries {
		p, err := s2.QueryAlerts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := jsonString(t, p), jsonString(t, want[i]); g != w {
			t.Errorf("QueryAlerts(%+v) after migrating:\n got %s\nwant %s", q, g, w)
		}
	}
	for k := range oldKeys {
		if n, err := s2.rdb.Exists(ctx, k).Result(); err != nil || n != 0 {
			t.Errorf("old index %s left (%v)", k, err)
		}
	}
	for _, k := range []string{s2.timeKey(), s2.key("alerts", "idx", "all")} {
		ms, err := s2.rdb.ZRange(ctx, k, 0, -1).Result()
		if err != nil || len(ms) != len(all) {
			t.Errorf("%s holds %d members (%v), want %d", k, len(ms), err, len(all))
		}
		for _, m := range ms {
			if !isMember(m) {
				t.Errorf("%s holds the old member %q", k, m)
			}
		}
	}
	if v, err := s2.rdb.Get(ctx, "{v7}:schema").Int(); err != nil || v != schemaVersion {
		t.Errorf("schema = %d, %v", v, err)
	}
}

// TestMigrateV9: alerts written by schema 8 (vendor filter sets under the
// handle as written, no site names) are found on open by a vendor in any
// case, and in the site order.
func TestMigrateV9(t *testing.T) {
	url := redistest.Start(t) + "?prefix=v8"
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, o := range storetest.Synthetic(60, start) {
		o.Listing.Vendor = []string{"ChemKing", "Nordlab", ""}[i%3]
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	queries := []precwatch.AlertQuery{
		{Vendor: "chemking", Limit: 500},
		{Vendor: "NORDLAB", Sort: precwatch.SortNewest},
		{Sort: precwatch.SortSite, Limit: 500},
		{Sort: precwatch.SortSite, Vendor: "ChemKing", Offset: 5, Limit: 7},
	}
	want := make([]precwatch.AlertPage, len(queries))
	for i, q := range queries {
		if want[i], err = s.QueryAlerts(ctx, q); err != nil || want[i].Total == 0 {
			t.Fatalf("QueryAlerts(%+v) = %d alerts, %v; want some", q, want[i].Total, err)
		}
	}
	// Back to the schema-8 layout.
	s.rdb.Del(ctx, s.sitesKey())
	for _, a := range all {
		if v := a.Listing.Vendor; v != "" {
			sev := clampSeverity(a.Severity)
			s.rdb.SRem(ctx, s.filterKey(filter{"vendor", precwatch.FoldVendor(v)}, sev), alertMember(a))
			s.rdb.SAdd(ctx, s.filterKey(filter{"vendor", v}, sev), alertMember(a))
		}
	}
	s.rdb.Set(ctx, "{v8}:schema", 8, 0)

	s2 := open(t, url)
	defer s2.Close()
	for i, q := range queries {
		p, err := s2.QueryAlerts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := jsonString(t, p), jsonString(t, want[i]); g != w {
			t.Errorf("QueryAlerts(%+v) after migrating:\n got %s\nwant %s", q, g, w)
		}
	}
	for _, v := range []string{"ChemKing", "Nordlab"} {
		for sev := range 10 {
			if n, err := s2.rdb.Exists(ctx, s2.filterKey(filter{"vendor", v}, sev)).Result(); err != nil || n != 0 {
				t.Errorf("unfolded vendor set %s/%d left (%v)", v, sev, err)
			}
		}
	}
}

// TestUpdateAlertStream: every workflow action is an event on the stream,
// named after the action; a rejected one adds nothing.
func TestUpdateAlertStream(t *testing.T) {
	s := open(t, redistest.Start(t))
	defer s.Close()
	ctx := context.Background()
	o := storetest.Synthetic(1, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))[0]
	res, err := s.Record(ctx, o)
	if err != nil || len(res.NewAlerts) == 0 {
		t.Fatalf("Record = %+v, %v", res, err)
	}
	key := res.NewAlerts[0]
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, act := range []precwatch.AlertAction{
		{Key: key, Actor: "ana", At: at, Action: precwatch.ActionClaim},
		{Key: key, Actor: "ana", At: at, Action: precwatch.ActionStatus, Status: precwatch.StatusTriaged},
		{Key: key, Actor: "ana", At: at, Action: precwatch.ActionStatus, Status: precwatch.StatusNew}, // rejected
		{Key: key, Actor: "ana", At: at, Action: precwatch.ActionNote, Text: "seen before"},
	} {
		_, _ = s.UpdateAlert(ctx, act)
	}
	msgs, err := s.rdb.XRange(ctx, s.StreamKey(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		if m.Values["key"] == key {
			to, _ := m.Values["to"].(string)
			got = append(got, fmt.Sprint(m.Values["event"], ":", to))
		}
	}
	if want := []string{"raised:", "claim:ana", "status:triaged", "note:"}; !slices.Equal(got, want) {
		t.Errorf("stream events = %v, want %v", got, want)
	}
}

// TestMigrateScoreMembers: indexes written by schema 2 (members without
// the score, no time index) are rewritten on open: the order is by score,
// no old member is left, and creation windows work.
func TestMigrateScoreMembers(t *testing.T) {
	url := redistest.Start(t) + "?prefix=v2"
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	obs := storetest.Synthetic(40, start)
	for _, o := range obs {
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema-2 layout.
	for _, a := range want {
		for _, idx := range s.alertIndexes(a) {
			s.rdb.ZRem(ctx, idx, alertMember(a))
			s.rdb.ZAdd(ctx, idx, redis.Z{Member: legacyMember(a)})
		}
	}
	s.rdb.Del(ctx, s.timeKey())
	s.rdb.Set(ctx, "{v2}:schema", 2, 0)

	s2 := open(t, url)
	defer s2.Close()
	got, err := s2.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonString(t, got), jsonString(t, want); g != w {
		t.Errorf("Alerts after migrating:\n got %s\nwant %s", g, w)
	}
	sorted := slices.Clone(want)
	precwatch.SortAlerts(sorted)
	if g, w := keys(got), keys(sorted); !slices.Equal(g, w) {
		t.Errorf("order after migrating = %v, want SortAlerts's %v", g, w)
	}
	members, err := s2.rdb.ZRange(ctx, "{v2}:alerts:idx:all", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != len(want) {
		t.Errorf("all index has %d members, want %d", len(members), len(want))
	}
	for _, m := range members {
		if _, ok := memberCreated(m); !ok {
			t.Errorf("old member %q left", m)
		}
	}
	p, err := s2.QueryAlerts(ctx, precwatch.AlertQuery{Since: start.Add(10 * time.Second), Until: start.Add(19 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range want {
		if !a.CreatedAt.Before(start.Add(10*time.Second)) && !a.CreatedAt.After(start.Add(19*time.Second)) {
			n++
		}
	}
	if p.Total != n || len(p.Alerts) != n || n == 0 {
		t.Errorf("window after migrating: %d alerts, total %d; want %d", len(p.Alerts), p.Total, n)
	}
	if v, err := s2.rdb.Get(ctx, "{v2}:schema").Int(); err != nil || v != schemaVersion {
		t.Errorf("schema = %d, %v", v, err)
	}
}

func keys(as []precwatch.Alert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Key
	}
	return out
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMemberOrder: the order index member sorts as SortAlerts does, over
// scores of every sign and size and times to the nanosecond.
func TestMemberOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var as []precwatch.Alert
	scores := []float64{math.Inf(-1), -1e300, -2.5, -1, -1e-300, 0, math.Copysign(0, -1), 1e-300, 0.1, 0.25, 1, 999.9, 1000, 1e300, math.Inf(1)}
	for i, sc := range scores {
		for j, sev := range []precwatch.Severity{precwatch.SeverityLow, precwatch.SeverityCritical} {
			as = append(as, precwatch.Alert{
				Key: fmt.Sprintf("%016x%016x", (i*7)%len(scores), j), Severity: sev, Score: sc,
				CreatedAt: t0.Add(time.Duration((i*5)%3) * time.Nanosecond),
			})
		}
	}
	want := slices.Clone(as)
	precwatch.SortAlerts(want)
	got := slices.Clone(as)
	slices.SortFunc(got, func(a, b precwatch.Alert) int { return strings.Compare(alertMember(a), alertMember(b)) })
	if g, w := keys(got), keys(want); !slices.Equal(g, w) {
		t.Errorf("members order = %v, want %v", g, w)
	}
}

// TestMemberFormat: alertMember writes 48 bytes that read back as the
// alert's severity, score, creation time and key (one pinned byte for
// byte), and hexMember, the member schema 3 to 7 wrote and migrateSets
// removes, what the format "%c:%016x:%016x:%s" wrote.
func TestMemberFormat(t *testing.T) {
	pin := precwatch.Alert{Key: "0123456789abcdef0123456789abcdef", Severity: precwatch.SeverityHigh, CreatedAt: time.Unix(0, 0)}
	if got, want := alertMember(pin), "6:6zzzzzzzzzz:6zzzzzzzzzz:-3YGLT8ewrj-3YGLT8ewrj"; got != want {
		t.Errorf("alertMember(%+v) = %q, want %q", pin, got, want)
	}
	times := []time.Time{{}, time.Unix(0, 0), time.Date(2026, 3, 1, 0, 0, 0, 7, time.UTC), time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)}
	scores := []float64{math.NaN(), math.Inf(-1), -2.5, 0, math.Copysign(0, -1), 0.1, 99.9, math.Inf(1)}
	keys := []string{"0123456789abcdef0123456789abcdef", "00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff"}
	for _, sev := range []precwatch.Severity{-3, precwatch.SeverityNone, precwatch.SeverityLow, precwatch.SeverityCritical, 12} {
		for _, sc := range scores {
			for _, at := range times {
				for _, k := range keys {
					a := precwatch.Alert{Key: k, Severity: sev, Score: sc, CreatedAt: at}
					want := fmt.Sprintf("%c:%016x:%016x:%s", byte('9'-clampSeverity(a.Severity)), ^orderableScore(a.Score), ^orderable(a.CreatedAt), a.Key)
					if got := hexMember(a); got != want {
						t.Errorf("hexMember(%+v) = %q, want %q", a, got, want)
					}
					m := alertMember(a)
					score, ok := parseB64(m[2:13])
					created, ok2 := memberCreated(m)
					if !isMember(m) || m[0] != byte('9'-clampSeverity(sev)) || !ok || score != ^orderableScore(sc) ||
						!ok2 || created != orderable(at) || memberKey(m) != k {
						t.Errorf("alertMember(%+v) = %q: reads back severity %c, score %x, created %x, key %s", a, m, m[0], ^score, created, memberKey(m))
					}
				}
			}
		}
	}
	// A key AlertKey does not make is kept as it is.
	odd := precwatch.Alert{Key: "k1", CreatedAt: time.Unix(0, 0)}
	if m := alertMember(odd); m != hexMember(odd) || memberKey(m) != "k1" {
		t.Errorf("alertMember(%+v) = %q, key %q", odd, m, memberKey(m))
	}
}

// TestMigrateTimeScores: a time index written by schema 3 (creation time
// alone, in 1,024 ns buckets) is rescored with the severity on open, and
// creation windows count and page exactly afterwards.
func TestMigrateTimeScores(t *testing.T) {
	url := redistest.Start(t) + "?prefix=v3"
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range storetest.Synthetic(40, start) {
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema-3 scores and members.
	for _, a := range all {
		s.rdb.ZRem(ctx, s.timeKey(), alertMember(a))
		s.rdb.ZRem(ctx, s.key("alerts", "idx", "all"), alertMember(a))
		s.rdb.ZAdd(ctx, s.timeKey(), redis.Z{Score: float64(a.CreatedAt.UnixNano() >> 10), Member: hexMember(a)})
		s.rdb.ZAdd(ctx, s.key("alerts", "idx", "all"), redis.Z{Member: hexMember(a)})
	}
	s.rdb.Set(ctx, "{v3}:schema", 3, 0)

	s2 := open(t, url)
	defer s2.Close()
	for _, a := range all {
		got, err := s2.rdb.ZScore(ctx, s2.timeKey(), alertMember(a)).Result()
		if want := timeScore(a.Severity, a.CreatedAt); err != nil || got != want {
			t.Errorf("time score of %s = %v (%v), want %v", a.Key, got, err, want)
		}
	}
	for _, k := range []string{s2.timeKey(), s2.key("alerts", "idx", "all")} {
		if n, err := s2.rdb.ZCard(ctx, k).Result(); err != nil || n != int64(len(all)) {
			t.Errorf("%s holds %d members (%v), want %d: one per alert", k, n, err, len(all))
		}
	}
	q := precwatch.AlertQuery{Since: start.Add(10 * time.Second), Until: start.Add(19 * time.Second), MinSeverity: precwatch.SeverityMedium, Limit: 3, Offset: 1}
	var want []string
	for _, a := range all { // already in SortAlerts order
		if !a.CreatedAt.Before(q.Since) && !a.CreatedAt.After(q.Until) && a.Severity >= q.MinSeverity {
			want = append(want, a.Key)
		}
	}
	p, err := s2.QueryAlerts(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != len(want) || len(want) < 4 {
		t.Errorf("window total %d, want %d (at least 4)", p.Total, len(want))
	}
	if g, w := keys(p.Alerts), want[1:min(4, len(want))]; !slices.Equal(g, w) {
		t.Errorf("window page = %v, want %v", g, w)
	}
	if v, err := s2.rdb.Get(ctx, "{v3}:schema").Int(); err != nil || v != schemaVersion {
		t.Errorf("schema = %d, %v", v, err)
	}
}

// TestQueryPlans: a severity's page is found by walking the all index
// (scanSets) or by reading its smallest source, the filter sets' or the
// window's members (readSev), whichever reads least; each answers every
// query alike, and as the filters mean.
func TestQueryPlans(t *testing.T) {
	s := open(t, redistest.Start(t))
	defer s.Close()
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, o := range storetest.Synthetic(400, start) {
		res, err := s.Record(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range res.NewAlerts {
			act := precwatch.AlertAction{Key: k, Actor: "ana", At: start.Add(time.Hour), Action: precwatch.ActionClaim}
			if i%3 == 1 {
				act.Action, act.Status, act.Text = precwatch.ActionStatus, precwatch.StatusTriaged, "checked"
			}
			if i%3 != 2 {
				if _, err := s.UpdateAlert(ctx, act); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	all, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	mid := start.Add(200 * time.Second)
	found := 0
	for _, q := range []precwatch.AlertQuery{
		{Text: "peroxide"},
		{Text: "peroxide", MinSeverity: precwatch.SeverityHigh, Offset: 5, Limit: 10},
		{Text: "ref 17"},
		{Text: "lab grade", Status: precwatch.StatusTriaged},
		{Text: "shipping", Assignee: "ana", Site: "silkvault"},
		{Text: "escrow", Vendor: "vendor-010"},
		{Text: "fast", Since: mid},
		{Text: "fast", Until: mid, MinSeverity: precwatch.SeverityMedium, Limit: 7, Offset: 2},
		{Text: "acid", Since: start.Add(50 * time.Second), Until: mid, Substance: "thiodiglycol"},
		{Text: "discreet packaging", Assignee: "ana", Since: mid},
		// Every alert has the word ref: the walks are short.
		{Text: "ref"},
		{Text: "REF", MinSeverity: precwatch.SeverityHigh, Offset: 30, Limit: 20},
		{Text: "ref fast", Status: precwatch.StatusTriaged, Offset: 3},
		{Text: "ref", Assignee: "ana", Site: "nexus", Offset: 500},
		// Without words.
		{Status: precwatch.StatusTriaged, Offset: 40, Limit: 30},
		{Status: precwatch.StatusNew, Site: "agora2", MinSeverity: precwatch.SeverityMedium},
		{Vendor: "vendor-017"},
		{Regime: precwatch.RegimeEUAnnexI, Since: mid, Limit: 500},
		{Since: start.Add(100 * time.Second), Until: mid, MinSeverity: precwatch.SeverityHigh},
		{Assignee: "ana", Until: mid, Offset: 10},
		{Text: "nothing"},
	} {
		var match []precwatch.Alert
		for _, a := range all {
			have := words.Split(a.Listing.Title, a.Listing.Description)
			ok := a.Severity >= q.MinSeverity && (q.Status == "" || a.Status == q.Status) &&
				(q.Substance == "" || a.Substance == q.Substance) && (q.Site == "" || a.Site == q.Site) && (q.Regime == "" || a.Regime == q.Regime) &&
				(q.Vendor == "" || strings.EqualFold(a.Listing.Vendor, q.Vendor)) && (q.Assignee == "" || a.Assignee == q.Assignee) &&
				(q.Since.IsZero() || !a.CreatedAt.Before(q.Since)) && (q.Until.IsZero() || !a.CreatedAt.After(q.Until))
			for _, w := range words.Split(q.Text) {
				ok = ok && slices.Contains(have, w)
			}
			if ok {
				match = append(match, a)
			}
		}
		if len(match) > 0 {
			found++
		}
		limit, offset := q.Page()
		for _, sort := range precwatch.AlertSorts {
			q.Sort = sort
			precwatch.SortAlertsBy(match, sort)
			want := keys(match[min(offset, len(match)):min(offset+limit, len(match))])
			for _, plan := range []queryPlan{planAuto, planWalk, planRead} {
				p, err := s.queryAlerts(ctx, q, plan)
				if err != nil {
					t.Fatalf("queryAlerts(%+v, plan %d): %v", q, plan, err)
				}
				if got := keys(p.Alerts); p.Total != len(match) || !slices.Equal(got, want) {
					t.Errorf("queryAlerts(%+v, plan %d) = total %d %v; want %d %v", q, plan, p.Total, got, len(match), want)
				}
			}
		}
	}
	if found < 18 {
		t.Errorf("%d queries found alerts, want all but the last two", found)
	}
}
