package embedded

import (
	"path/filepath"
	"testing"

	"github.com/precwatch/precwatch/storage/storetest"
)

// BenchmarkRecordPage: listings/s into the embedded store, a page of 50
// listings per RecordPage transaction.
func BenchmarkRecordPage(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "precwatch.db"))
	defer s.Close()
	storetest.BenchRecordPage(b, s, 50, 1)
}
