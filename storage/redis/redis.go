// Package redis is the shared precwatch.Store for several crawler processes
// on several machines, on Redis through go-redis v9.
//
// Records are JSON strings under a key prefix. Queries never scan keys: they
// read explicit indexes kept in the same MULTI/EXEC as the records. Record is
// an optimistic transaction (WATCH, read, precwatch.Reconcile, MULTI/EXEC,
// retried on conflict), so concurrent crawlers converge on one alert per
// (site, listing, substance). Every raised alert and every event added to an
// alert's history is also appended, in the same transaction, to the Stream
// {prefix}:alerts:stream for consumers (consumer groups read it
// at-least-once).
//
// Key layout, under the prefix P (every key really starts "{P}:", the
// prefix as a Redis Cluster hash tag, so that one prefix is one slot; see
// universal.go):
//
//	P:listing:<key>               listing state JSON
//	P:listings:all                set of listing keys
//	P:listings:site:<site>        set of the site's listing keys
//	P:alert:<key>                 alert JSON
//	P:alerts:idx:all              alert order index (see below)
//	P:alerts:set:<field>:<sev>:<value>
//	                              filter set: the same members, of the
//	                              alerts of severity sev (0-9) whose field
//	                              (status, substance, regime, site, vendor,
//	                              assignee) is value, or with field "word"
//	                              whose listing's title or description
//	                              has the normalised word value (schema 8;
//	                              see query.go)
//	P:alerts:time                 the same members, scored by severity and
//	                              creation time (see timeScore), for Since
//	                              and Until
//	P:alerts:sites                the sites of alerts, all scored 0 (so
//	                              sorted by name), for the site order
//	                              (schema 9; a site whose alerts were all
//	                              pruned stays, matching nothing)
//	P:tmp:<random>                query intersections, expiring in seconds
//	P:users                       hash: user name → user JSON
//	P:session:<id>                session JSON, expiring with the session
//	P:audit                       list of audit entry JSON, newest first
//	P:watchlist:seq               last watchlist version number
//	P:watchlist:v:<n>             hash: author, at, comment, data
//	P:watchlist:versions          sorted set of version numbers
//	P:sitestates                  hash: site → site state JSON
//	P:sitesessions                hash: site → cookie jar JSON (values
//	                              included; see SiteSession.MarshalStore)
//	P:schema                      layout version (see migrate)
//	P:alerts:stream               alert events
//	P:run:<id>                    run JSON
//	P:runs:all, P:runs:site:<s>   run order indexes, newest first
//	P:pagez:<sha256>              hash: site, url, fetched_at, content_type, body,
//	                              encoding ("s2" when body is compressed); schema 6 on
//	P:page:<sha256>               the same, body as fetched, written before schema 6
//	P:fetch:<site>                hash: canonical URL → fetch state JSON
//	                              (validators, incremental re-crawls)
//	P:lease:<site>[:info]         the site's run lease (scale-out, lease.go)
//	P:frontier:<run>:*            a run's shared frontier (frontier.go)
//
// The all index is a sorted set whose members all score 0 and so sort
// by member: severity, alert score, created_at to the nanosecond and key,
// written so that their bytes sort as precwatch.SortAlerts does (see
// alertMember; every float score, and time to the nanosecond, which a
// sorted-set score cannot hold), and a minimum severity is a
// lexicographic range. A change of score or severity moves the member.
// Schema 7 and older kept a sorted set like it per filter
// (P:alerts:idx:<field>:<value>, word for the words); migrateSets moves
// them to the filter sets.
package redis

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

var (
	_ precwatch.Store        = (*Store)(nil)
	_ precwatch.ConsoleStore = (*Store)(nil)
)

// Defaults of the URL options.
const (
	DefaultPrefix       = "precwatch"
	DefaultStreamMaxLen = 100000
	DefaultMaxAttempts  = 64
)

// Store is a precwatch.Store on Redis. It is safe for concurrent use, and
// any number of processes may share one Redis.
type Store struct {
	rdb          redis.UniversalClient
	prefix       string
	streamMaxLen int64
	maxAttempts  int
	logger       *slog.Logger
	// beforeExec, in tests, runs between Record's reads and its EXEC.
	beforeExec func()
	// auditMax, in tests, caps the audit log below DefaultAuditMax.
	auditMax int64
	// pruneHook, in tests, runs at the named points of a Prune, so that a
	// test writes (or restarts Redis) exactly there (see prune.go).
	pruneHook func(stage string)

	// Redis Cluster and Sentinel (issue 9): tag is the hash-tagged prefix
	// every key starts with; retryFor bounds the retries of an operation
	// while Redis is unreachable.
	tag      string
	mode     string
	cluster  bool
	retryFor time.Duration
}

// Open connects to the Redis at rawURL, such as
// "redis://host:port/db?prefix=precwatch", a Redis Cluster
// ("redis+cluster://host:port,host:port/?prefix=precwatch") or a master
// behind Sentinel ("redis+sentinel://host:port,host:port/db?master=NAME";
// see parseClient), and checks it answers. Besides go-redis's own URL
// options it takes:
//
//	prefix         key prefix (default "precwatch"); keys are "{prefix}:..."
//	stream_maxlen  approximate cap of the alert stream (default 100000; 0 for none)
//	max_attempts   optimistic transaction attempts before giving up (default 64)
//	retry_for      how long an operation retries while Redis is unreachable (default 15s; 0 for none)
func Open(ctx context.Context, rawURL string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis: open: %w: %w", precwatch.ErrInvalid, err)
	}
	s := &Store{prefix: DefaultPrefix, streamMaxLen: DefaultStreamMaxLen, maxAttempts: DefaultMaxAttempts, retryFor: DefaultRetryFor}
	q := u.Query()
	if v := q.Get("prefix"); v != "" {
		s.prefix = v
	}
	if v := q.Get("stream_maxlen"); v != "" {
		if s.streamMaxLen, err = strconv.ParseInt(v, 10, 64); err != nil || s.streamMaxLen < 0 {
			return nil, fmt.Errorf("redis: open: %w: stream_maxlen %q", precwatch.ErrInvalid, v)
		}
	}
	if v := q.Get("max_attempts"); v != "" {
		if s.maxAttempts, err = strconv.Atoi(v); err != nil || s.maxAttempts < 1 {
			return nil, fmt.Errorf("redis: open: %w: max_attempts %q", precwatch.ErrInvalid, v)
		}
	}
	if v := q.Get("retry_for"); v != "" {
		if s.retryFor, err = time.ParseDuration(v); err != nil || s.retryFor < 0 {
			return nil, fmt.Errorf("redis: open: %w: retry_for %q", precwatch.ErrInvalid, v)
		}
	}
	// go-redis refuses options it does not know.
	for _, k := range []string{"prefix", "stream_maxlen", "max_attempts", "retry_for"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	cc, err := parseClient(u.String())
	if err != nil {
		return nil, fmt.Errorf("redis: open: %w: %w", precwatch.ErrInvalid, err)
	}
	s.tag, s.mode, s.cluster = hashTag(s.prefix), cc.mode, cc.mode == "cluster"
	s.rdb = cc.open()
	addr := strings.Join(cc.addrs, ",")
	s.logger = logger.With("store", "redis", "mode", cc.mode, "addr", addr, "prefix", s.prefix)
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("redis: open %s: %w", addr, err)
	}
	if err := s.migrateKeyNames(ctx); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("redis: open %s: %w", addr, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("redis: open %s: %w", addr, err)
	}
	// Login hardening: the audit log moves from a list to indexed entries.
	if err := s.migrateAudit(ctx); err != nil {
		s.rdb.Close()
		return nil, fmt.Errorf("redis: open %s: %w", addr, err)
	}
	return s, nil
}

// Client returns the underlying go-redis client, for tests and consumers of
// the alert stream.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// StreamKey is the key of the alert event stream.
func (s *Store) StreamKey() string { return s.key("alerts", "stream") }

// Close closes the connection pool.
func (s *Store) Close() error {
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

// key is the name of a key: the hash-tagged prefix, then parts, so that
// every key of one prefix is in one cluster slot (see hashTag).
func (s *Store) key(parts ...string) string {
	n := len(s.tag) + len(parts)
	for _, p := range parts {
		n += len(p)
	}
	// One allocation: RecordPage builds some 30 keys per new alert.
	var b strings.Builder
	b.Grow(n)
	b.WriteString(s.tag)
	for _, p := range parts {
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

func (s *Store) listingKey(k string) string         { return s.tag + ":listing:" + k }
func (s *Store) siteListingsKey(site string) string { return s.key("listings", "site", site) }
func (s *Store) alertKey(k string) string           { return s.tag + ":alert:" + k }
func (s *Store) runKey(id string) string            { return s.key("run", id) }
func (s *Store) pageKey(sha string) string          { return s.key("page", sha) }

// pageZKey is where pages are written from schema 6 on, their bodies
// S2-compressed when that pays (encodeBody). A new key, not a new field of
// the old one: a process of an older version still running while a newer
// one writes finds such a page missing (and fetches it whole, or refuses
// an alert without its evidence) rather than reading compressed bytes as
// the page, which would show it no listings and mark them gone.
func (s *Store) pageZKey(sha string) string { return s.key("pagez", sha) }

// pageKeys are the two keys a page may be stored under, the current first.
func (s *Store) pageKeys(sha string) []string { return []string{s.pageZKey(sha), s.pageKey(sha)} }

// alertIndexes are the sorted indexes an alert belongs to but the time
// index: the all index.
func (s *Store) alertIndexes(precwatch.Alert) []string {
	return []string{s.key("alerts", "idx", "all")}
}

// cachedIdxKey is the all index's key when field is empty, the time
// index's when it is "time", the site names' when "sites", cached in w
// when not nil.
func (s *Store) cachedIdxKey(w *writes, field, value string) string {
	if w != nil {
		if k, ok := w.keys[[2]string{field, value}]; ok {
			return k
		}
	}
	var k string
	switch field {
	case "":
		k = s.key("alerts", "idx", "all")
	case "time":
		k = s.timeKey()
	case "sites":
		k = s.sitesKey()
	default:
		k = s.idxKey(field, value)
	}
	if w != nil {
		w.keys[[2]string{field, value}] = k
	}
	return k
}

// idxKey is the sorted index schema 7 and older kept of the alerts whose
// field is value (migrateSets).
func (s *Store) idxKey(field, value string) string {
	return s.key("alerts", "idx", field, value)
}

// orderable maps a time to an unsigned integer in the same order: Unix
// nanoseconds (clamped to 1678-2262) with the sign bit flipped.
func orderable(t time.Time) uint64 {
	var n int64
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		n = math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	return uint64(n) ^ (1 << 63)
}

func clampSeverity(s precwatch.Severity) int {
	return min(max(int(s), 0), 9)
}

// orderableScore maps a float to an unsigned integer in cmp.Compare's
// order: IEEE-754 bits with the sign bit flipped for positives and every
// bit flipped for negatives; -0 is 0, and NaN sorts below everything.
func orderableScore(f float64) uint64 {
	if f != f {
		return 0
	}
	if f == 0 {
		f = 0 // -0 compares equal to 0
	}
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// alertMember is the alert's member in the indexes, 48 bytes:
// "<9-severity>:<inverted alert score>:<inverted created_at
// nanoseconds>:<key>", the two numbers as 64-bit unsigned integers and the
// key (16 bytes, written as 32 hex digits) in b64Digits, fixed width: its
// byte order is severity descending, then score descending, then created
// descending, then key ascending. Schema 3 to 7 wrote the same fields in
// hex (hexMember), 68 bytes: a shorter member is hashed, compared, copied
// and stored for less in each of an alert's twenty indexes.
func alertMember(a precwatch.Alert) string {
	var raw [16]byte
	if len(a.Key) != 32 || !isLowerHex(a.Key) {
		return hexMember(a) // not a key AlertKey makes: kept as it is
	}
	hex.Decode(raw[:], []byte(a.Key))
	var b [memberLen]byte
	b[0] = byte('9' - clampSeverity(a.Severity))
	b[1], b[13], b[25] = ':', ':', ':'
	putB64(b[2:13], ^orderableScore(a.Score))
	putB64(b[14:25], ^orderable(a.CreatedAt))
	putB64(b[26:37], binary.BigEndian.Uint64(raw[:8]))
	putB64(b[37:48], binary.BigEndian.Uint64(raw[8:]))
	return string(b[:])
}

// memberLen is the length of an alertMember.
const memberLen = 48

// b64Digits are 64 digits in byte order, so that numbers written with
// them at a fixed width sort as the numbers do.
const b64Digits = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

// b64Value maps a digit of b64Digits to its value, anything else to 0xff.
var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(b64Digits) {
		t[b64Digits[i]] = byte(i)
	}
	return t
}()

// putB64 writes v in the 11 digits of b (66 bits), most significant first.
func putB64(b []byte, v uint64) {
	for i := 10; i >= 0; i-- {
		b[i] = b64Digits[v&63]
		v >>= 6
	}
}

// parseB64 reads the 11 digits putB64 wrote.
func parseB64(s string) (uint64, bool) {
	if len(s) != 11 || b64Value[s[0]] > 15 {
		return 0, false
	}
	var v uint64
	for i := range 11 {
		d := b64Value[s[i]]
		if d == 0xff {
			return 0, false
		}
		v = v<<6 | uint64(d)
	}
	return v, true
}

func isLowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isMember reports whether m has alertMember's layout.
func isMember(m string) bool {
	return len(m) == memberLen && m[1] == ':' && m[13] == ':' && m[25] == ':'
}

// hexMember is the member schema 3 to 7 wrote: alertMember's fields in
// hex, "%c:%016x:%016x:%s".
func hexMember(a precwatch.Alert) string {
	var b strings.Builder
	b.Grow(36 + len(a.Key))
	b.WriteByte(byte('9' - clampSeverity(a.Severity)))
	b.WriteByte(':')
	writeHex16(&b, ^orderableScore(a.Score))
	b.WriteByte(':')
	writeHex16(&b, ^orderable(a.CreatedAt))
	b.WriteByte(':')
	b.WriteString(a.Key)
	return b.String()
}

// writeHex16 writes v as 16 lower-case hex digits, as "%016x" does.
func writeHex16(b *strings.Builder, v uint64) {
	var raw [8]byte
	var d [16]byte
	binary.BigEndian.PutUint64(raw[:], v)
	hex.Encode(d[:], raw[:])
	b.Write(d[:])
}

// memberCreated returns orderable(created) of an alertMember (or a
// hexMember).
func memberCreated(m string) (uint64, bool) {
	if isMember(m) {
		v, ok := parseB64(m[14:25])
		return ^v, ok
	}
	// "<c>:<16 hex>:<16 hex>:<key>"
	if len(m) < 36 || m[1] != ':' || m[18] != ':' || m[35] != ':' {
		return 0, false
	}
	v, err := strconv.ParseUint(m[19:35], 16, 64)
	return ^v, err == nil
}

// legacyMember is the member schema 1 and 2 wrote, without the score.
func legacyMember(a precwatch.Alert) string {
	return fmt.Sprintf("%c:%016x:%s", byte('9'-clampSeverity(a.Severity)), ^orderable(a.CreatedAt), a.Key)
}

// sitesKey is the set of the alerts' site names (see sort.go).
func (s *Store) sitesKey() string { return s.key("alerts", "sites") }

// timeKey is the creation-time index.
func (s *Store) timeKey() string { return s.key("alerts", "time") }

// timeScore is an alert's score in the creation-time index:
// severity·2^48 + orderable(created)/2^16 (rounded down), under 2^52 and
// so exact in a float64. The window of one severity is one score range,
// counted with ZCOUNT; the members of the 65,536 ns buckets a window's
// bounds fall in are checked to the nanosecond (see window).
func timeScore(sev precwatch.Severity, t time.Time) float64 {
	return float64(uint64(clampSeverity(sev))<<sevShift | orderable(t)>>bucketShift)
}

// The time index score's layout.
const (
	sevShift    = 48
	bucketShift = 16
)

// memberKey is the alert key of an alertMember (or of a member an older
// schema wrote).
func memberKey(m string) string {
	if isMember(m) {
		hi, ok1 := parseB64(m[26:37])
		lo, ok2 := parseB64(m[37:48])
		if ok1 && ok2 {
			var raw [16]byte
			binary.BigEndian.PutUint64(raw[:8], hi)
			binary.BigEndian.PutUint64(raw[8:], lo)
			return hex.EncodeToString(raw[:])
		}
	}
	return m[strings.LastIndexByte(m, ':')+1:]
}

// runMember orders runs newest start first, then by id.
func runMember(r precwatch.Run) string {
	return fmt.Sprintf("%016x:%s", ^orderable(r.Start), r.ID)
}

// retry runs an optimistic transaction until it commits, fails otherwise,
// or has been tried maxAttempts times, backing off with jitter between
// attempts so that contending writers spread out. While Redis is
// unreachable (see transient) it retries for retryFor with a longer
// backoff: every transaction re-reads what it writes, so running one again
// after an EXEC whose answer was lost changes nothing.
func (s *Store) retry(ctx context.Context, fn func() error) error {
	var outageStart time.Time
	outages := 0
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn()
		if transient(err) {
			if outageStart.IsZero() {
				outageStart = time.Now()
			}
			if time.Since(outageStart) >= s.retryFor {
				return fmt.Errorf("redis unreachable for %s: %w", time.Since(outageStart).Round(time.Millisecond), err)
			}
			outages++
			level := slog.LevelDebug // the first is a warning; the caller logs the outcome
			if outages == 1 {
				level = slog.LevelWarn
			}
			s.logger.Log(ctx, level, "redis unreachable, retrying", "attempt", outages, "retry_for", s.retryFor, "error", err)
			if err := sleepCtx(ctx, outageBackoff(outages)); err != nil {
				return err
			}
			attempt--
			continue
		}
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		if attempt >= s.maxAttempts {
			return fmt.Errorf("gave up after %d conflicting attempts: %w", attempt, err)
		}
		backoff := time.Duration(min(attempt, 20)) * 500 * time.Microsecond
		t := time.NewTimer(backoff/2 + rand.N(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Record applies one sighting of a listing; see precwatch.Store.
func (s *Store) Record(ctx context.Context, obs precwatch.Observation) (precwatch.RecordResult, error) {
	if err := obs.Validate(); err != nil {
		return precwatch.RecordResult{}, fmt.Errorf("redis: record: %w", err)
	}
	l := obs.Listing
	lkey := precwatch.ListingKey(l.Site, l.Identity())
	// Watch the listing and every alert this sighting may create or touch:
	// a concurrent Record or SetAlertStatus on any of them aborts the EXEC.
	watch := []string{s.listingKey(lkey)}
	var candidates []string
	for _, m := range obs.Matches {
		if !m.Alertable() {
			continue
		}
		if k := precwatch.AlertKey(l.Site, l.Identity(), m.Substance); !slices.Contains(candidates, k) {
			candidates = append(candidates, k)
			watch = append(watch, s.alertKey(k))
		}
	}
	var res precwatch.RecordResult
	err := s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var err error
			res, err = s.recordTx(ctx, tx, lkey, candidates, obs)
			return err
		}, watch...)
	})
	if err != nil {
		return precwatch.RecordResult{}, fmt.Errorf("redis: record %s %q: %w", l.Site, l.Identity(), err)
	}
	return res, nil
}

func (s *Store) recordTx(ctx context.Context, tx *redis.Tx, lkey string, candidates []string, obs precwatch.Observation) (precwatch.RecordResult, error) {
	var prev *precwatch.ListingState
	prevRaw, err := tx.Get(ctx, s.listingKey(lkey)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return precwatch.RecordResult{}, fmt.Errorf("load listing: %w", err)
	default:
		prev = new(precwatch.ListingState)
		if err := json.Unmarshal(prevRaw, prev); err != nil {
			return precwatch.RecordResult{}, fmt.Errorf("decode listing %s: %w", lkey, err)
		}
	}
	keys := slices.Clone(candidates)
	if prev != nil {
		var extra []string
		for _, k := range prev.AlertKeys {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
				extra = append(extra, s.alertKey(k))
			}
		}
		// Alerts of substances the listing no longer matches are written
		// too; watch them before reading them.
		if len(extra) > 0 {
			if err := tx.Watch(ctx, extra...).Err(); err != nil {
				return precwatch.RecordResult{}, fmt.Errorf("watch alerts: %w", err)
			}
		}
	}
	existing := map[string]precwatch.Alert{}
	if len(keys) > 0 {
		rkeys := make([]string, len(keys))
		for i, k := range keys {
			rkeys[i] = s.alertKey(k)
		}
		vals, err := tx.MGet(ctx, rkeys...).Result()
		if err != nil {
			return precwatch.RecordResult{}, fmt.Errorf("load alerts: %w", err)
		}
		as, err := decodeAll[precwatch.Alert](vals)
		if err != nil {
			return precwatch.RecordResult{}, fmt.Errorf("load alerts: %w", err)
		}
		for _, a := range as {
			existing[a.Key] = a
		}
	}
	next, write, res := precwatch.Reconcile(prev, existing, obs)
	nextRaw, err := json.Marshal(next)
	if err != nil {
		return precwatch.RecordResult{}, fmt.Errorf("encode listing %s: %w", lkey, err)
	}
	// A plain retry changes nothing: skip the write so that it does not
	// abort other writers' transactions watching this listing.
	if len(write) == 0 && string(nextRaw) == string(prevRaw) {
		return res, nil
	}
	if s.beforeExec != nil {
		s.beforeExec()
	}
	w := newWrites()
	w.unique = true // one sighting
	if err := s.writeRecord(w, next, nextRaw, write, existing); err != nil {
		return precwatch.RecordResult{}, err
	}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		w.flush(ctx, p)
		return nil
	})
	if err != nil {
		return precwatch.RecordResult{}, err
	}
	return res, nil
}

// writeRecord adds to w the writes of one reconciled sighting: the
// listing, its alerts, their index entries and their stream events.
func (s *Store) writeRecord(w *writes, next precwatch.ListingState, nextRaw []byte, write []precwatch.Alert, existing map[string]precwatch.Alert) error {
	w.set(s.listingKey(next.Key), nextRaw)
	w.sAdd(s.key("listings", "all"), next.Key)
	w.sAdd(s.siteListingsKey(next.Listing.Site), next.Key)
	s.indexVendor(w, next) // vendor profiles (issue 11, vendor.go)
	for _, a := range write {
		raw, err := w.marshalAlert(&a)
		if err != nil {
			return fmt.Errorf("encode alert %s: %w", a.Key, err)
		}
		w.set(s.alertKey(a.Key), raw)
		old, had := existing[a.Key]
		if had {
			s.reindex(w, &old, a)
		} else {
			s.reindex(w, nil, a)
		}
		event := ""
		switch {
		case !had:
			event = precwatch.EventRaised
		case len(a.History) > len(old.History):
			event = a.History[len(a.History)-1].Kind
		}
		if event != "" {
			args := &redis.XAddArgs{
				Stream: s.StreamKey(),
				Values: []any{
					"key", a.Key, "event", event, "site", a.Site, "substance", a.Substance,
					"severity", a.Severity.String(), "json", raw,
				},
			}
			if s.streamMaxLen > 0 {
				args.MaxLen, args.Approx = s.streamMaxLen, true
			}
			w.xAdd(args)
		}
	}
	return nil
}

// reindex adds to w the index updates of an alert going from old (nil for
// a new alert) to a. A new score or severity (a material change re-scores
// the alert) is a new member, so the old one leaves every index.
func (s *Store) reindex(w *writes, old *precwatch.Alert, a precwatch.Alert) {
	member := alertMember(a)
	var boxed any = member // one allocation for every index (see zsetOps)
	allKey, timeKey := s.cachedIdxKey(w, "", ""), s.cachedIdxKey(w, "time", "")
	sets := s.filterSets(w, &a)
	if old != nil {
		oldMember := alertMember(*old)
		var oldBoxed any = oldMember
		if oldMember != member {
			w.zRem(allKey, oldBoxed)
			w.zRem(timeKey, oldBoxed)
		}
		for _, k := range s.filterSets(w, old) {
			if oldMember != member || !slices.Contains(sets, k) {
				w.setRem(k, oldBoxed)
			}
		}
	}
	// Every index is written again, not only the new ones, so that an
	// index missing an entry (written by an older version) heals itself.
	w.zAdd(allKey, boxed, 0)
	for _, k := range sets {
		w.setAdd(k, boxed)
	}
	w.zAdd(timeKey, boxed, timeScore(a.Severity, a.CreatedAt))
	if a.Site != "" {
		w.zAdd(s.cachedIdxKey(w, "sites", ""), a.Site, 0)
	}
}

// MarkGone marks gone the listings of run.Site that complete run run did
// not see and no run saw at or after its start (see precwatch.GoneAfter).
// Listings are decided in chunks, each an optimistic transaction watching
// its listings, so a Record landing meanwhile aborts and retries the chunk
// and the decision is always made on the listing's latest state.
func (s *Store) MarkGone(ctx context.Context, run precwatch.Run) (int, error) {
	if err := run.DecidesGone(); err != nil {
		return 0, fmt.Errorf("redis: mark gone: %w", err)
	}
	site, runID := run.Site, run.ID
	var keys []string
	err := s.retry(ctx, func() error { // retried while Redis is unreachable (issue 9)
		var err error
		keys, err = s.rdb.SMembers(ctx, s.siteListingsKey(site)).Result()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("redis: mark gone %s: %w", site, err)
	}
	slices.Sort(keys)
	total := 0
	const batch = 200
	for chunk := range slices.Chunk(keys, batch) {
		rkeys := make([]string, len(chunk))
		for i, k := range chunk {
			rkeys[i] = s.listingKey(k)
		}
		n := 0
		err := s.retry(ctx, func() error {
			return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
				n = 0
				vals, err := tx.MGet(ctx, rkeys...).Result()
				if err != nil {
					return err
				}
				gone, err := goneAfter(vals, run)
				if err != nil {
					return fmt.Errorf("decode listing: %w", err)
				}
				if len(gone) == 0 {
					return nil
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					for _, st := range gone {
						raw, err := appendState(nil, &st)
						if err != nil {
							return fmt.Errorf("encode listing %s: %w", st.Key, err)
						}
						p.Set(ctx, s.listingKey(st.Key), raw, 0)
					}
					return nil
				})
				if err == nil {
					n = len(gone)
				}
				return err
			}, rkeys...)
		})
		if err != nil {
			return total, fmt.Errorf("redis: mark gone %s (run %s): %w", site, runID, err)
		}
		total += n
	}
	return total, nil
}

// goneAfter decodes the listing states an MGET returned that run leaves
// gone (see precwatch.GoneAfter), marked gone. A run's end decides
// thousands of listings, most of them seen: goneFields reads only what
// GoneAfter needs, and a listing it leaves is not decoded.
func goneAfter(vals []any, run precwatch.Run) ([]precwatch.ListingState, error) {
	var gone []precwatch.ListingState
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		if probe, ok := goneFields(str); ok && !precwatch.GoneAfter(probe, run) {
			continue
		}
		st, err := parseState(str)
		if err != nil {
			return nil, err
		}
		if !precwatch.GoneAfter(*st, run) {
			continue // decided on the whole state, should GoneAfter read more
		}
		st.Gone = true
		gone = append(gone, *st)
	}
	return gone, nil
}

// getJSON decodes the string at key into v, or returns ErrNotFound.
func (s *Store) getJSON(ctx context.Context, key string, v any) error {
	raw, err := s.rdb.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return precwatch.ErrNotFound
	case err != nil:
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// Listing returns the state of a listing by its ListingKey, or ErrNotFound.
func (s *Store) Listing(ctx context.Context, key string) (precwatch.ListingState, error) {
	var st precwatch.ListingState
	if err := s.getJSON(ctx, s.listingKey(key), &st); err != nil {
		return st, fmt.Errorf("redis: listing %s: %w", key, err)
	}
	return st, nil
}

// Listings calls fn for every listing of site (every site when empty), in
// key order, stopping at the first error fn returns.
func (s *Store) Listings(ctx context.Context, site string, fn func(precwatch.ListingState) error) error {
	set := s.key("listings", "all")
	if site != "" {
		set = s.siteListingsKey(site)
	}
	keys, err := s.rdb.SMembers(ctx, set).Result()
	if err != nil {
		return fmt.Errorf("redis: listings %q: %w", site, err)
	}
	slices.Sort(keys)
	for chunk := range slices.Chunk(keys, 500) {
		rkeys := make([]string, len(chunk))
		for i, k := range chunk {
			rkeys[i] = s.listingKey(k)
		}
		vals, err := s.rdb.MGet(ctx, rkeys...).Result()
		if err != nil {
			return fmt.Errorf("redis: listings %q: %w", site, err)
		}
		states, err := parseStates(vals)
		if err != nil {
			return fmt.Errorf("redis: listings %q: decode: %w", site, err)
		}
		for _, st := range states {
			if err := fn(st); err != nil {
				return err
			}
		}
	}
	return nil
}

// Alert returns one alert by key, or ErrNotFound.
func (s *Store) Alert(ctx context.Context, key string) (precwatch.Alert, error) {
	var a precwatch.Alert
	if err := s.getJSON(ctx, s.alertKey(key), &a); err != nil {
		return a, fmt.Errorf("redis: alert %s: %w", key, err)
	}
	return a, nil
}

// alertsByMember loads the alerts of order index members, in their order.
func (s *Store) alertsByMember(ctx context.Context, members []string) ([]precwatch.Alert, error) {
	if len(members) == 0 {
		return nil, nil
	}
	rkeys := make([]string, len(members))
	for i, m := range members {
		rkeys[i] = s.alertKey(memberKey(m))
	}
	vals, err := s.rdb.MGet(ctx, rkeys...).Result()
	if err != nil {
		return nil, err
	}
	out, err := decodeAll[precwatch.Alert](vals)
	if err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	return out, nil
}

// Alerts lists the alerts passing f, ordered as precwatch.SortAlerts does
// (see query.go).
func (s *Store) Alerts(ctx context.Context, f precwatch.AlertFilter) ([]precwatch.Alert, error) {
	out, err := s.alerts(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("redis: alerts: %w", err)
	}
	return out, nil
}

func (s *Store) alerts(ctx context.Context, f precwatch.AlertFilter) ([]precwatch.Alert, error) {
	qa := queryArgs{minSev: f.MinSeverity, offset: f.Offset, limit: f.Limit}
	if f.Limit <= 0 {
		qa.limit = -1
	}
	for _, fl := range []filter{{"status", string(f.Status)}, {"site", f.Site}, {"substance", f.Substance}} {
		if fl.value != "" {
			qa.filters = append(qa.filters, fl)
		}
	}
	members, _, err := s.queryMembers(ctx, qa)
	if err != nil {
		return nil, err
	}
	as, err := s.alertsByMember(ctx, members)
	if err != nil {
		return nil, err
	}
	// An alert may have changed since the index was read.
	return slices.DeleteFunc(as, func(a precwatch.Alert) bool { return !f.Matches(a) }), nil
}

// SetAlertStatus moves an alert to status, stamping its UpdatedAt with at.
func (s *Store) SetAlertStatus(ctx context.Context, key string, status precwatch.AlertStatus, at time.Time) error {
	if !status.Valid() {
		return fmt.Errorf("redis: set alert %s status: %w: status %q", key, precwatch.ErrInvalid, status)
	}
	_, err := s.modifyAlert(ctx, key, func(a *precwatch.Alert) error {
		a.Status, a.UpdatedAt = status, at
		return nil
	}, nil)
	if err != nil {
		return fmt.Errorf("redis: set alert %s status %s: %w", key, status, err)
	}
	return nil
}

// SaveRun creates or replaces a run record.
func (s *Store) SaveRun(ctx context.Context, r precwatch.Run) error {
	if r.ID == "" {
		return fmt.Errorf("redis: save run: %w: empty id", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redis: save run %s: %w", r.ID, err)
	}
	rkey := s.runKey(r.ID)
	member := runMember(r)
	err = s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var old *precwatch.Run
			prev, err := tx.Get(ctx, rkey).Bytes()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return err
			default:
				old = new(precwatch.Run)
				if err := json.Unmarshal(prev, old); err != nil {
					return fmt.Errorf("decode: %w", err)
				}
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, rkey, raw, 0)
				if old != nil {
					if m := runMember(*old); m != member || old.Site != r.Site {
						p.ZRem(ctx, s.key("runs", "all"), m)
						p.ZRem(ctx, s.key("runs", "site", old.Site), m)
					}
				}
				p.ZAdd(ctx, s.key("runs", "all"), redis.Z{Member: member})
				p.ZAdd(ctx, s.key("runs", "site", r.Site), redis.Z{Member: member})
				return nil
			})
			return err
		}, rkey)
	})
	if err != nil {
		return fmt.Errorf("redis: save run %s: %w", r.ID, err)
	}
	return nil
}

// Runs lists the runs of site (all sites when empty), newest start first
// (ties by id), at most limit of them (all when limit <= 0).
func (s *Store) Runs(ctx context.Context, site string, limit int) ([]precwatch.Run, error) {
	idx := s.key("runs", "all")
	if site != "" {
		idx = s.key("runs", "site", site)
	}
	stop := int64(-1)
	if limit > 0 {
		stop = int64(limit) - 1
	}
	members, err := s.rdb.ZRange(ctx, idx, 0, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: runs %q: %w", site, err)
	}
	if len(members) == 0 {
		return nil, nil
	}
	rkeys := make([]string, len(members))
	for i, m := range members {
		rkeys[i] = s.runKey(m[17:]) // after "<16 hex digits>:"
	}
	vals, err := s.rdb.MGet(ctx, rkeys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: runs %q: %w", site, err)
	}
	out, err := decodeAll[precwatch.Run](vals)
	if err != nil {
		return nil, fmt.Errorf("redis: runs %q: decode: %w", site, err)
	}
	return out, nil
}

// savePage writes a page hash (KEYS[1], or KEYS[2] written before schema
// 6; ARGV[3...]: pageFields' pairs) unless one exists: the first fetch is
// kept. Either way the page is marked used at ARGV[2] (its SHA-256 is
// ARGV[1]) in P:pages:seen, KEYS[3] (retention, prune.go).
var savePage = redis.NewScript(`
redis.call('ZADD', KEYS[3], 'GT', ARGV[2], ARGV[1])
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return 1
`)

// SavePage keeps a page as evidence; saving the same SHA-256 again is a
// no-op, so the first fetch of a page is the one kept.
func (s *Store) SavePage(ctx context.Context, p precwatch.Page) error {
	if p.SHA256 == "" {
		return fmt.Errorf("redis: save page: %w: empty sha256", precwatch.ErrInvalid)
	}
	err := s.retry(ctx, func() error { // retried while Redis is unreachable (issue 9)
		keys := append(s.pageKeys(p.SHA256), s.pagesSeenKey())
		args := append([]any{p.SHA256, pageUse(p)}, pageFields(p)...)
		return savePage.Run(ctx, s.rdb, keys, args...).Err()
	})
	if err != nil {
		return fmt.Errorf("redis: save page %s: %w", p.SHA256, err)
	}
	return nil
}

// pageFields are a page's hash fields, as name, value pairs: site, url,
// fetched_at, content_type, body (never nil: HSET needs a value), and
// encoding "s2" when body is s2-compressed (see encodeBody).
func pageFields(p precwatch.Page) []any {
	fetched := ""
	if !p.FetchedAt.IsZero() {
		fetched = p.FetchedAt.UTC().Format(time.RFC3339Nano)
	}
	body, encoding := encodeBody(p.Body)
	fields := []any{"site", p.Site, "url", p.URL, "fetched_at", fetched, "content_type", p.ContentType, "body", body}
	if encoding != "" {
		fields = append(fields, "encoding", encoding)
	}
	return fields
}

// bodyS2 is the encoding field of a page whose body is compressed with
// S2 (github.com/klauspost/compress/s2, block format). A page without the
// field (every page schema 5 and older wrote) has its body as fetched.
const bodyS2 = "s2"

// encodeBody returns the body to store and its encoding. Evidence pages
// are most of what a crawl stores (a 42 KB page for 50 listings of some
// 600 bytes each), and Redis copies every byte into fresh memory: S2
// shrinks HTML 2-3.5x at over 1 GB/s of client CPU. A body that would not
// shrink by an eighth is stored as it is.
func encodeBody(body []byte) ([]byte, string) {
	if body == nil {
		return []byte{}, ""
	}
	if len(body) < 256 {
		return body, ""
	}
	enc := s2.Encode(nil, body)
	if len(enc) > len(body)-len(body)/8 {
		return body, ""
	}
	return enc, bodyS2
}

// decodeBody returns the body a page hash stores under encoding.
func decodeBody(body, encoding string) ([]byte, error) {
	switch encoding {
	case "":
		return []byte(body), nil
	case bodyS2:
		out, err := s2.Decode(nil, []byte(body))
		if err != nil {
			return nil, fmt.Errorf("decode s2 body: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown body encoding %q", encoding)
	}
}

// Page returns a stored page by its SHA-256, or ErrNotFound.
func (s *Store) Page(ctx context.Context, sha256 string) (precwatch.Page, error) {
	h, err := s.rdb.HGetAll(ctx, s.pageZKey(sha256)).Result()
	if err == nil && len(h) == 0 {
		h, err = s.rdb.HGetAll(ctx, s.pageKey(sha256)).Result() // written before schema 6
	}
	if err != nil {
		return precwatch.Page{}, fmt.Errorf("redis: page %s: %w", sha256, err)
	}
	if len(h) == 0 {
		return precwatch.Page{}, fmt.Errorf("redis: page %s: %w", sha256, precwatch.ErrNotFound)
	}
	body, err := decodeBody(h["body"], h["encoding"])
	if err != nil {
		return precwatch.Page{}, fmt.Errorf("redis: page %s: %w", sha256, err)
	}
	p := precwatch.Page{SHA256: sha256, Site: h["site"], URL: h["url"], ContentType: h["content_type"], Body: body}
	if v := h["fetched_at"]; v != "" {
		if p.FetchedAt, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return precwatch.Page{}, fmt.Errorf("redis: page %s: fetched_at: %w", sha256, err)
		}
	}
	return p, nil
}

// decodeAll decodes the JSON values an MGET returned, skipping the keys
// that did not exist.
func decodeAll[T any](vals []any) ([]T, error) {
	out := make([]T, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var x T
		if err := json.Unmarshal([]byte(str), &x); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}
