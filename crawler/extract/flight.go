package extract

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Two framework payloads that hold a client-rendered shop's data in a
// form no path reads as written:
//
//   - Next.js App Router pages stream React Server Components "flight"
//     rows through self.__next_f.push([1, "..."]) calls, a row often cut
//     across two calls: "3:[\"$\",\"$L2\",null,{\"products\":[...]}]\n".
//     The chunks are joined in page order and each row's JSON is a state
//     document, and so are the props of every React element in it, so
//     that a path names the data as the component received it
//     (products[]).
//   - Nuxt 3 writes its payload in devalue's flattened form into
//     <script id="__NUXT_DATA__">: one array whose objects and arrays
//     hold indexes into it. It is rebuilt (unflatten) into the payload
//     itself ({"data": {"catalog": {"items": [...]}}, ...}).

// nextFlightPush starts a Next.js flight chunk.
const nextFlightPush = "__next_f.push("

// maxFlightRows bounds the rows read from one page.
const maxFlightRows = 4096

// appendFlightChunks appends to dst the string chunks of every
// self.__next_f.push([1, "..."]) call in script; other calls ([0]
// bootstrap, [2, ...] form state, [3, ...] binary) are skipped.
func appendFlightChunks(dst []string, script string) []string {
	for {
		i := strings.Index(script, nextFlightPush)
		if i < 0 {
			return dst
		}
		script = script[i+len(nextFlightPush):]
		dec := json.NewDecoder(strings.NewReader(script))
		var call []any
		if err := dec.Decode(&call); err != nil {
			continue
		}
		script = script[dec.InputOffset():]
		if len(call) == 2 && call[0] == float64(1) {
			if s, ok := call[1].(string); ok {
				dst = append(dst, s)
			}
		}
	}
}

// flightDocs returns the state documents of a flight stream: each JSON
// row's value and the props of each React element in it. Text rows
// ("T<hex length>,") and module or hint rows ("I[...]", "HL[...]") are
// skipped.
func flightDocs(stream string) []any {
	var docs []any
	for rows := 0; stream != "" && rows < maxFlightRows; rows++ {
		colon := strings.IndexByte(stream, ':')
		if colon <= 0 || colon > 16 || strings.TrimLeft(stream[:colon], "0123456789abcdefABCDEF") != "" {
			// Not a row: skip to the next line.
			nl := strings.IndexByte(stream, '\n')
			if nl < 0 {
				break
			}
			stream = stream[nl+1:]
			continue
		}
		row := stream[colon+1:]
		if strings.HasPrefix(row, "T") {
			// A text row: its length in bytes, in hex, then a comma.
			comma := strings.IndexByte(row, ',')
			n, err := strconv.ParseUint(row[1:max(comma, 1)], 16, 31)
			if comma < 0 || err != nil || comma+1+int(n) > len(row) {
				break
			}
			stream = row[comma+1+int(n):]
			continue
		}
		if len(row) > 0 && (row[0] < 'A' || row[0] > 'Z') { // module and hint rows are tagged: skipped
			dec := json.NewDecoder(strings.NewReader(row))
			dec.UseNumber() // as decodeFirst: prices keep their digits
			var v any
			if dec.Decode(&v) == nil {
				docs = appendElementProps(append(docs, v), v, 0)
			}
		}
		nl := strings.IndexByte(row, '\n')
		if nl < 0 {
			break
		}
		stream = row[nl+1:]
	}
	return docs
}

// appendElementProps appends the props objects of the React elements in v
// (["$", type, key, props]), depth first.
func appendElementProps(docs []any, v any, depth int) []any {
	if depth > 64 {
		return docs
	}
	switch t := v.(type) {
	case []any:
		if len(t) == 4 && t[0] == "$" {
			if props, ok := t[3].(map[string]any); ok {
				docs = append(docs, props)
			}
		}
		for _, x := range t {
			docs = appendElementProps(docs, x, depth+1)
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			docs = appendElementProps(docs, t[k], depth+1)
		}
	}
	return docs
}

// nuxtWrappers are the devalue types Nuxt writes around a value
// (reactivity wrappers): the value is the one they wrap.
var nuxtWrappers = map[string]bool{
	"Reactive": true, "ShallowReactive": true, "Ref": true, "ShallowRef": true,
	"EmptyRef": true, "EmptyShallowRef": true, "NuxtError": true, "Island": true,
}

// looksDevalue reports whether v is a devalue payload as Nuxt writes it:
// an array whose first entry wraps the payload (["ShallowReactive", 1]).
func looksDevalue(v any) bool {
	a, ok := v.([]any)
	if !ok || len(a) < 2 {
		return false
	}
	head, ok := a[0].([]any)
	if !ok || len(head) != 2 {
		return false
	}
	name, _ := head[0].(string)
	idx, ok := index(head[1])
	return nuxtWrappers[name] && ok && idx >= 1 && idx < len(a)
}

// maxDevalueNodes bounds the values an unflatten builds: a payload's
// indexes may repeat a large array many times over.
const maxDevalueNodes = 1 << 20

// unflatten rebuilds devalue's flattened array into the value it holds.
// Shared and cyclic references become the same Go value; a cycle is cut
// where met (nil), since paths only walk down.
func unflatten(values []any) any {
	u := devalueReader{values: values, done: map[int]any{}, busy: map[int]bool{}}
	return u.hydrate(0.0)
}

type devalueReader struct {
	values []any
	done   map[int]any
	busy   map[int]bool
	nodes  int
}

// index reads an index as decoded (a float64, or a json.Number as the
// state decoder keeps numbers).
func index(at any) (int, bool) {
	var f float64
	switch t := at.(type) {
	case float64:
		f = t
	case json.Number:
		var err error
		if f, err = t.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

func (u *devalueReader) hydrate(at any) any {
	i, ok := index(at)
	if !ok || i >= len(u.values) {
		return nil // devalue's negative specials: undefined, holes, NaN, infinities
	}
	if v, ok := u.done[i]; ok {
		return v
	}
	if u.busy[i] || u.nodes >= maxDevalueNodes {
		return nil
	}
	u.nodes++
	u.busy[i] = true
	defer delete(u.busy, i)
	var out any
	switch t := u.values[i].(type) {
	case []any:
		if len(t) > 0 {
			if typ, ok := t[0].(string); ok {
				out = u.typed(typ, t[1:])
				break
			}
		}
		a := make([]any, len(t))
		for k, x := range t {
			a[k] = u.hydrate(x)
		}
		out = a
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = u.hydrate(x)
		}
		out = m
	default:
		out = t
	}
	u.done[i] = out
	return out
}

// typed rebuilds a typed entry ["Type", args...].
func (u *devalueReader) typed(typ string, args []any) any {
	switch typ {
	case "Date", "BigInt", "URL", "URLSearchParams", "Object": // a literal, not an index
		if len(args) > 0 {
			return args[0]
		}
		return nil
	case "RegExp":
		return nil
	case "Set":
		a := make([]any, 0, len(args))
		for _, x := range args {
			a = append(a, u.hydrate(x))
		}
		return a
	case "Map", "null":
		// Key and value indexes in turn; "null" is an object with no
		// prototype, its keys written as strings.
		m := map[string]any{}
		for k := 0; k+1 < len(args); k += 2 {
			key := args[k]
			if typ == "Map" {
				key = u.hydrate(args[k])
			}
			if s := scalarText(key); s != "" {
				m[s] = u.hydrate(args[k+1])
			}
		}
		return m
	}
	if len(args) == 1 { // Nuxt's wrappers and custom revivers of one value
		return u.hydrate(args[0])
	}
	return nil
}
