package redis

// Listing states and alerts in JSON (issue 9, throughput): every
// sighting RecordPage writes encodes a state (about 0.8 KB), a new alert
// is encoded for its key and its stream event, and every listing seen
// again decodes a state. appendState and appendAlert write the bytes
// json.Marshal writes, byte for byte, without reflection, so the stored
// format does not change; TestStateJSON and TestAlertJSON check them
// against encoding/json on random values, and that they know every field
// of the types. Decoding goes through github.com/goccy/go-json, which
// reads as encoding/json does (the same tests compare them). The encoder
// stays ours: go-json's, byte-identical too, costs about twice this per
// state (its omitzero check of a time.Time is reflection) and reached
// some 73 % of this one's gain over encoding/json on new listings
// (README, "JSON libraries"); segmentio/encoding, bytedance/sonic and
// json-iterator do not write encoding/json's bytes.

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	"github.com/precwatch/precwatch"
)

// appendState appends json.Marshal(st) to b.
func appendState(b []byte, st *precwatch.ListingState) ([]byte, error) {
	b = append(b, `{"key":`...)
	b = appendString(b, st.Key)
	b = append(b, `,"listing":`...)
	b, err := appendListing(b, &st.Listing)
	if err != nil {
		return b, err
	}
	b = append(b, `,"fingerprint":`...)
	b = appendString(b, st.Fingerprint)
	b = append(b, `,"material":{"price":`...)
	b = appendString(b, st.Material.Price)
	b = append(b, `,"currency":`...)
	b = appendString(b, st.Material.Currency)
	if len(st.Material.Concentrations) > 0 {
		b = append(b, `,"concentrations":`...)
		b = appendStringMap(b, st.Material.Concentrations)
	}
	b = append(b, `},"first_seen":`...)
	if b, err = appendTime(b, st.FirstSeen); err != nil {
		return b, err
	}
	b = append(b, `,"last_seen":`...)
	if b, err = appendTime(b, st.LastSeen); err != nil {
		return b, err
	}
	b = append(b, `,"last_run_id":`...)
	b = appendString(b, st.LastRunID)
	b = append(b, `,"gone":`...)
	b = strconv.AppendBool(b, st.Gone)
	if len(st.AlertKeys) > 0 {
		b = append(b, `,"alert_keys":`...)
		b = appendStringMap(b, st.AlertKeys)
	}
	if st.RowHash != "" {
		b = append(b, `,"row_hash":`...)
		b = appendString(b, st.RowHash)
	}
	if !st.DetailFetchedAt.IsZero() {
		b = append(b, `,"detail_fetched_at":`...)
		if b, err = appendTime(b, st.DetailFetchedAt); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendListing(b []byte, l *precwatch.Listing) ([]byte, error) {
	b = append(b, `{"site":`...)
	b = appendString(b, l.Site)
	if l.ID != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, l.ID)
	}
	b = append(b, `,"url":`...)
	b = appendString(b, l.URL)
	b = append(b, `,"title":`...)
	b = appendString(b, l.Title)
	if l.Description != "" {
		b = append(b, `,"description":`...)
		b = appendString(b, l.Description)
	}
	if l.Price != 0 {
		b = append(b, `,"price":`...)
		var err error
		if b, err = appendFloat(b, l.Price); err != nil {
			return b, err
		}
	}
	if l.Currency != "" {
		b = append(b, `,"currency":`...)
		b = appendString(b, l.Currency)
	}
	if l.Vendor != "" {
		b = append(b, `,"vendor":`...)
		b = appendString(b, l.Vendor)
	}
	if !l.FetchedAt.IsZero() {
		b = append(b, `,"fetched_at":`...)
		var err error
		if b, err = appendTime(b, l.FetchedAt); err != nil {
			return b, err
		}
	}
	if l.PageSHA256 != "" {
		b = append(b, `,"page_sha256":`...)
		b = appendString(b, l.PageSHA256)
	}
	if l.Tor {
		b = append(b, `,"tor":true`...)
	}
	if len(l.Identifiers) > 0 {
		b = append(b, `,"identifiers":[`...)
		for i, id := range l.Identifiers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"kind":`...)
			b = appendString(b, id.Kind)
			b = append(b, `,"value":`...)
			b = appendString(b, id.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if l.VendorURL != "" {
		b = append(b, `,"vendor_url":`...)
		b = appendString(b, l.VendorURL)
	}
	if len(l.Sources) > 0 {
		b = append(b, `,"sources":[`...)
		for i, s := range l.Sources {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"fetch":`...)
			b = appendString(b, s.Fetch)
			b = append(b, `,"role":`...)
			b = appendString(b, s.Role)
			b = append(b, `,"fields":`...)
			if s.Fields == nil {
				b = append(b, "null"...)
			} else {
				b = append(b, '[')
				for k, f := range s.Fields {
					if k > 0 {
						b = append(b, ',')
					}
					b = appendString(b, f)
				}
				b = append(b, ']')
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// plainByte marks the bytes a JSON string holds as they are in
// encoding/json's output: printable ASCII but '"', '\\' and the HTML
// characters it escapes ('<', '>', '&'). Other bytes are UTF-8, checked
// apart.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, as json.Marshal does.
func appendString(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; !plainByte[c] {
			if c < utf8.RuneSelf {
				return appendStringSlow(b, s)
			}
			ascii = false
		}
	}
	// encoding/json writes valid UTF-8 as it is, but U+2028 and U+2029.
	if !ascii && (!utf8.ValidString(s) || strings.Contains(s, "\u2028") || strings.Contains(s, "\u2029")) {
		return appendStringSlow(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendStringSlow(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// appendTime appends t as json.Marshal does (RFC 3339 with nanoseconds).
func appendTime(b []byte, t time.Time) ([]byte, error) {
	_, off := t.Zone()
	if y := t.Year(); y < 0 || y > 9999 || off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		q, err := json.Marshal(t)
		return append(b, q...), err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendFloat appends f as json.Marshal does: the shortest decimal, in
// exponent form outside [1e-6, 1e21).
func appendFloat(b []byte, f float64) ([]byte, error) {
	if a := math.Abs(f); a < 1e-6 || a >= 1e21 || math.IsNaN(f) {
		q, err := json.Marshal(f)
		return append(b, q...), err
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64), nil
}

// appendStringMap appends m as json.Marshal does, keys in order.
func appendStringMap(b []byte, m map[string]string) []byte {
	var buf [8]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

// appendAlert appends json.Marshal(a) to b. A new alert is encoded once
// for its key and its stream event, and json.Marshal was most of the
// client's CPU per alert after the indexes.
func appendAlert(b []byte, a *precwatch.Alert) ([]byte, error) {
	b = append(b, `{"key":`...)
	b = appendString(b, a.Key)
	b = append(b, `,"site":`...)
	b = appendString(b, a.Site)
	b = append(b, `,"identity":`...)
	b = appendString(b, a.Identity)
	b = append(b, `,"substance":`...)
	b = appendString(b, a.Substance)
	b = append(b, `,"name":`...)
	b = appendString(b, a.Name)
	b = append(b, `,"regime":`...)
	b = appendString(b, string(a.Regime))
	b = append(b, `,"severity":`...)
	b = appendString(b, a.Severity.String()) // its MarshalText
	b = append(b, `,"score":`...)
	b, err := appendNumber(b, a.Score)
	if err != nil {
		return b, err
	}
	if len(a.Reasons) > 0 {
		b = append(b, `,"reasons":`...)
		b = appendStrings(b, a.Reasons)
	}
	b = append(b, `,"status":`...)
	b = appendString(b, string(a.Status))
	b = append(b, `,"listing":`...)
	if b, err = appendListing(b, &a.Listing); err != nil {
		return b, err
	}
	b = append(b, `,"matches":`...)
	if a.Matches == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range a.Matches {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendMatch(b, &a.Matches[i]); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"created_at":`...)
	if b, err = appendTime(b, a.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, a.UpdatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"history":`...)
	if a.History == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range a.History {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendEvent(b, &a.History[i]); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	if a.Assignee != "" {
		b = append(b, `,"assignee":`...)
		b = appendString(b, a.Assignee)
	}
	if len(a.Timeline) > 0 { // the console's: rare on this path
		b = append(b, `,"timeline":`...)
		q, err := json.Marshal(a.Timeline)
		if err != nil {
			return b, err
		}
		b = append(b, q...)
	}
	return append(b, '}'), nil
}

func appendMatch(b []byte, m *precwatch.Match) ([]byte, error) {
	b = append(b, `{"substance":`...)
	b = appendString(b, m.Substance)
	b = append(b, `,"name":`...)
	b = appendString(b, m.Name)
	b = append(b, `,"regime":`...)
	b = appendString(b, string(m.Regime))
	b = append(b, `,"severity":`...)
	b = appendString(b, m.Severity.String())
	b = append(b, `,"term":`...)
	b = appendString(b, m.Term)
	b = append(b, `,"kind":`...)
	b = appendString(b, m.Kind)
	b = append(b, `,"field":`...)
	b = appendString(b, m.Field)
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, int64(m.Start), 10)
	b = append(b, `,"end":`...)
	b = strconv.AppendInt(b, int64(m.End), 10)
	b = append(b, `,"text":`...)
	b = appendString(b, m.Text)
	b = append(b, `,"concentration_percent":`...)
	var err error
	if m.ConcentrationPercent == nil {
		b = append(b, "null"...)
	} else if b, err = appendNumber(b, *m.ConcentrationPercent); err != nil {
		return b, err
	}
	if m.LimitPercent != nil {
		b = append(b, `,"limit_percent":`...)
		if b, err = appendNumber(b, *m.LimitPercent); err != nil {
			return b, err
		}
	}
	b = append(b, `,"over_limit":`...)
	if m.OverLimit == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendBool(b, *m.OverLimit)
	}
	if m.Quantity != nil {
		b = append(b, `,"quantity":`...)
		q, err := json.Marshal(m.Quantity)
		if err != nil {
			return b, err
		}
		b = append(b, q...)
	}
	if len(m.Steps) > 0 {
		b = append(b, `,"normalisation":`...)
		b = appendStrings(b, m.Steps)
	}
	b = append(b, `,"score":`...)
	if b, err = appendNumber(b, m.Score); err != nil {
		return b, err
	}
	if len(m.Reasons) > 0 {
		b = append(b, `,"reasons":`...)
		b = appendStrings(b, m.Reasons)
	}
	if m.Suppressed != "" {
		b = append(b, `,"suppressed":`...)
		b = appendString(b, m.Suppressed)
	}
	return append(b, '}'), nil
}

func appendEvent(b []byte, e *precwatch.AlertEvent) ([]byte, error) {
	b = append(b, `{"at":`...)
	b, err := appendTime(b, e.At)
	if err != nil {
		return b, err
	}
	b = append(b, `,"kind":`...)
	b = appendString(b, e.Kind)
	if len(e.Changes) > 0 {
		b = append(b, `,"changes":[`...)
		for i, c := range e.Changes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"field":`...)
			b = appendString(b, c.Field)
			b = append(b, `,"old":`...)
			b = appendString(b, c.Old)
			b = append(b, `,"new":`...)
			b = appendString(b, c.New)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if e.PageSHA256 != "" {
		b = append(b, `,"page_sha256":`...)
		b = appendString(b, e.PageSHA256)
	}
	if len(e.Fetches) > 0 {
		b = append(b, `,"fetches":`...)
		b = appendStrings(b, e.Fetches)
	}
	return append(b, '}'), nil
}

// appendNumber is appendFloat for a field without omitempty, which may
// hold zero.
func appendNumber(b []byte, f float64) ([]byte, error) {
	if f == 0 && !math.Signbit(f) {
		return append(b, '0'), nil
	}
	return appendFloat(b, f)
}

// appendStrings appends a non-empty []string.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// parseState decodes a stored listing state as json.Unmarshal does,
// through github.com/goccy/go-json (about 3x faster than encoding/json
// here, and as fast as the scanner of our own it replaced, see README
// "Dependencies and why"). The decoded strings refer to one copy of raw
// (DecodeNoCopyString) rather than one allocation each.
func parseState(raw string) (*precwatch.ListingState, error) {
	st := new(precwatch.ListingState)
	if err := gojson.UnmarshalWithOption([]byte(raw), st, gojson.DecodeNoCopyString()); err != nil {
		return nil, err
	}
	return st, nil
}

// parseStates decodes the listing states an MGET returned, skipping the
// keys that did not exist.
func parseStates(vals []any) ([]precwatch.ListingState, error) {
	out := make([]precwatch.ListingState, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		st, err := parseState(str)
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, nil
}

// goneState is what precwatch.GoneAfter reads of a listing state.
type goneState struct {
	Listing struct {
		Site string `json:"site"`
	} `json:"listing"`
	LastSeen  time.Time `json:"last_seen"`
	LastRunID string    `json:"last_run_id"`
	Gone      bool      `json:"gone"`
}

// goneFields reads of a stored state only what precwatch.GoneAfter
// reads (its listing's site, last sighting, last run, gone), as
// json.Unmarshal reads them, skipping the rest unbuilt; ok is false if
// the state does not decode. MarkGone checks every listing of a site at
// a complete run's end, most of them seen by the run.
func goneFields(raw string) (st precwatch.ListingState, ok bool) {
	var g goneState
	if gojson.UnmarshalOf([]byte(raw), &g, gojson.DecodeNoCopyString()) != nil {
		return st, false
	}
	st.Listing.Site, st.LastSeen, st.LastRunID, st.Gone = g.Listing.Site, g.LastSeen, g.LastRunID, g.Gone
	return st, true
}
