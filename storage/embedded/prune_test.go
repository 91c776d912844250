package embedded

import (
	"path/filepath"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestPruneConformance(t *testing.T) {
	storetest.RunPrune(t, func(t *testing.T) func() precwatch.Store {
		path := filepath.Join(t.TempDir(), "precwatch.db")
		return func() precwatch.Store { return open(t, path) }
	})
}

// TestPruneFigures measures what retention saves (README "Retention"):
// rows of the pruned tables and the database's pages in use.
func TestPruneFigures(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "precwatch.db"))
	defer s.Close()
	storetest.PruneFigures(t, s, func(t *testing.T) storetest.Usage {
		var u storetest.Usage
		var pages, free, size int64
		err := s.db.QueryRowContext(t.Context(), `SELECT (SELECT count(*) FROM fetches) + (SELECT count(*) FROM pages) + (SELECT count(*) FROM runs),
	(SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)`).
			Scan(&u.Keys, &pages, &free, &size)
		if err != nil {
			t.Fatal(err)
		}
		u.Bytes = (pages - free) * size
		return u
	})
}
