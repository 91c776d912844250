package redis

// Merged writes (issue 9, throughput): a transaction's writes are gathered
// per key and sent as few commands as possible, one MSET for every string,
// one SADD per set and one ZREM and one ZADD (or SREM and SADD) per index,
// instead of a command per listing, alert and index entry: a page of 50
// new listings was some 1,100 queued commands, each costing the client an
// allocation round and the server a dispatch.

import (
	"bytes"
	"context"
	"sync"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

// writes are the writes of one transaction, merged per key. The merged
// commands have the effect of the separate ones in order: strings and set
// members are last-wins or idempotent, and an index member's last
// operation (add or remove) is the one kept.
type writes struct {
	mset     []any // key, value pairs
	sadd     map[string][]any
	saddKeys []string // in first-write order, so that commands are deterministic
	zsets    map[string]*zsetOps
	zKeys    []string
	xadds    []*redis.XAddArgs

	// buf holds the JSON of the records written (marshalState,
	// marshalAlert): one growing buffer rather than an allocation per
	// record.
	buf bytes.Buffer

	// keys, fkeys and words cache, for one transaction, the keys of the
	// sorted indexes, of the filter sets and the words of a listing's
	// title and description: a page's alerts share their site, status,
	// substance and most words, and an alert rewritten is indexed under
	// its old and new text, most often the same.
	keys  map[[2]string]string
	fkeys map[filterCacheKey]string
	words map[[2]string][]string
	// zfree are emptied zsetOps kept for reuse.
	zfree []*zsetOps

	// unique, set by a caller that writes no index member twice (no alert
	// twice in the transaction: reindex itself never does), spares
	// looking for a member's earlier operation.
	unique bool
	// args backs the arguments of the index commands flush queues: one
	// array for the transaction rather than one per command.
	args []any
}

// zsetOps are the member operations on one index, a sorted set or (set)
// a plain set: the last per member, in first-operation order. Most sets of a page get a few members
// (a word's index, one alert's), so members are found by a scan until
// there are many of them, and only then through a map.
type zsetOps struct {
	// members are strings, boxed once by the caller: an alert's member
	// goes into some 20 indexes, and boxing it for each command's
	// arguments was an allocation each.
	members []any
	ops     []zsetOp
	index   map[any]int // member → position, once there are many
	plain   bool        // a plain set: SADD and SREM, no scores
}

// zsetScan is how many members a zsetOps scans before keeping an index.
const zsetScan = 16

func (z *zsetOps) set(member any, op zsetOp) {
	if z.index != nil {
		if i, ok := z.index[member]; ok {
			z.ops[i] = op
			return
		}
	} else {
		for i, m := range z.members {
			if m == member {
				z.ops[i] = op
				return
			}
		}
	}
	z.members = append(z.members, member)
	z.ops = append(z.ops, op)
	switch {
	case z.index != nil:
		z.index[member] = len(z.members) - 1
	case len(z.members) > zsetScan:
		z.index = make(map[any]int, 2*len(z.members))
		for i, m := range z.members {
			z.index[m] = i
		}
	}
}

func (z *zsetOps) reset() {
	clear(z.members)
	z.members, z.ops, z.index, z.plain = z.members[:0], z.ops[:0], nil, false
}

// filterCacheKey is a filter at a severity.
type filterCacheKey struct {
	f   filter
	sev int
}

// zeroScore is a score of 0 as a command argument.
var zeroScore any = "0"

type zsetOp struct {
	add   bool
	score float64
}

func newWrites() *writes {
	w := &writes{sadd: map[string][]any{}, zsets: map[string]*zsetOps{},
		keys: map[[2]string]string{}, fkeys: map[filterCacheKey]string{}, words: map[[2]string][]string{}}
	return w
}

// writesPool keeps the writes of finished RecordPage transactions: a
// page's JSON buffer is some 100 KB, and allocating it (zeroed) and
// growing it was about a tenth of the client's CPU per page.
var writesPool = sync.Pool{New: func() any { return newWrites() }}

// maxPooledBuf bounds the buffer a pooled writes keeps.
const maxPooledBuf = 4 << 20

func getWrites() *writes { return writesPool.Get().(*writes) }

// release empties w and returns it to the pool. Neither w nor the bytes
// its marshal returned may be used afterwards: call it once the
// transaction's commands have been sent and answered.
func (w *writes) release() {
	if w.buf.Cap() > maxPooledBuf {
		return
	}
	clear(w.mset)
	w.mset = w.mset[:0]
	clear(w.sadd)
	clear(w.saddKeys)
	w.saddKeys = w.saddKeys[:0]
	for _, z := range w.zsets {
		z.reset()
		w.zfree = append(w.zfree, z)
	}
	clear(w.zsets)
	clear(w.zKeys)
	w.zKeys = w.zKeys[:0]
	clear(w.xadds)
	w.xadds = w.xadds[:0]
	w.buf.Reset()
	w.unique = false
	clear(w.args)
	w.args = w.args[:0]
	clear(w.keys)
	clear(w.fkeys)
	clear(w.words)
	writesPool.Put(w)
}

// marshalState and marshalAlert return st or a as json.Marshal does,
// without reflection (see appendState), appended to the buffer. The bytes
// stay valid and unchanged: the buffer only appends, and when it grows
// the old array is left as it was.
func (w *writes) marshalState(st *precwatch.ListingState) ([]byte, error) {
	return w.append(func(b []byte) ([]byte, error) { return appendState(b, st) })
}

func (w *writes) marshalAlert(a *precwatch.Alert) ([]byte, error) {
	return w.append(func(b []byte) ([]byte, error) { return appendAlert(b, a) })
}

func (w *writes) append(enc func([]byte) ([]byte, error)) ([]byte, error) {
	start := w.buf.Len()
	b, err := enc(w.buf.AvailableBuffer())
	if err != nil {
		return nil, err
	}
	w.buf.Write(b)
	b = w.buf.Bytes()
	return b[start:len(b):len(b)], nil
}

func (w *writes) set(key string, value any) { w.mset = append(w.mset, key, value) }

func (w *writes) sAdd(key string, member string) {
	ms, ok := w.sadd[key]
	if !ok {
		w.saddKeys = append(w.saddKeys, key)
	}
	w.sadd[key] = append(ms, member)
}

func (w *writes) zset(key string, member any, op zsetOp, plain bool) {
	z, ok := w.zsets[key]
	if !ok {
		if n := len(w.zfree); n > 0 {
			z, w.zfree = w.zfree[n-1], w.zfree[:n-1]
		} else {
			z = &zsetOps{}
		}
		z.plain = plain
		w.zsets[key] = z
		w.zKeys = append(w.zKeys, key)
	}
	if w.unique {
		z.members = append(z.members, member)
		z.ops = append(z.ops, op)
		return
	}
	z.set(member, op)
}

// zAdd and zRem take a string member; boxed once, it is shared by every
// command it goes into.
func (w *writes) zAdd(key string, member any, score float64) {
	w.zset(key, member, zsetOp{add: true, score: score}, false)
}

func (w *writes) zRem(key string, member any) { w.zset(key, member, zsetOp{}, false) }

// setAdd and setRem are zAdd and zRem on an index that is a plain set
// (the filter sets): the merged operations go out as SADD and SREM.
func (w *writes) setAdd(key string, member any) { w.zset(key, member, zsetOp{add: true}, true) }

func (w *writes) setRem(key string, member any) { w.zset(key, member, zsetOp{}, true) }

func (w *writes) xAdd(a *redis.XAddArgs) { w.xadds = append(w.xadds, a) }

// empty reports whether there is nothing to write.
func (w *writes) empty() bool {
	return len(w.mset) == 0 && len(w.saddKeys) == 0 && len(w.zKeys) == 0 && len(w.xadds) == 0
}

// flush queues the merged commands on p: strings, sets, indexes (an
// index's removals and additions name different members, so their order
// does not matter), then stream entries in the order they were added.
func (w *writes) flush(ctx context.Context, p redis.Pipeliner) {
	if len(w.mset) == 2 {
		p.Set(ctx, w.mset[0].(string), w.mset[1], 0)
	} else if len(w.mset) > 0 {
		p.MSet(ctx, w.mset...)
	}
	for _, k := range w.saddKeys {
		p.SAdd(ctx, k, w.sadd[k]...)
	}
	n := 0
	for _, k := range w.zKeys {
		n += 4 + 2*len(w.zsets[k].members)
	}
	if cap(w.args) < n {
		w.args = make([]any, 0, n)
	}
	// Each command's arguments are a full slice of w.args: appending to
	// it never reaches the next command's.
	for _, k := range w.zKeys {
		z := w.zsets[k]
		nadd := 0
		for _, op := range z.ops {
			if op.add {
				nadd++
			}
		}
		remCmd, addCmd := "zrem", "zadd"
		if z.plain {
			remCmd, addCmd = "srem", "sadd"
		}
		if nrem := len(z.members) - nadd; nrem > 0 {
			start := len(w.args)
			w.args = append(w.args, remCmd, k)
			for i, m := range z.members {
				if !z.ops[i].add {
					w.args = append(w.args, m)
				}
			}
			p.Do(ctx, w.args[start:len(w.args):len(w.args)]...)
		}
		if nadd > 0 {
			start := len(w.args)
			w.args = append(w.args, addCmd, k)
			for i, m := range z.members {
				if op := z.ops[i]; op.add {
					switch {
					case z.plain:
					case op.score == 0:
						w.args = append(w.args, zeroScore) // the all index's: no float to format
					default:
						w.args = append(w.args, op.score)
					}
					w.args = append(w.args, m)
				}
			}
			p.Do(ctx, w.args[start:len(w.args):len(w.args)]...)
		}
	}
	for _, a := range w.xadds {
		p.XAdd(ctx, a)
	}
}
