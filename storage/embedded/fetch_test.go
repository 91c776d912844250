package embedded

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestUpgradeFetches: pages stored before fetch records (issue 11) become
// legacy fetch records, read like new ones.
func TestUpgradeFetches(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "precwatch.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, migrations[0]+"PRAGMA user_version = 1;"); err != nil {
		t.Fatal(err)
	}
	body := []byte("<html><p>old page</p></html>")
	p := precwatch.Page{Site: "silkvault", URL: "http://silkvault.test/old", FetchedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		ContentType: "text/html", Body: body}
	p.SHA256 = sha256Hex(body)
	if _, err := db.ExecContext(ctx, "INSERT INTO pages (sha256, site, url, fetched_at, content_type, body) VALUES (?, ?, ?, ?, ?, ?)",
		p.SHA256, p.Site, p.URL, nanos(p.FetchedAt), p.ContentType, p.Body); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	f, err := s.Fetch(ctx, "page-"+p.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Legacy || f.Site != p.Site || f.URL != p.URL || !f.At.Equal(p.FetchedAt) || f.BodySHA256 != p.SHA256 ||
		f.BodySize != int64(len(body)) || f.ResponseHeaders.Get("Content-Type") != "text/html" {
		t.Errorf("legacy fetch = %+v, want the page's site, url, time, body and content type", f)
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
