package redis

import (
	"testing"

	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

// BenchmarkVendorProfile: a linked vendor's profile among 10,000 listings.
func BenchmarkVendorProfile(b *testing.B) {
	s := open(b, redistest.Start(b)+"?stream_maxlen=1000")
	defer s.Close()
	storetest.BenchVendorProfile(b, s)
}
