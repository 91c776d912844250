package prune

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"testing"
)

func TestSet(t *testing.T) {
	s := NewSet()
	ids := []string{"0123456789abcdef0123456789abcdef", hex.EncodeToString(make([]byte, 32)), "page-abc", "0123456789ABCDEF0123456789ABCDEF"}
	for _, id := range ids {
		if s.Has(id) {
			t.Errorf("empty set has %q", id)
		}
		s.Add(id)
		if !s.Has(id) {
			t.Errorf("set lacks %q once added", id)
		}
	}
	s.Add("")
	if s.Len() != len(ids) || s.Has("0123456789abcdef0123456789abcdee") {
		t.Errorf("set of %d ids has %d, or one never added", len(ids), s.Len())
	}
	m := NewMarks()
	m.AddFetch("page-" + ids[1])
	if !m.Pages.Has(ids[1]) {
		t.Error("a legacy fetch ID does not mark its page")
	}
	if err := m.AddDoc([]byte(`{"listing":{"page_sha256":"p1","sources":[{"fetch":"f1"}]},"history":[{"page_sha256":"p2","fetches":["f2","f3"]}]}`)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"f1", "f2", "f3"} {
		if !m.Fetches.Has(id) {
			t.Errorf("fetch %s not marked", id)
		}
	}
	if !m.Pages.Has("p1") || !m.Pages.Has("p2") {
		t.Error("pages of a listing and its history not marked")
	}
}

// TestSetMemory measures what the mark holds per identifier (README
// "Retention"): half a million fetch IDs and half a million SHA-256s.
func TestSetMemory(t *testing.T) {
	const n = 500_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewSet()
	var b [8]byte
	for i := range n {
		binary.BigEndian.PutUint64(b[:], uint64(i))
		sum := sha256.Sum256(b[:])
		s.Add(hex.EncodeToString(sum[:16])) // a fetch ID
		s.Add(hex.EncodeToString(sum[:]))   // a body
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(s.Len())
	t.Logf("%d identifiers: %.1f MB, %.0f bytes each", s.Len(), float64(after.HeapAlloc-before.HeapAlloc)/1e6, per)
	if s.Len() != 2*n || per > 120 {
		t.Errorf("%d identifiers at %.0f bytes each, want %d at most 120", s.Len(), per, 2*n)
	}
	runtime.KeepAlive(s)
}
