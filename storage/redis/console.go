package redis

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/internal/words"
	"github.com/redis/go-redis/v9"
)

// tmpTTL bounds the life of a query's intersection if the query dies
// before deleting it.
const tmpTTL = 30 * time.Second

// UpdateAlert applies an investigator's action to an alert in an optimistic
// transaction (see precwatch.ApplyAction), updates its indexes and appends
// the action to the alert stream (event = the action).
func (s *Store) UpdateAlert(ctx context.Context, act precwatch.AlertAction) (precwatch.Alert, error) {
	a, err := s.modifyAlert(ctx, act.Key, func(a *precwatch.Alert) error { return precwatch.ApplyAction(a, act) },
		func(p redis.Pipeliner, a precwatch.Alert, raw []byte) {
			e := a.Timeline[len(a.Timeline)-1]
			args := &redis.XAddArgs{
				Stream: s.StreamKey(),
				Values: []any{
					"key", a.Key, "event", act.Action, "actor", e.Actor, "from", e.From, "to", e.To,
					"site", a.Site, "substance", a.Substance, "severity", a.Severity.String(), "json", raw,
				},
			}
			if s.streamMaxLen > 0 {
				args.MaxLen, args.Approx = s.streamMaxLen, true
			}
			p.XAdd(ctx, args)
		})
	if err != nil {
		return precwatch.Alert{}, fmt.Errorf("redis: update alert %s (%s): %w", act.Key, act.Action, err)
	}
	return a, nil
}

// modifyAlert reads an alert, changes it with change and writes it back
// with its indexes in one optimistic transaction, retried on conflict;
// also, when set, adds more commands to that transaction.
func (s *Store) modifyAlert(ctx context.Context, key string, change func(*precwatch.Alert) error, also func(p redis.Pipeliner, a precwatch.Alert, raw []byte)) (precwatch.Alert, error) {
	rkey := s.alertKey(key)
	var a precwatch.Alert
	err := s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			raw, err := tx.Get(ctx, rkey).Bytes()
			switch {
			case errors.Is(err, redis.Nil):
				return precwatch.ErrNotFound
			case err != nil:
				return err
			}
			var old precwatch.Alert
			if err := json.Unmarshal(raw, &old); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			a = old
			if err := change(&a); err != nil {
				return err
			}
			next, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, rkey, next, 0)
				w := newWrites()
				w.unique = true // one alert
				s.reindex(w, &old, a)
				w.flush(ctx, p)
				if also != nil {
					also(p, a, next)
				}
				return nil
			})
			return err
		}, rkey)
	})
	return a, err
}

// QueryAlerts returns a page of the alerts q selects, ordered as
// precwatch.SortAlertsBy does with q.Sort, and how many there are (see
// query.go and sort.go).
func (s *Store) QueryAlerts(ctx context.Context, q precwatch.AlertQuery) (precwatch.AlertPage, error) {
	page, err := s.queryAlerts(ctx, q, planAuto)
	if err != nil {
		return precwatch.AlertPage{}, fmt.Errorf("redis: query alerts: %w", err)
	}
	return page, nil
}

func (s *Store) queryAlerts(ctx context.Context, q precwatch.AlertQuery, plan queryPlan) (precwatch.AlertPage, error) {
	page := precwatch.AlertPage{Alerts: []precwatch.Alert{}}
	if err := q.Check(); err != nil {
		return page, err
	}
	limit, offset := q.Page()
	members, total, err := s.querySorted(ctx, queryArgs{
		filters: queryFilters(q), minSev: q.MinSeverity, since: q.Since, until: q.Until,
		offset: offset, limit: limit, plan: plan,
	}, q.Sort)
	if err != nil {
		return page, err
	}
	page.Total = total
	return s.loadPage(ctx, page, members)
}

// loadPage fills page with the alerts of members, in their order.
func (s *Store) loadPage(ctx context.Context, page precwatch.AlertPage, members []string) (precwatch.AlertPage, error) {
	as, err := s.alertsByMember(ctx, members)
	if err != nil {
		return page, err
	}
	if as != nil {
		page.Alerts = as
	}
	return page, nil
}

// tmpKey is a fresh key for a query's intermediate set.
func (s *Store) tmpKey() string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	return s.key("tmp", hex.EncodeToString(nonce[:]))
}

// dropTmp deletes a query's intermediate set, with its own context: the
// query's may be what ended it.
func (s *Store) dropTmp(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	s.rdb.Del(ctx, key)
}

// CreateUser adds a user; ErrConflict when the name is taken.
func (s *Store) CreateUser(ctx context.Context, u precwatch.User) error {
	if err := u.Validate(); err != nil {
		return fmt.Errorf("redis: create user %q: %w", u.Name, err)
	}
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("redis: create user %q: %w", u.Name, err)
	}
	ok, err := s.rdb.HSetNX(ctx, s.key("users"), u.Name, raw).Result()
	if err != nil {
		return fmt.Errorf("redis: create user %q: %w", u.Name, err)
	}
	if !ok {
		return fmt.Errorf("redis: create user %q: %w", u.Name, precwatch.ErrConflict)
	}
	return nil
}

// UpdateUser changes a user in an optimistic transaction on the users
// hash, retried when any account changed between reading and writing.
func (s *Store) UpdateUser(ctx context.Context, name string, change func(u *precwatch.User, all []precwatch.User) error) error {
	key := s.key("users")
	err := s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			vals, err := tx.HVals(ctx, key).Result()
			if err != nil {
				return err
			}
			all, err := decodeUsers(vals)
			if err != nil {
				return err
			}
			u, err := precwatch.ChangeUser(name, all, change)
			if err != nil {
				return err
			}
			raw, err := json.Marshal(u)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, key, name, raw)
				return nil
			})
			return err
		}, key)
	})
	if err != nil {
		return fmt.Errorf("redis: update user %q: %w", name, err)
	}
	return nil
}

// User returns a user by name, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (precwatch.User, error) {
	var u precwatch.User
	raw, err := s.rdb.HGet(ctx, s.key("users"), name).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return u, fmt.Errorf("redis: user %q: %w", name, precwatch.ErrNotFound)
	case err != nil:
		return u, fmt.Errorf("redis: user %q: %w", name, err)
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		return u, fmt.Errorf("redis: user %q: decode: %w", name, err)
	}
	return u, nil
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]precwatch.User, error) {
	vals, err := s.rdb.HVals(ctx, s.key("users")).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: users: %w", err)
	}
	us, err := decodeUsers(vals)
	if err != nil {
		return nil, fmt.Errorf("redis: users: %w", err)
	}
	return us, nil
}

// decodeUsers decodes the users hash's values, sorted by name.
func decodeUsers(vals []string) ([]precwatch.User, error) {
	var us []precwatch.User
	for _, v := range vals {
		var u precwatch.User
		if err := json.Unmarshal([]byte(v), &u); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		us = append(us, u)
	}
	slices.SortFunc(us, func(a, b precwatch.User) int { return cmp.Compare(a.Name, b.Name) })
	return us, nil
}

func (s *Store) sessionKey(id string) string { return s.key("session", id) }

// CreateSession stores a session, replacing one with the same ID. Redis
// expires it after its lifetime (ExpiresAt - CreatedAt, measured on the
// caller's clock, which may be a test's).
func (s *Store) CreateSession(ctx context.Context, se precwatch.Session) error {
	if se.ID == "" || se.User == "" {
		return fmt.Errorf("redis: create session: %w: empty id or user", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(se)
	if err != nil {
		return fmt.Errorf("redis: create session: %w", err)
	}
	var ttl time.Duration
	if se.CreatedAt.IsZero() {
		ttl = time.Until(se.ExpiresAt)
	} else {
		ttl = se.ExpiresAt.Sub(se.CreatedAt)
	}
	if ttl <= 0 {
		// Already expired: nothing to keep, and nothing stale left behind.
		if err := s.rdb.Del(ctx, s.sessionKey(se.ID)).Err(); err != nil {
			return fmt.Errorf("redis: create session for %q: %w", se.User, err)
		}
		return nil
	}
	if err := s.rdb.Set(ctx, s.sessionKey(se.ID), raw, ttl).Err(); err != nil {
		return fmt.Errorf("redis: create session for %q: %w", se.User, err)
	}
	return nil
}

// Session returns the session id if it has not expired at now, else
// ErrNotFound.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (precwatch.Session, error) {
	var se precwatch.Session
	if err := s.getJSON(ctx, s.sessionKey(id), &se); err != nil {
		return precwatch.Session{}, fmt.Errorf("redis: session: %w", err)
	}
	if !now.Before(se.ExpiresAt) {
		return precwatch.Session{}, fmt.Errorf("redis: session: %w", precwatch.ErrNotFound)
	}
	return se, nil
}

// DeleteSession removes a session; deleting a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.rdb.Del(ctx, s.sessionKey(id)).Err(); err != nil {
		return fmt.Errorf("redis: delete session: %w", err)
	}
	return nil
}

// saveWatchlistVersion numbers and stores a version in one step, so that
// concurrent saves get distinct numbers. KEYS: seq, versions set, version
// key prefix; ARGV: author, at, comment, data.
var saveWatchlistVersion = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[3] .. n, 'author', ARGV[1], 'at', ARGV[2], 'comment', ARGV[3], 'data', ARGV[4])
redis.call('ZADD', KEYS[2], n, tostring(n))
return n
`)

func (s *Store) watchlistKey(n int) string { return s.key("watchlist", "v", strconv.Itoa(n)) }

// SaveWatchlistVersion stores v as the version after the latest.
func (s *Store) SaveWatchlistVersion(ctx context.Context, v precwatch.WatchlistVersion) (int, error) {
	at := ""
	if !v.At.IsZero() {
		at = v.At.UTC().Format(time.RFC3339Nano)
	}
	data := v.Data
	if data == nil {
		data = []byte{}
	}
	n, err := saveWatchlistVersion.Run(ctx, s.rdb,
		[]string{s.key("watchlist", "seq"), s.key("watchlist", "versions"), s.key("watchlist", "v") + ":"},
		v.Author, at, v.Comment, data).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: save watchlist version: %w", err)
	}
	return n, nil
}

func parseVersion(n int, h map[string]string) (precwatch.WatchlistVersion, error) {
	v := precwatch.WatchlistVersion{Version: n, Author: h["author"], Comment: h["comment"]}
	if at := h["at"]; at != "" {
		var err error
		if v.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return v, fmt.Errorf("version %d: at: %w", n, err)
		}
	}
	return v, nil
}

// WatchlistVersions lists the saved versions newest first, without Data.
func (s *Store) WatchlistVersions(ctx context.Context) ([]precwatch.WatchlistVersion, error) {
	ns, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.key("watchlist", "versions"), Start: 0, Stop: -1, Rev: true}).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: watchlist versions: %w", err)
	}
	nums := make([]int, len(ns))
	cmds := make([]*redis.SliceCmd, len(ns))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, str := range ns {
			if nums[i], err = strconv.Atoi(str); err != nil {
				return fmt.Errorf("version %q: %w", str, err)
			}
			cmds[i] = p.HMGet(ctx, s.watchlistKey(nums[i]), "author", "at", "comment")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("redis: watchlist versions: %w", err)
	}
	out := make([]precwatch.WatchlistVersion, 0, len(ns))
	for i, c := range cmds {
		vals := c.Val()
		h := map[string]string{}
		for j, f := range []string{"author", "at", "comment"} {
			if str, ok := vals[j].(string); ok {
				h[f] = str
			}
		}
		v, err := parseVersion(nums[i], h)
		if err != nil {
			return nil, fmt.Errorf("redis: watchlist versions: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// WatchlistVersion returns one version with its Data, or ErrNotFound.
func (s *Store) WatchlistVersion(ctx context.Context, version int) (precwatch.WatchlistVersion, error) {
	h, err := s.rdb.HGetAll(ctx, s.watchlistKey(version)).Result()
	if err != nil {
		return precwatch.WatchlistVersion{}, fmt.Errorf("redis: watchlist version %d: %w", version, err)
	}
	if len(h) == 0 {
		return precwatch.WatchlistVersion{}, fmt.Errorf("redis: watchlist version %d: %w", version, precwatch.ErrNotFound)
	}
	v, err := parseVersion(version, h)
	if err != nil {
		return precwatch.WatchlistVersion{}, fmt.Errorf("redis: watchlist version %d: %w", version, err)
	}
	v.Data = []byte(h["data"])
	return v, nil
}

// SetSiteState creates or replaces the operator's state of a site.
func (s *Store) SetSiteState(ctx context.Context, st precwatch.SiteState) error {
	if st.Site == "" {
		return fmt.Errorf("redis: set site state: %w: empty site", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("redis: set site state %s: %w", st.Site, err)
	}
	if err := s.rdb.HSet(ctx, s.key("sitestates"), st.Site, raw).Err(); err != nil {
		return fmt.Errorf("redis: set site state %s: %w", st.Site, err)
	}
	return nil
}

// SiteStates returns every site's state by site.
func (s *Store) SiteStates(ctx context.Context) (map[string]precwatch.SiteState, error) {
	h, err := s.rdb.HGetAll(ctx, s.key("sitestates")).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: site states: %w", err)
	}
	out := make(map[string]precwatch.SiteState, len(h))
	for site, v := range h {
		var st precwatch.SiteState
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			return nil, fmt.Errorf("redis: site states: decode %s: %w", site, err)
		}
		out[site] = st
	}
	return out, nil
}

// schemaVersion is the key layout this package writes. Version 2 added
// the regime, vendor, assignee and word indexes; version 3 the score in
// the order index members and the creation-time index; version 4 the
// severity in the creation-time index's scores; version 5 the vendor
// indexes (vendor.go); version 6 compressed page bodies (encodeBody),
// which an older program would serve as they are stored, and so must not
// open; version 7 marks every page's use in P:pages:seen (prune.go): an
// older program fetching a body again would not, and a prune could then
// delete a body a fresh fetch names, so it must not open either; version
// 8 keeps the filter indexes as sets per severity (P:alerts:set, see
// query.go) and writes shorter members (alertMember), which an older
// program would neither read nor keep up to date; version 9 folds the
// case of the vendor filter sets and keeps the alerts' site names
// (P:alerts:sites), which an older program would not keep up to date.
const schemaVersion = 9

// migrate brings the indexes of data written by an older version up to
// date. Two processes may do it at once: reindexing is idempotent.
func (s *Store) migrate(ctx context.Context) error {
	v, err := s.rdb.Get(ctx, s.key("schema")).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this program's %d", v, schemaVersion)
	}
	if v == schemaVersion {
		return nil
	}
	n := 0
	if v < 4 {
		if n, err = s.Reindex(ctx); err != nil {
			return err
		}
	}
	if v < 5 { // vendor profiles (issue 11)
		if err := s.reindexVendors(ctx); err != nil {
			return err
		}
	}
	if v < 8 { // filter sets (issue 9)
		if err := s.migrateSets(ctx); err != nil {
			return err
		}
	}
	if v < 9 { // the queue's site order, a vendor filter ignoring case
		if err := s.migrateV9(ctx); err != nil {
			return err
		}
	}
	if err := s.rdb.Set(ctx, s.key("schema"), schemaVersion, 0).Err(); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	if n > 0 {
		s.logger.Info("alert indexes rebuilt", "alerts", n, "version", schemaVersion)
	}
	return nil
}

// Reindex puts every stored alert in every index it belongs to, under its
// current member, reaching the alerts through the listings, and returns
// how many it indexed. It removes the member schema 1 and 2 wrote (without
// the score) from the alert's indexes; other stale entries it leaves,
// writes keep those right. Each listing's alerts are reindexed in an
// optimistic transaction, so a concurrent write is never undone.
func (s *Store) Reindex(ctx context.Context) (int, error) {
	n := 0
	err := s.Listings(ctx, "", func(st precwatch.ListingState) error {
		if len(st.AlertKeys) == 0 {
			return nil
		}
		var rkeys []string
		for _, k := range st.AlertKeys {
			rkeys = append(rkeys, s.alertKey(k))
		}
		done, err := s.rewriteAlerts(ctx, rkeys, func(w *writes, a precwatch.Alert) {
			legacy := legacyMember(a)
			for _, idx := range s.alertIndexes(a) {
				w.zRem(idx, legacy)
			}
			s.reindex(w, nil, a)
		})
		n += done
		return err
	})
	if err != nil {
		return n, fmt.Errorf("redis: reindex: %w", err)
	}
	return n, nil
}

// rewriteAlerts reads the alerts stored at rkeys and writes what each asks
// of w in one optimistic transaction on those keys, retried, so that a
// concurrent write is never undone by a stale one; it returns how many
// alerts it rewrote. rkeys is sorted in place.
func (s *Store) rewriteAlerts(ctx context.Context, rkeys []string, each func(w *writes, a precwatch.Alert)) (int, error) {
	slices.Sort(rkeys)
	done := 0
	err := s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			vals, err := tx.MGet(ctx, rkeys...).Result()
			if err != nil {
				return err
			}
			as, err := decodeAll[precwatch.Alert](vals)
			if err != nil {
				return fmt.Errorf("decode alert: %w", err)
			}
			if len(as) == 0 {
				return nil
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				w := newWrites()
				for _, a := range as {
					each(w, a)
				}
				w.flush(ctx, p)
				return nil
			})
			if err == nil {
				done = len(as)
			}
			return err
		}, rkeys...)
	})
	return done, err
}

// migrateSets puts every stored alert in its filter sets (schema 8, see
// query.go), moves it to its new member (alertMember; hexMember before) in
// the all and time indexes, and deletes the sorted sets schema 7 and older
// kept per filter (idxKey). The alerts of up to setsBatch listings are read and indexed in
// one optimistic transaction, so that a concurrent write (which moves an
// alert's member) is never undone by a stale one. Running it twice, or
// from two processes, adds nothing twice.
func (s *Store) migrateSets(ctx context.Context) error {
	const setsBatch = 200
	oldKeys := map[string]bool{}
	var rkeys []string
	flush := func() error {
		if len(rkeys) == 0 {
			return nil
		}
		_, err := s.rewriteAlerts(ctx, rkeys, func(w *writes, a precwatch.Alert) {
			old := hexMember(a)
			w.zRem(s.cachedIdxKey(w, "", ""), old)
			w.zRem(s.cachedIdxKey(w, "time", ""), old)
			s.reindex(w, nil, a)
			for _, f := range alertFilters(&a) {
				oldKeys[s.idxKey(f.field, f.value)] = true
			}
			if a.Listing.Vendor != "" { // schema 7 kept it unfolded
				oldKeys[s.idxKey("vendor", a.Listing.Vendor)] = true
			}
			for _, wd := range words.Split(a.Listing.Title, a.Listing.Description) {
				oldKeys[s.idxKey("word", wd)] = true
			}
		})
		rkeys = rkeys[:0]
		return err
	}
	err := s.Listings(ctx, "", func(st precwatch.ListingState) error {
		for _, k := range st.AlertKeys {
			rkeys = append(rkeys, s.alertKey(k))
		}
		if len(rkeys) >= setsBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		// Last, once every alert is in its sets.
		for chunk := range slices.Chunk(slices.Sorted(maps.Keys(oldKeys)), 500) {
			if err = s.rdb.Unlink(ctx, chunk...).Err(); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("redis: migrate filter indexes: %w", err)
	}
	if len(oldKeys) > 0 {
		s.logger.Info("filter indexes moved to sets", "indexes", len(oldKeys), "version", schemaVersion)
	}
	return nil
}

// migrateV9 moves every stored alert from its vendor filter sets under
// the handle as written to those under the folded handle, and adds its
// site to P:alerts:sites (reindex does both for new writes). As
// migrateSets, it works in optimistic transactions of up to 200 listings'
// alerts and may run twice.
func (s *Store) migrateV9(ctx context.Context) error {
	const batch = 200
	var rkeys []string
	flush := func() error {
		if len(rkeys) == 0 {
			return nil
		}
		_, err := s.rewriteAlerts(ctx, rkeys, func(w *writes, a precwatch.Alert) {
			if v := a.Listing.Vendor; v != precwatch.FoldVendor(v) {
				w.setRem(s.filterKey(filter{"vendor", v}, clampSeverity(a.Severity)), alertMember(a))
			}
			s.reindex(w, nil, a)
		})
		rkeys = rkeys[:0]
		return err
	}
	err := s.Listings(ctx, "", func(st precwatch.ListingState) error {
		for _, k := range st.AlertKeys {
			rkeys = append(rkeys, s.alertKey(k))
		}
		if len(rkeys) >= batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("redis: migrate to schema 9: %w", err)
	}
	return nil
}
