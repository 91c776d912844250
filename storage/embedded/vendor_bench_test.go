package embedded

import (
	"path/filepath"
	"testing"

	"github.com/precwatch/precwatch/storage/storetest"
)

// BenchmarkVendorProfile: a linked vendor's profile among 10,000 listings.
func BenchmarkVendorProfile(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "precwatch.db"))
	defer s.Close()
	storetest.BenchVendorProfile(b, s)
}
