//go:build demo

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/precwatch/precwatch/internal/warcfile"
	"github.com/precwatch/precwatch/storage/embedded"
)

// checkDemoWARCs (issue 11): the demo's runs wrote WARC files beside the
// store, each listed in its run record with its SHA-256, every record
// readable and every digest valid.
func checkDemoWARCs(t *testing.T, store string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(store), "warc", "*.warc.gz"))
	if len(files) == 0 {
		t.Fatalf("the demo wrote no WARC file under %s", filepath.Join(filepath.Dir(store), "warc"))
	}
	st, err := embedded.Open(context.Background(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, r := range runs {
		if r.Pages > 0 && len(r.WARCs) == 0 {
			t.Errorf("run %s of %s fetched %d pages but lists no WARC file", r.ID, r.Site, r.Pages)
		}
		for _, w := range r.WARCs {
			listed++
			raw, err := os.ReadFile(w.Path)
			if err != nil {
				t.Errorf("run %s: %v", r.ID, err)
				continue
			}
			if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != w.SHA256 {
				t.Errorf("run %s: %s: sha256 differs from the run record's", r.ID, w.Path)
			}
			f, err := os.Open(w.Path)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := warcfile.RecordIDs(f)
			f.Close()
			if err != nil || len(ids) != w.Records {
				t.Errorf("run %s: %s: %d records (%v), run lists %d", r.ID, w.Path, len(ids), err, w.Records)
			}
		}
	}
	if listed != len(files) {
		t.Errorf("runs list %d WARC files, %d on disk", listed, len(files))
	}
}
