package redis

// Vendor profiles (issue 11). Keys, under the prefix P:
//
//	P:vendorpage:<site>\x1f<handle>        vendor page JSON
//	P:vendor:listings:<site>\x1f<handle>   set of the vendor's listing keys
//	P:vendorid:<kind>:<value>              set of vendors ("<site>\x1f<handle>")
//	                                       whose listings or page carry it
//
// The sets are written in the same MULTI/EXEC as the listing or page they
// index (see writeRecord) and only ever grow: a listing that drops an
// identifier or changes vendor leaves a stale member, which readers check
// against the record (precwatch.LoadVendorProfile does).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

var _ precwatch.VendorStore = (*Store)(nil)

func vendorMember(v precwatch.VendorRef) string { return v.Site + "\x1f" + v.Handle }

func parseVendorMember(m string) (precwatch.VendorRef, bool) {
	site, handle, ok := strings.Cut(m, "\x1f")
	return precwatch.VendorRef{Site: site, Handle: handle}, ok
}

func (s *Store) vendorPageKey(v precwatch.VendorRef) string {
	return s.key("vendorpage", vendorMember(v))
}
func (s *Store) vendorListingsKey(v precwatch.VendorRef) string {
	return s.key("vendor", "listings", vendorMember(v))
}
func (s *Store) vendorIDKey(id precwatch.VendorID) string {
	return s.key("vendorid", id.Kind, id.Value)
}

// indexVendor adds to w the vendor index entries of a listing being
// written.
func (s *Store) indexVendor(w *writes, st precwatch.ListingState) {
	v := precwatch.VendorOf(st.Listing)
	w.sAdd(s.vendorListingsKey(v), st.Key)
	for _, e := range precwatch.VendorIndexEntries(v, st.Listing.Identifiers) {
		w.sAdd(s.vendorIDKey(e), vendorMember(v))
	}
}

// RecordVendorPage stores p and merges sg into the vendor's page record in
// one transaction (WATCH, read, merge, MULTI/EXEC, retried on conflict).
func (s *Store) RecordVendorPage(ctx context.Context, p *precwatch.Page, sg precwatch.VendorPageSighting) (precwatch.VendorPage, error) {
	if err := precwatch.CheckVendorPage(p, sg); err != nil {
		return precwatch.VendorPage{}, fmt.Errorf("redis: record vendor page %s: %w", sg.Vendor, err)
	}
	key := s.vendorPageKey(sg.Vendor)
	watch := []string{key}
	if p != nil {
		watch = append(watch, s.pageKeys(p.SHA256)...)
	}
	var next precwatch.VendorPage
	err := s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			raw, err := tx.Get(ctx, key).Bytes()
			switch {
			case errors.Is(err, redis.Nil):
				next = precwatch.MergeVendorPage(nil, sg)
			case err != nil:
				return fmt.Errorf("load: %w", err)
			default:
				var prev precwatch.VendorPage
				if err := json.Unmarshal(raw, &prev); err != nil {
					return fmt.Errorf("decode: %w", err)
				}
				next = precwatch.MergeVendorPage(&prev, sg)
			}
			savePage := false
			if p != nil {
				n, err := tx.Exists(ctx, s.pageKeys(p.SHA256)...).Result()
				if err != nil {
					return fmt.Errorf("look up page: %w", err)
				}
				savePage = n == 0
			}
			out, err := json.Marshal(next)
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			if !savePage && slices.Equal(out, raw) {
				return nil // a plain retry: nothing to write
			}
			_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				if savePage {
					pipe.HSet(ctx, s.pageZKey(p.SHA256), pageFields(*p)...)
				}
				if p != nil {
					s.touchPage(ctx, pipe, *p) // retention
				}
				pipe.Set(ctx, key, out, 0)
				ids := make([]precwatch.VendorID, len(next.Identifiers))
				for i, id := range next.Identifiers {
					ids[i] = id.VendorID
				}
				for _, e := range precwatch.VendorIndexEntries(sg.Vendor, ids) {
					pipe.SAdd(ctx, s.vendorIDKey(e), vendorMember(sg.Vendor))
				}
				return nil
			})
			return err
		}, watch...)
	})
	if err != nil {
		return precwatch.VendorPage{}, fmt.Errorf("redis: record vendor page %s: %w", sg.Vendor, err)
	}
	return next, nil
}

// VendorPage returns a vendor's page record, or ErrNotFound.
func (s *Store) VendorPage(ctx context.Context, v precwatch.VendorRef) (precwatch.VendorPage, error) {
	var p precwatch.VendorPage
	if err := s.getJSON(ctx, s.vendorPageKey(v), &p); err != nil {
		return p, fmt.Errorf("redis: vendor page %s: %w", v, err)
	}
	return p, nil
}

// VendorListings returns the stored listings of v, by key.
func (s *Store) VendorListings(ctx context.Context, v precwatch.VendorRef, limit int) ([]precwatch.ListingState, error) {
	if limit <= 0 {
		limit = precwatch.MaxVendorListings
	}
	keys, err := s.rdb.SMembers(ctx, s.vendorListingsKey(v)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: vendor listings %s: %w", v, err)
	}
	slices.Sort(keys)
	// Read in chunks of limit, so that a large vendor costs limit
	// listings, not all of them (stale members are skipped).
	var out []precwatch.ListingState
	for chunk := range slices.Chunk(keys, limit) {
		states, err := s.ListingStates(ctx, chunk)
		if err != nil {
			return nil, fmt.Errorf("redis: vendor listings %s: %w", v, err)
		}
		for _, k := range chunk {
			st, ok := states[k]
			if !ok || precwatch.VendorOf(st.Listing) != v {
				continue // stale: the listing changed vendor
			}
			out = append(out, st)
			if len(out) == limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// VendorsWith returns the vendors carrying index entry id.
func (s *Store) VendorsWith(ctx context.Context, id precwatch.VendorID, limit int) ([]precwatch.VendorRef, error) {
	if limit <= 0 {
		limit = precwatch.MaxLinkedVendors
	}
	members, err := s.rdb.SMembers(ctx, s.vendorIDKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: vendors with %s: %w", id, err)
	}
	slices.Sort(members) // "\x1f" sorts below every printable byte: site, then handle
	var out []precwatch.VendorRef
	for _, m := range members {
		if v, ok := parseVendorMember(m); ok {
			out = append(out, v)
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// reindexVendors adds every stored listing to the vendor indexes (schema
// version 5): listings written before them have no entries. Entries are
// set members, so running it twice, or beside writers, changes nothing.
func (s *Store) reindexVendors(ctx context.Context) error {
	const batch = 1000
	var pending []precwatch.ListingState
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		w := newWrites()
		for _, st := range pending {
			s.indexVendor(w, st)
		}
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			w.flush(ctx, p)
			return nil
		})
		pending = pending[:0]
		return err
	}
	err := s.Listings(ctx, "", func(st precwatch.ListingState) error {
		pending = append(pending, st)
		if len(pending) == batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("redis: reindex vendors: %w", err)
	}
	return nil
}
