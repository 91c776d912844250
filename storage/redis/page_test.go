package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// htmlPage is a page of shop HTML, every row its own, as compressible as
// a real one.
func htmlPage(rows int) []byte {
	var b strings.Builder
	b.WriteString("<html><body><h1>Shop</h1>")
	for i := range rows {
		fmt.Fprintf(&b, `<div class="listing" id="p%d"><h2><a href="/item/%d">Product %d</a></h2><p class="price">%d.%02d EUR</p><p>Ships in %d days.</p></div>`, i, i*7919, i, i%97, i%100, 1+i%9)
	}
	b.WriteString("</body></html>")
	return []byte(b.String())
}

func sha(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// TestPageBodyEncoding: a compressible body is stored S2-compressed and
// read back as fetched, an incompressible one is stored as it is, and a
// page an older version wrote (schema 5: body as fetched, no encoding
// field) is read as before once the store is opened by this version.
func TestPageBodyEncoding(t *testing.T) {
	url := redistest.Start(t) + "?prefix=pg"
	s := open(t, url)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	// As schema 5 wrote it, and the schema version it left.
	oldBody := htmlPage(300)
	oldSHA := sha(oldBody)
	err := s.rdb.HSet(ctx, s.pageKey(oldSHA), "site", "shop", "url", "http://shop.test/old", "fetched_at", at.Format(time.RFC3339Nano),
		"content_type", "text/html", "body", oldBody).Err()
	if err != nil {
		t.Fatal(err)
	}
	s.rdb.Set(ctx, "{pg}:schema", 5, 0)
	s.Close()
	s = open(t, url)
	defer s.Close()
	if v, err := s.rdb.Get(ctx, "{pg}:schema").Int(); err != nil || v != schemaVersion {
		t.Errorf("schema = %d, %v; want %d", v, err, schemaVersion)
	}

	random := make([]byte, 4096)
	rand.Read(random)
	recorded := htmlPage(200)
	for _, tc := range []struct {
		name       string
		body       []byte
		save       func(p precwatch.Page) error // nil: written as schema 5 did, above
		compressed bool
	}{
		{"old page", oldBody, nil, false},
		{"saved html", htmlPage(250), func(p precwatch.Page) error { return s.SavePage(ctx, p) }, true},
		{"recorded html", recorded, func(p precwatch.Page) error { _, err := s.RecordPage(ctx, &p, nil); return err }, true},
		{"random", random, func(p precwatch.Page) error { return s.SavePage(ctx, p) }, false},
		{"short", []byte("<p>hi</p>"), func(p precwatch.Page) error { return s.SavePage(ctx, p) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := precwatch.Page{SHA256: sha(tc.body), Site: "shop", URL: "http://shop.test/" + tc.name, FetchedAt: at,
				ContentType: "text/html", Body: tc.body}
			if tc.save != nil {
				if err := tc.save(want); err != nil {
					t.Fatal(err)
				}
			} else {
				want.URL = "http://shop.test/old"
			}
			key, other := s.pageZKey(want.SHA256), s.pageKey(want.SHA256)
			if tc.save == nil {
				key, other = other, key
			}
			stored, err := s.rdb.HGetAll(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			// An older process running beside this one finds a new page
			// missing, never its compressed bytes; an old page is not
			// written again under the new key.
			if n, err := s.rdb.Exists(ctx, other).Result(); err != nil || n != 0 {
				t.Errorf("page also under %s: %d, %v", other, n, err)
			}
			if got := stored["encoding"] == bodyS2; got != tc.compressed {
				t.Errorf("stored encoding %q, compressed = %v; want %v", stored["encoding"], got, tc.compressed)
			}
			if tc.compressed && len(stored["body"]) > len(tc.body)/2 {
				t.Errorf("stored body %d bytes of %d", len(stored["body"]), len(tc.body))
			}
			got, err := s.Page(ctx, want.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Body, want.Body) || sha(got.Body) != want.SHA256 {
				t.Errorf("body read back differs (%d bytes, want %d)", len(got.Body), len(want.Body))
			}
			got.Body, want.Body = nil, nil
			if !got.FetchedAt.Equal(want.FetchedAt) || got.Site != want.Site || got.URL != want.URL || got.ContentType != want.ContentType || got.SHA256 != want.SHA256 {
				t.Errorf("Page = %+v, want %+v", got, want)
			}
		})
	}

	// Saving a page stored before schema 6 again keeps the first copy.
	if err := s.SavePage(ctx, precwatch.Page{SHA256: oldSHA, Site: "shop", URL: "http://shop.test/again", FetchedAt: at, ContentType: "text/html", Body: oldBody}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.rdb.Exists(ctx, s.pageZKey(oldSHA)).Result(); n != 0 {
		t.Error("an old page saved again was written under the new key too")
	}

	// An encoding this version does not know is an error, not a body.
	s.rdb.HSet(ctx, s.pageKey(oldSHA), "encoding", "zstd")
	if _, err := s.Page(ctx, oldSHA); err == nil || !strings.Contains(err.Error(), `"zstd"`) {
		t.Errorf("Page with encoding zstd: %v; want an unknown encoding error", err)
	}
}
