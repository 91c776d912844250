package embedded

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestAuditMigration: a version-3 file's audit log gets its filter
// columns from the entries' JSON, a failed sign-in marked failed.
func TestAuditMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "precwatch.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, migrations[0]+migrations[1]+ftsV2+migrations[2]+"PRAGMA user_version = 3;"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, e := range []precwatch.AuditEntry{
		{At: t0, Actor: "adam", Action: "user.create", Target: "user:ana"},
		{At: t0.Add(time.Minute), Actor: "ana", Action: "login_failed", Target: "user:ana"},
		{At: t0.Add(2 * time.Minute), Actor: "ana", Action: "login", Target: "user:ana"},
	} {
		if _, err := db.ExecContext(ctx, "INSERT INTO audit (at, json) VALUES (?, ?)", nanos(e.At)+int64(i), jsonString(t, e)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := open(t, path)
	defer s.Close()
	for _, c := range []struct {
		q    precwatch.AuditQuery
		want []string
	}{
		{precwatch.AuditQuery{Outcome: precwatch.AuditFailed}, []string{"login_failed"}},
		{precwatch.AuditQuery{Outcome: precwatch.AuditOK}, []string{"login", "user.create"}},
		{precwatch.AuditQuery{Actor: "ana"}, []string{"login", "login_failed"}},
		{precwatch.AuditQuery{Action: "user.create"}, []string{"user.create"}},
	} {
		p, err := s.QueryAudit(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range p.Entries {
			got = append(got, e.Action)
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) || (len(got) > 1 && got[1] != c.want[1]) {
			t.Errorf("QueryAudit(%+v) after migrating = %v, want %v", c.q, got, c.want)
		}
	}
}
