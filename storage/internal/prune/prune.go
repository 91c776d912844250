// Package prune is what both stores' Prune share (see precwatch.Pruner):
// the mark sets, which hold identifiers only (never bodies), and the
// reading of the references out of the stored JSON, so that both stores
// mark alike.
package prune

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
)

// Set is a set of identifiers: fetch IDs (32 hex digits) and SHA-256s (64)
// kept as their bytes, anything else as a string, so that a mark set of a
// million identifiers takes tens of megabytes, not hundreds.
type Set struct {
	b16   map[[16]byte]struct{}
	b32   map[[32]byte]struct{}
	other map[string]struct{}
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{b16: map[[16]byte]struct{}{}, b32: map[[32]byte]struct{}{}, other: map[string]struct{}{}}
}

// Add adds id ("" is ignored).
func (s *Set) Add(id string) {
	switch {
	case id == "":
	case len(id) == 32 && isLowerHex(id):
		var k [16]byte
		hex.Decode(k[:], []byte(id))
		s.b16[k] = struct{}{}
	case len(id) == 64 && isLowerHex(id):
		var k [32]byte
		hex.Decode(k[:], []byte(id))
		s.b32[k] = struct{}{}
	default:
		s.other[id] = struct{}{}
	}
}

// Has reports whether id was added.
func (s *Set) Has(id string) bool {
	switch {
	case len(id) == 32 && isLowerHex(id):
		var k [16]byte
		hex.Decode(k[:], []byte(id))
		_, ok := s.b16[k]
		return ok
	case len(id) == 64 && isLowerHex(id):
		var k [32]byte
		hex.Decode(k[:], []byte(id))
		_, ok := s.b32[k]
		return ok
	}
	_, ok := s.other[id]
	return ok
}

// Len is the number of identifiers in s.
func (s *Set) Len() int { return len(s.b16) + len(s.b32) + len(s.other) }

// isLowerHex reports whether s is lower-case hex, the only form stores
// write; other spellings are kept as strings, so Add and Has agree.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Marks are the fetches and page bodies something kept names.
type Marks struct {
	Fetches *Set
	Pages   *Set
}

// NewMarks returns empty marks.
func NewMarks() *Marks { return &Marks{Fetches: NewSet(), Pages: NewSet()} }

// legacyPrefix names a fetch answered from a page stored before fetch
// records (precwatch.LegacyFetch): the page is what it needs.
const legacyPrefix = "page-"

// AddFetch marks fetch id, and the page of a legacy fetch ID.
func (m *Marks) AddFetch(id string) {
	m.Fetches.Add(id)
	if sha, ok := strings.CutPrefix(id, legacyPrefix); ok {
		m.Pages.Add(sha)
	}
}

// refListing is what a stored listing names: its page and its sources.
type refListing struct {
	PageSHA256 string `json:"page_sha256"`
	Sources    []struct {
		Fetch string `json:"fetch"`
	} `json:"sources"`
}

// refDoc is the part of a listing state's or an alert's JSON that names
// evidence: the listing (a state's current one, an alert's snapshot) and,
// for an alert, the page and fetches of each history event.
type refDoc struct {
	Listing refListing `json:"listing"`
	History []struct {
		PageSHA256 string   `json:"page_sha256"`
		Fetches    []string `json:"fetches"`
	} `json:"history"`
}

// AddDoc marks what the JSON of a listing state, an alert or an alert
// event's alert names.
func (m *Marks) AddDoc(raw []byte) error {
	var d refDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("decode references: %w", err)
	}
	m.Pages.Add(d.Listing.PageSHA256)
	for _, s := range d.Listing.Sources {
		m.AddFetch(s.Fetch)
	}
	for _, e := range d.History {
		m.Pages.Add(e.PageSHA256)
		for _, id := range e.Fetches {
			m.AddFetch(id)
		}
	}
	return nil
}

// AddFetchState marks the body a fetch state's validators belong to: a
// 304 answer is read again from it.
func (m *Marks) AddFetchState(raw []byte) error {
	var fs struct {
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(raw, &fs); err != nil {
		return fmt.Errorf("decode fetch state: %w", err)
	}
	m.Pages.Add(fs.SHA256)
	return nil
}

// AddVendorPage marks the page a vendor page record names.
func (m *Marks) AddVendorPage(raw []byte) error {
	var vp struct {
		PageSHA256 string `json:"page_sha256"`
	}
	if err := json.Unmarshal(raw, &vp); err != nil {
		return fmt.Errorf("decode vendor page: %w", err)
	}
	m.Pages.Add(vp.PageSHA256)
	return nil
}

// RunInfo is what Prune reads of a run record.
type RunInfo struct {
	ID     string              `json:"id"`
	Site   string              `json:"site"`
	Start  time.Time           `json:"start"`
	End    time.Time           `json:"end"`
	Status precwatch.RunStatus `json:"status"`
	Block  *struct {
		PageSHA256 string `json:"page_sha256"`
	} `json:"block"`
	WARCs []struct {
		Path string `json:"path"`
	} `json:"warcs"`
}

// DecodeRun reads a run record's JSON.
func DecodeRun(raw []byte) (RunInfo, error) {
	var r RunInfo
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("decode run: %w", err)
	}
	return r, nil
}

// BlockPage is the page a run's block names, or "".
func (r RunInfo) BlockPage() string {
	if r.Block == nil {
		return ""
	}
	return r.Block.PageSHA256
}

// Ended is when the run ended, or started when it has no end.
func (r RunInfo) Ended() time.Time {
	if r.End.IsZero() {
		return r.Start
	}
	return r.End
}

// Deletable reports whether run r may go under p, its own fetches and
// its site's newest runs aside (the stores check those): it ended, before
// p.RunsBefore.
func (r RunInfo) Deletable(p precwatch.PrunePolicy) bool {
	return !p.RunsBefore.IsZero() && r.Status != precwatch.RunRunning && r.Status != "" && r.Ended().Before(p.RunsBefore)
}

// WARCPaths lists the archive files a run record names.
func (r RunInfo) WARCPaths() []string {
	out := make([]string, 0, len(r.WARCs))
	for _, w := range r.WARCs {
		out = append(out, w.Path)
	}
	return out
}

// FetchInfo is what Prune reads of a fetch record.
type FetchInfo struct {
	ID         string    `json:"id"`
	RunID      string    `json:"run_id"`
	At         time.Time `json:"at"`
	BodySHA256 string    `json:"body_sha256"`
}

// DecodeFetch reads a fetch record's JSON.
func DecodeFetch(raw []byte) (FetchInfo, error) {
	var f FetchInfo
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, fmt.Errorf("decode fetch: %w", err)
	}
	return f, nil
}
