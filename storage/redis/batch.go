package redis

// Evidence and batches (issue 9): a page, its listings and their alerts in
// one optimistic transaction, read and written in a few round trips
// whatever the number of listings.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

// batchKeys are the keys a RecordPage call reads, in Redis names, and
// each observation's, hashed once.
type batchKeys struct {
	listings []string // listing keys (store keys, not Redis names)
	alerts   []string // alert keys the observations' matches name
	pages    []string // SHA-256 of p and of every page the observations name
	// obsListing and obsAlerts are each observation's listing key and the
	// alert keys of its alertable matches.
	obsListing []string
	obsAlerts  [][]string
}

func newBatchKeys(p *precwatch.Page, obs []precwatch.Observation) batchKeys {
	b := batchKeys{obsListing: make([]string, len(obs)), obsAlerts: make([][]string, len(obs))}
	seen := make(map[string]bool, 3*len(obs))
	add := func(list *[]string, k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			*list = append(*list, k)
		}
	}
	if p != nil {
		add(&b.pages, p.SHA256)
	}
	for i, o := range obs {
		l := o.Listing
		id := l.Identity()
		b.obsListing[i] = precwatch.ListingKey(l.Site, id)
		add(&b.listings, b.obsListing[i])
		add(&b.pages, l.PageSHA256)
		for _, m := range o.Matches {
			if m.Alertable() {
				k := precwatch.AlertKey(l.Site, id, m.Substance)
				b.obsAlerts[i] = append(b.obsAlerts[i], k)
				add(&b.alerts, k)
			}
		}
	}
	return b
}

// RecordPage stores page p and applies obs in one MULTI/EXEC; see
// precwatch.Store. It watches the listings and the page and reads them in
// one pipelined round trip, with how many of the alerts they name exist;
// a second round trip, when needed, watches and reads the alerts that may
// be rewritten (those of new, changed or relisted listings that exist)
// and asks which alerts exist when the count did not tell. It reconciles
// every observation in order (a listing twice in obs sees its first
// sighting) and writes everything in one transaction, retried on
// conflict. A re-crawled page, or a page of new listings, takes two
// round trips.
func (s *Store) RecordPage(ctx context.Context, p *precwatch.Page, obs []precwatch.Observation) ([]precwatch.RecordResult, error) {
	if err := precwatch.CheckBatch(p, obs); err != nil {
		return nil, fmt.Errorf("redis: record page: %w", err)
	}
	if p == nil && len(obs) == 0 {
		return nil, nil
	}
	keys := newBatchKeys(p, obs)
	// The alerts are watched when read whole (see recordPageTx); whether
	// one exists needs no watch: an alert is only ever created with its
	// listing's state, which is watched.
	watch := make([]string, 0, len(keys.listings)+1)
	for _, k := range keys.listings {
		watch = append(watch, s.listingKey(k))
	}
	if p != nil {
		// Watched so that of two processes saving it, the first one's is kept.
		watch = append(watch, s.pageKeys(p.SHA256)...)
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
	fetchIDs := fetchIDsOf(p, obs)
	// One round trip: WATCH, then every listing, how many of the named
	// alerts exist, and which pages and fetches do. Alerts are read whole
	// only for the listings that may rewrite them (below): an unchanged
	// listing only asks which exist, and most of a re-crawl is unchanged
	// listings. The count answers for every alert when none or all exist
	// (a page of new listings, a page re-crawled); else a second round
	// trip asks.
	var listCmd *redis.SliceCmd
	var countCmd *redis.IntCmd
	pageCmds := make([]*redis.IntCmd, len(keys.pages))
	fetchCmds := make([]*redis.IntCmd, len(fetchIDs))
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
			countCmd = pipe.Exists(ctx, akeys...)
		}
		for i, sha := range keys.pages {
			pageCmds[i] = pipe.Exists(ctx, s.pageKeys(sha)...)
		}
		for i, id := range fetchIDs {
			fetchCmds[i] = pipe.Exists(ctx, s.fetchRecordKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	alerts := newLazyAlerts()
	if countCmd != nil {
		// keys.alerts are distinct, so the count is of distinct keys.
		if n := countCmd.Val(); n == 0 || n == int64(len(keys.alerts)) {
			for _, k := range keys.alerts {
				alerts.known[k], alerts.exists[k] = true, n > 0
			}
		}
	}
	pageStored := make(map[string]bool, len(keys.pages))
	for i, sha := range keys.pages {
		pageStored[sha] = pageCmds[i].Val() > 0
	}
	fetchStored := make(map[string]bool, len(fetchIDs)) // issue 11
	for i, id := range fetchIDs {
		fetchStored[id] = fetchCmds[i].Val() == 1
	}
	// Which sightings may rewrite their alerts: all but those of a stored
	// listing seen once in obs, either unchanged or older than its last
	// sighting (Reconcile then only asks which alerts exist, or nothing).
	lkeys := keys.obsListing
	fps := make([]string, len(obs))
	sightings := make(map[string]int, len(obs))
	for i, o := range obs {
		fps[i] = precwatch.Fingerprint(o.Listing)
		sightings[lkeys[i]]++
	}
	states := make(map[string]*precwatch.ListingState, len(keys.listings))
	raws := make(map[string]string, len(keys.listings))
	var listed []any
	if listCmd != nil {
		listed = listCmd.Val()
	}
	for i, v := range listed {
		str, ok := v.(string)
		if !ok {
			continue
		}
		lkey := keys.listings[i]
		st, err := parseState(str)
		if err != nil {
			return nil, fmt.Errorf("decode listing %s: %w", lkey, err)
		}
		states[lkey], raws[lkey] = st, str
	}
	var req alertReads
	for i, o := range obs {
		prev := states[lkeys[i]]
		standIns := prev != nil && sightings[lkeys[i]] == 1 && (o.At.Before(prev.LastSeen) || (!prev.Gone && prev.Fingerprint == fps[i]))
		for _, k := range keys.obsAlerts[i] {
			req.add(alerts, k, standIns)
		}
		// Alerts of substances a listing no longer matches are written
		// too, unless the sighting is an unchanged or stale one.
		if prev != nil && !standIns {
			for _, k := range prev.AlertKeys {
				req.add(alerts, k, false)
			}
		}
	}
	if err := alerts.load(ctx, s, tx, req); err != nil {
		return nil, err
	}

	results := make([]precwatch.RecordResult, len(obs))
	writes := make([]batchWrite, 0, len(obs))
	w := getWrites()
	// Released once the transaction has run or failed: the commands hold
	// w's bytes until then.
	defer w.release()
	// An alert is written once per sighting of its listing.
	w.unique = len(sightings) == len(obs)
	w.buf.Grow(1536 * len(obs)) // a listing's state is about 1 KB of JSON
	standIns := map[string]precwatch.Alert{}
	var akeyBuf []string
	for i, o := range obs {
		lkey := lkeys[i]
		prev := states[lkey]
		// Reconcile rewrites no existing alert of a listing seen again
		// unchanged, only asks which of its matches' alerts exist (not
		// its other alerts'), and reads none for a sighting older than
		// the listing's last: stand-ins spare reading them, and one map
		// serves those sightings (a map of alerts allocates kilobytes),
		// kept only by the rare one that writes.
		stale := prev != nil && o.At.Before(prev.LastSeen)
		unchanged := prev != nil && !prev.Gone && !stale && prev.Fingerprint == fps[i]
		akeys := append(akeyBuf[:0], keys.obsAlerts[i]...)
		if prev != nil && !unchanged && !stale {
			for _, k := range prev.AlertKeys {
				akeys = append(akeys, k)
			}
		}
		akeyBuf = akeys
		var into map[string]precwatch.Alert
		if unchanged || stale {
			into = standIns
		}
		existing, err := alerts.existing(ctx, s, tx, akeys, unchanged || stale, into)
		if err != nil {
			return nil, err
		}
		next, write, res := precwatch.ReconcileFingerprinted(prev, existing, o, fps[i])
		if (unchanged || stale) && slices.ContainsFunc(write, func(a precwatch.Alert) bool { _, had := existing[a.Key]; return had }) {
			// Not expected; never write a stand-in.
			if existing, err = alerts.existing(ctx, s, tx, akeys, false, nil); err != nil {
				return nil, err
			}
			next, write, res = precwatch.ReconcileFingerprinted(prev, existing, o, fps[i])
			into = nil
		}
		if into != nil { // existing is the shared map
			if existing = nil; len(write) > 0 {
				existing = maps.Clone(into)
			}
		}
		if sha := precwatch.EvidenceNeeded(p, o, write); sha != "" && !pageStored[sha] {
			return nil, precwatch.ErrNoEvidence(o, sha)
		}
		if err := fetchesNeeded(p, o, write, fetchStored); err != nil {
			return nil, err
		}
		raw, err := w.marshalState(&next)
		if err != nil {
			return nil, fmt.Errorf("encode listing %s: %w", lkey, err)
		}
		results[i] = res
		// A plain retry changes nothing: no write, so that it does not
		// abort other writers' transactions watching this listing.
		if len(write) == 0 && string(raw) == raws[lkey] {
			continue
		}
		writes = append(writes, batchWrite{next: next, raw: raw, write: write, existing: existing, known: prev != nil})
		states[lkey] = &next
		if sightings[lkey] > 1 {
			raws[lkey] = string(raw) // for the listing's next sighting
		}
		for _, a := range write {
			alerts.decoded[a.Key] = a
		}
	}
	if p != nil && p.Stored && !pageStored[p.SHA256] {
		return nil, precwatch.ErrNoBody(*p)
	}
	savePage := p != nil && !p.Stored && !pageStored[p.SHA256]
	saveFetch := p != nil && p.Fetch != nil && !fetchStored[p.Fetch.ID]
	// Nothing to write, not even the page's use (prune.go): its fetch
	// record is stored already, so this is a retry whose first attempt
	// marked it. (A page without a fetch record, which the crawler never
	// writes, is marked when first stored.)
	if len(writes) == 0 && !savePage && !saveFetch {
		return results, nil
	}
	if s.beforeExec != nil {
		s.beforeExec()
	}
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
			pipe.HSet(ctx, s.pageZKey(p.SHA256), pageFields(*p)...)
		}
		if saveFetch {
			if err := s.writeFetch(ctx, pipe, *p.Fetch); err != nil {
				return err
			}
		}
		if p != nil {
			s.touchPage(ctx, pipe, *p) // retention: the body was fetched (again) now
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
		states, err := parseStates(vals)
		if err != nil {
			return nil, fmt.Errorf("redis: listing states: decode: %w", err)
		}
		for _, st := range states {
			out[st.Key] = st
		}
	}
	return out, nil
}

// lazyAlerts are the alerts a RecordPage knows of: which exist, and the
// JSON of those it read whole, decoded when first needed.
type lazyAlerts struct {
	known   map[string]bool            // alert key → whether it exists is known
	exists  map[string]bool            // alert key → it exists
	raw     map[string]string          // alert key → JSON as read
	decoded map[string]precwatch.Alert // alert key → alert, latest first
}

func newLazyAlerts() lazyAlerts {
	return lazyAlerts{known: map[string]bool{}, exists: map[string]bool{}, raw: map[string]string{}, decoded: map[string]precwatch.Alert{}}
}

// alertReads are the alerts a RecordPage still has to ask about: read
// whole (and watched: they may be rewritten), or only asked whether they
// exist.
type alertReads struct {
	whole, probe []string
}

// add asks for alert k: whole, unless standIns (which alerts exist is
// enough), and nothing when that much is known.
func (r *alertReads) add(la lazyAlerts, k string, standIns bool) {
	_, read := la.raw[k]
	switch {
	case read || (la.known[k] && !la.exists[k]) || slices.Contains(r.whole, k):
	case !standIns:
		r.whole = append(r.whole, k)
		if i := slices.Index(r.probe, k); i >= 0 {
			r.probe = slices.Delete(r.probe, i, i+1)
		}
	case !la.known[k] && !slices.Contains(r.probe, k):
		r.probe = append(r.probe, k)
	}
}

// existsScript answers whether each of its keys exists (1 or 0), in one
// command where EXISTS with several keys only counts them. It is sent
// with EVAL, not EVALSHA: a restarted Redis has forgotten loaded scripts,
// and the script is short.
const existsScript = `local r = {}
for i, k in ipairs(KEYS) do r[i] = redis.call('EXISTS', k) end
return r`

// load does r's reads in one round trip: WATCH and MGET of the alerts to
// read whole (an alert not stored is then known absent), and which of the
// probed alerts exist.
func (la lazyAlerts) load(ctx context.Context, s *Store, tx *redis.Tx, r alertReads) error {
	if len(r.whole) == 0 && len(r.probe) == 0 {
		return nil
	}
	var vals *redis.SliceCmd
	var probed *redis.Cmd
	_, err := tx.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		if len(r.whole) > 0 {
			rkeys := make([]string, len(r.whole))
			args := make([]any, 0, 1+len(r.whole))
			args = append(args, "watch")
			for i, k := range r.whole {
				rkeys[i] = s.alertKey(k)
				args = append(args, rkeys[i])
			}
			pipe.Do(ctx, args...)
			vals = pipe.MGet(ctx, rkeys...)
		}
		if len(r.probe) > 0 {
			rkeys := make([]string, len(r.probe))
			for i, k := range r.probe {
				rkeys[i] = s.alertKey(k)
			}
			probed = pipe.Eval(ctx, existsScript, rkeys)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load alerts: %w", err)
	}
	if vals != nil {
		for i, v := range vals.Val() {
			str, ok := v.(string)
			la.known[r.whole[i]], la.exists[r.whole[i]] = true, ok
			if ok {
				la.raw[r.whole[i]] = str
			}
		}
	}
	if probed != nil {
		ex, err := probed.Int64Slice()
		if err != nil || len(ex) != len(r.probe) {
			return fmt.Errorf("load alerts: exists: %d answers for %d keys: %w", len(ex), len(r.probe), err)
		}
		for i, k := range r.probe {
			la.known[k], la.exists[k] = true, ex[i] == 1
		}
	}
	return nil
}

// existing returns the stored alerts of keys, by key, in out (cleared) or
// a new map when out is nil; with standIns, an alert is only its key (for
// Reconcile of an unchanged listing). An alert
// needed and not read yet is read now (not expected: RecordPage reads
// what the sightings need before reconciling them).
func (la lazyAlerts) existing(ctx context.Context, s *Store, tx *redis.Tx, keys []string, standIns bool, out map[string]precwatch.Alert) (map[string]precwatch.Alert, error) {
	var r alertReads
	for _, k := range keys {
		if _, ok := la.decoded[k]; !ok {
			r.add(la, k, standIns)
		}
	}
	if err := la.load(ctx, s, tx, r); err != nil {
		return nil, err
	}
	if out == nil {
		out = make(map[string]precwatch.Alert, len(keys))
	}
	clear(out)
	for _, k := range keys {
		if a, ok := la.decoded[k]; ok {
			out[k] = a
			continue
		}
		if !la.exists[k] {
			continue
		}
		if standIns {
			out[k] = precwatch.Alert{Key: k}
			continue
		}
		var a precwatch.Alert
		if err := json.Unmarshal([]byte(la.raw[k]), &a); err != nil {
			return nil, fmt.Errorf("decode alert %s: %w", k, err)
		}
		la.decoded[k] = a
		out[k] = a
	}
	return out, nil
}
