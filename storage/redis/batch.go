package redis

// Evidence and batches (issue 9): a page, its listings and their alerts in
// one optimistic transaction, read and written in a few round trips
// whatever the number of listings.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

// batchKeys are the keys a RecordPage call reads, in Redis names.
type batchKeys struct {
	listings []string // listing keys (store keys, not Redis names)
	alerts   []string // alert keys the observations' matches name
	pages    []string // SHA-256 of p and of every page the observations name
}

func newBatchKeys(p *precwatch.Page, obs []precwatch.Observation) batchKeys {
	var b batchKeys
	seen := map[string]bool{}
	add := func(list *[]string, k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			*list = append(*list, k)
		}
	}
	if p != nil {
		add(&b.pages, p.SHA256)
	}
	for _, o := range obs {
		l := o.Listing
		add(&b.listings, precwatch.ListingKey(l.Site, l.Identity()))
		add(&b.pages, l.PageSHA256)
		for _, m := range o.Matches {
			if m.Alertable() {
				add(&b.alerts, precwatch.AlertKey(l.Site, l.Identity(), m.Substance))
			}
		}
	}
	return b
}

// RecordPage stores page p and applies obs in one MULTI/EXEC; see
// precwatch.Store. It watches the listings, the alerts they may touch and
// the page, reads them in one pipelined round trip, reconciles every
// observation in order (a listing twice in obs sees its first sighting),
// and writes everything in one transaction, retried on conflict.
func (s *Store) RecordPage(ctx context.Context, p *precwatch.Page, obs []precwatch.Observation) ([]precwatch.RecordResult, error) {
	if err := precwatch.CheckBatch(p, obs); err != nil {
		return nil, fmt.Errorf("redis: record page: %w", err)
	}
	if p == nil && len(obs) == 0 {
		return nil, nil
	}
	keys := newBatchKeys(p, obs)
	watch := make([]string, 0, len(keys.listings)+len(keys.alerts)+1)
	for _, k := range keys.listings {
		watch = append(watch, s.listingKey(k))
	}
	for _, k := range keys.alerts {
		watch = append(watch, s.alertKey(k))
	}
	if p != nil {
		// Watched so that of two processes saving it, the first one's is kept.
		watch = append(watch, s.pageKey(p.SHA256))
	}
	var results []precwatch.RecordResult
	err := s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var err error
			results, err = s.recordPageTx(ctx, tx, p, obs, keys, watch)
			return err
		}, s.routeKeys(watch)...)
	})
	if err != nil {
		what := "no page"
		if p != nil {
			what = "page " + p.SHA256
		}
		return nil, fmt.Errorf("redis: record page (%s, %d listings): %w", what, len(obs), err)
	}
	return results, nil
}

// batchWrite is one reconciled sighting to write.
type batchWrite struct {
	next     precwatch.ListingState
	raw      []byte
	write    []precwatch.Alert
	existing map[string]precwatch.Alert
	// known: the listing was stored before, and so is in the listing sets.
	known bool
}

// routeKeys are the keys given to the client's Watch: none on one Redis,
// where recordPageTx sends WATCH in the same round trip as its reads; the
// first on a cluster, whose client needs one to pick the slot's node.
func (s *Store) routeKeys(watch []string) []string {
	if s.cluster {
		return watch[:1]
	}
	return nil
}

func (s *Store) recordPageTx(ctx context.Context, tx *redis.Tx, p *precwatch.Page, obs []precwatch.Observation, keys batchKeys, watch []string) ([]precwatch.RecordResult, error) {
	// The WATCH below is not the client's own (Tx.Watch), so the client
	// does not know to release it: unless EXEC ran (and released it), do
	// it here, or a later transaction on this pooled connection would be
	// aborted by changes to keys it never watched. An UNWATCH that fails
	// failed on the connection, which the client then drops, and the
	// WATCH with it.
	execRan := false
	defer func() {
		if !execRan {
			_ = tx.Unwatch(ctx).Err()
		}
	}()
	// One round trip: WATCH, then every listing, every named alert, which
	// pages exist (three round trips with WATCH on its own).
	var listCmd, alertCmd *redis.SliceCmd
	pageCmds := make([]*redis.IntCmd, len(keys.pages))
	_, err := tx.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		args := make([]any, 0, len(watch)+1)
		args = append(args, "watch")
		for _, k := range watch {
			args = append(args, k)
		}
		pipe.Do(ctx, args...)
		if len(keys.listings) > 0 {
			rkeys := make([]string, len(keys.listings))
			for i, k := range keys.listings {
				rkeys[i] = s.listingKey(k)
			}
			listCmd = pipe.MGet(ctx, rkeys...)
		}
		if len(keys.alerts) > 0 {
			akeys := make([]string, len(keys.alerts))
			for i, k := range keys.alerts {
				akeys[i] = s.alertKey(k)
			}
			alertCmd = pipe.MGet(ctx, akeys...)
		}
		for i, sha := range keys.pages {
			pageCmds[i] = pipe.Exists(ctx, s.pageKey(sha))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	states := make(map[string]*precwatch.ListingState, len(keys.listings))
	raws := make(map[string][]byte, len(keys.listings))
	var listed []any
	if listCmd != nil {
		listed = listCmd.Val()
	}
	for i, v := range listed {
		str, ok := v.(string)
		if !ok {
			continue
		}
		st := new(precwatch.ListingState)
		if err := json.Unmarshal([]byte(str), st); err != nil {
			return nil, fmt.Errorf("decode listing %s: %w", keys.listings[i], err)
		}
		states[keys.listings[i]], raws[keys.listings[i]] = st, []byte(str)
	}
	// Alerts are decoded only for the sightings that need them: an
	// unchanged listing's alerts are not rewritten (see lazyAlerts).
	alerts := lazyAlerts{raw: map[string]string{}, decoded: map[string]precwatch.Alert{}}
	if alertCmd != nil {
		alerts.add(keys.alerts, alertCmd.Val())
	}
	pageStored := make(map[string]bool, len(keys.pages))
	for i, sha := range keys.pages {
		pageStored[sha] = pageCmds[i].Val() == 1
	}
	// Alerts of substances a listing no longer matches are written too:
	// watch them before reading them.
	var extra []string
	for _, st := range states {
		for _, k := range st.AlertKeys {
			if !slices.Contains(keys.alerts, k) && !slices.Contains(extra, k) {
				extra = append(extra, k)
			}
		}
	}
	if len(extra) > 0 {
		rkeys := make([]string, len(extra))
		for i, k := range extra {
			rkeys[i] = s.alertKey(k)
		}
		if err := tx.Watch(ctx, rkeys...).Err(); err != nil {
			return nil, fmt.Errorf("watch alerts: %w", err)
		}
		vals, err := tx.MGet(ctx, rkeys...).Result()
		if err != nil {
			return nil, fmt.Errorf("load alerts: %w", err)
		}
		alerts.add(extra, vals)
	}

	fetchStored, err := s.fetchesStored(ctx, tx, p, obs) // issue 11
	if err != nil {
		return nil, err
	}
	results := make([]precwatch.RecordResult, len(obs))
	var writes []batchWrite
	for i, o := range obs {
		l := o.Listing
		lkey := precwatch.ListingKey(l.Site, l.Identity())
		prev := states[lkey]
		var akeys []string
		for _, m := range o.Matches {
			if m.Alertable() {
				akeys = append(akeys, precwatch.AlertKey(l.Site, l.Identity(), m.Substance))
			}
		}
		if prev != nil {
			for _, k := range prev.AlertKeys {
				akeys = append(akeys, k)
			}
		}
		// Reconcile rewrites no existing alert of a listing seen again
		// unchanged, only asks which exist: stand-ins spare decoding them.
		unchanged := prev != nil && !prev.Gone && !o.At.Before(prev.LastSeen) && prev.Fingerprint == precwatch.Fingerprint(l)
		existing, err := alerts.existing(akeys, unchanged)
		if err != nil {
			return nil, err
		}
		next, write, res := precwatch.Reconcile(prev, existing, o)
		if unchanged && slices.ContainsFunc(write, func(a precwatch.Alert) bool { _, had := existing[a.Key]; return had }) {
			// Not expected; never write a stand-in.
			if existing, err = alerts.existing(akeys, false); err != nil {
				return nil, err
			}
			next, write, res = precwatch.Reconcile(prev, existing, o)
		}
		if sha := precwatch.EvidenceNeeded(p, o, write); sha != "" && !pageStored[sha] {
			return nil, precwatch.ErrNoEvidence(o, sha)
		}
		if err := fetchesNeeded(p, o, write, fetchStored); err != nil {
			return nil, err
		}
		raw, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("encode listing %s: %w", lkey, err)
		}
		results[i] = res
		// A plain retry changes nothing: no write, so that it does not
		// abort other writers' transactions watching this listing.
		if len(write) == 0 && bytes.Equal(raw, raws[lkey]) {
			continue
		}
		writes = append(writes, batchWrite{next: next, raw: raw, write: write, existing: existing, known: prev != nil})
		states[lkey], raws[lkey] = &next, raw
		for _, a := range write {
			alerts.decoded[a.Key] = a
		}
	}
	if p != nil && p.Stored && !pageStored[p.SHA256] {
		return nil, fmt.Errorf("%w: fetch %s: body %s is not stored", precwatch.ErrInvalid, p.Fetch.ID, p.SHA256)
	}
	savePage := p != nil && !p.Stored && !pageStored[p.SHA256]
	saveFetch := p != nil && p.Fetch != nil && !fetchStored[p.Fetch.ID]
	if len(writes) == 0 && !savePage && !saveFetch {
		return results, nil
	}
	if s.beforeExec != nil {
		s.beforeExec()
	}
	w := newWrites()
	for _, bw := range writes {
		if bw.known && len(bw.write) == 0 {
			// A listing seen again with no alert to write (the common
			// case of a re-crawl): its state only.
			w.set(s.listingKey(bw.next.Key), bw.raw)
			continue
		}
		if err := s.writeRecord(w, bw.next, bw.raw, bw.write, bw.existing); err != nil {
			return nil, err
		}
	}
	_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		if savePage {
			pipe.HSet(ctx, s.pageKey(p.SHA256), pageFields(*p)...)
		}
		if saveFetch {
			if err := s.writeFetch(ctx, pipe, *p.Fetch); err != nil {
				return err
			}
		}
		w.flush(ctx, pipe)
		return nil
	})
	execRan = err == nil || errors.Is(err, redis.TxFailedErr) || redis.IsExecAbortError(err)
	if err != nil {
		if !errors.Is(err, redis.TxFailedErr) {
			err = fmt.Errorf("write: %w", err)
		}
		return nil, err
	}
	return results, nil
}

// ListingStates returns the stored states of the listings of keys, in one
// MGET per 500 keys; see precwatch.Store.
func (s *Store) ListingStates(ctx context.Context, keys []string) (map[string]precwatch.ListingState, error) {
	out := make(map[string]precwatch.ListingState, len(keys))
	for chunk := range slices.Chunk(keys, 500) {
		rkeys := make([]string, len(chunk))
		for i, k := range chunk {
			rkeys[i] = s.listingKey(k)
		}
		vals, err := s.rdb.MGet(ctx, rkeys...).Result()
		if err != nil {
			return nil, fmt.Errorf("redis: listing states: %w", err)
		}
		states, err := decodeAll[precwatch.ListingState](vals)
		if err != nil {
			return nil, fmt.Errorf("redis: listing states: decode: %w", err)
		}
		for _, st := range states {
			out[st.Key] = st
		}
	}
	return out, nil
}

// lazyAlerts are the alerts a RecordPage read, decoded when first needed.
type lazyAlerts struct {
	raw     map[string]string          // alert key → JSON as read
	decoded map[string]precwatch.Alert // alert key → alert, latest first
}

func (la lazyAlerts) add(keys []string, vals []any) {
	for i, v := range vals {
		if str, ok := v.(string); ok {
			la.raw[keys[i]] = str
		}
	}
}

// existing returns the stored alerts of keys, by key; with standIns, an
// alert is only its key (for Reconcile of an unchanged listing).
func (la lazyAlerts) existing(keys []string, standIns bool) (map[string]precwatch.Alert, error) {
	out := make(map[string]precwatch.Alert, len(keys))
	for _, k := range keys {
		if a, ok := la.decoded[k]; ok {
			out[k] = a
			continue
		}
		str, ok := la.raw[k]
		if !ok {
			continue
		}
		if standIns {
			out[k] = precwatch.Alert{Key: k}
			continue
		}
		var a precwatch.Alert
		if err := json.Unmarshal([]byte(str), &a); err != nil {
			return nil, fmt.Errorf("decode alert %s: %w", k, err)
		}
		la.decoded[k] = a
		out[k] = a
	}
	return out, nil
}
