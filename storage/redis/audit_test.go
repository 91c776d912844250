package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// TestAuditCap: the log keeps its newest entries; a dropped entry leaves
// no trace in any index or in the aggregation map.
func TestAuditCap(t *testing.T) {
	ctx := context.Background()
	s := open(t, redistest.Start(t))
	defer s.Close()
	s.auditMax = 5
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := s.CountAudit(ctx, "w1", precwatch.AuditEntry{At: t0, Actor: "", Action: "login_failed_unknown", Failed: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if err := s.AppendAudit(ctx, precwatch.AuditEntry{At: t0.Add(time.Duration(i) * time.Minute), Actor: fmt.Sprintf("u%d", i), Action: "login"}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := s.Audit(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	for _, e := range es {
		actors = append(actors, e.Actor)
	}
	if fmt.Sprint(actors) != "[u7 u6 u5 u4 u3]" {
		t.Errorf("kept %v, want the newest five", actors)
	}
	for _, q := range []precwatch.AuditQuery{{Actor: "u0"}, {Action: "login_failed_unknown"}, {Until: t0.Add(2 * time.Minute)}} {
		if p, err := s.QueryAudit(ctx, q); err != nil || len(p.Entries) != 0 {
			t.Errorf("QueryAudit(%+v) after the cap = %+v, %v; want nothing", q, p.Entries, err)
		}
	}
	if n := s.rdb.ZCard(ctx, s.key("audit", "actor", "u0")).Val(); n != 0 {
		t.Errorf("the dropped entry stays in its actor index")
	}
	if n := s.rdb.ZCard(ctx, s.auditAt()).Val(); n != 5 {
		t.Errorf("time index holds %d entries, want 5", n)
	}
	if n := s.rdb.HLen(ctx, s.key("audit", "agg")).Val(); n != 0 {
		t.Errorf("aggregation map holds %d keys after its entry was dropped", n)
	}
	// A new event of the dropped aggregated entry starts a new one.
	if err := s.CountAudit(ctx, "w1", precwatch.AuditEntry{At: t0.Add(time.Hour), Action: "login_failed_unknown", Failed: true}); err != nil {
		t.Fatal(err)
	}
	if es, _ := s.Audit(ctx, 1); len(es) != 1 || es[0].Count != 1 {
		t.Errorf("newest after counting a dropped key: %+v", es)
	}
}

// TestAuditMigratesList: the list earlier versions kept becomes the
// indexed log on opening, in order, with failed sign-ins marked.
func TestAuditMigratesList(t *testing.T) {
	ctx := context.Background()
	url := redistest.Start(t)
	s := open(t, url)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := []precwatch.AuditEntry{
		{At: t0, Actor: "adam", Action: "user.create", Target: "user:ana"},
		{At: t0.Add(time.Minute), Actor: "ana", Action: "login_failed", Target: "user:ana"},
		{At: t0.Add(2 * time.Minute), Actor: "ana", Action: "login", Target: "user:ana"},
	}
	for _, e := range old { // LPUSH: the newest at the head, as before
		raw, _ := json.Marshal(e)
		if err := s.rdb.LPush(ctx, s.auditLegacy(), raw).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = open(t, url)
	defer s.Close()
	if n := s.rdb.Exists(ctx, s.auditLegacy()).Val(); n != 0 {
		t.Error("the old list is still there")
	}
	es, err := s.Audit(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].Action != "login" || es[2].Action != "user.create" || !es[1].Failed || es[0].Failed {
		t.Errorf("migrated log %+v", es)
	}
	if p, err := s.QueryAudit(ctx, precwatch.AuditQuery{Outcome: precwatch.AuditFailed}); err != nil || len(p.Entries) != 1 || p.Entries[0].Action != "login_failed" {
		t.Errorf("failed entries after migrating: %+v, %v", p.Entries, err)
	}
}
