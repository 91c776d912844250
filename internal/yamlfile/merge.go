package yamlfile

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Merge encodes v as YAML over the document old, keeping old's comments,
// key order and scalar styles wherever the structure persists: a mapping
// keeps its keys in old's order (new keys after them, keys v no longer
// has dropped), a sequence of mappings with an "id" key matches its items
// by id, a sequence of scalars by value, any other by position. A key old
// lacks whose new value is empty ([], {}, null, "") is left out, as the
// decoder reads it the same. Callers that must be sure should decode the
// result and compare it with v.
func Merge(old []byte, v any) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(old, &doc); err != nil {
		return nil, fmt.Errorf("yamlfile: merge: read the old document: %w", err)
	}
	var nn yaml.Node
	if err := nn.Encode(v); err != nil {
		return nil, fmt.Errorf("yamlfile: merge: encode: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{nil}}
	}
	doc.Content[0] = mergeNode(doc.Content[0], &nn)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("yamlfile: merge: write: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("yamlfile: merge: write: %w", err)
	}
	return b.Bytes(), nil
}

// mergeNode returns nw with old's comments and, where they agree in kind,
// its structure (see Merge).
func mergeNode(old, nw *yaml.Node) *yaml.Node {
	if old == nil {
		return pruneEmpty(nw)
	}
	if old.Kind == yaml.AliasNode || old.Kind != nw.Kind {
		nw.HeadComment, nw.LineComment, nw.FootComment = old.HeadComment, old.LineComment, old.FootComment
		return nw
	}
	switch nw.Kind {
	case yaml.ScalarNode:
		if old.Value != nw.Value || old.Tag != nw.Tag {
			old.Value, old.Tag, old.Style = nw.Value, nw.Tag, nw.Style
		}
		return old
	case yaml.MappingNode:
		newVals := map[string]*yaml.Node{}
		var newKeys []*yaml.Node
		for i := 0; i+1 < len(nw.Content); i += 2 {
			newVals[nw.Content[i].Value] = nw.Content[i+1]
			newKeys = append(newKeys, nw.Content[i])
		}
		var out []*yaml.Node
		seen := map[string]bool{}
		for i := 0; i+1 < len(old.Content); i += 2 {
			k := old.Content[i]
			v, ok := newVals[k.Value]
			if !ok {
				continue
			}
			seen[k.Value] = true
			out = append(out, k, mergeNode(old.Content[i+1], v))
		}
		for _, k := range newKeys {
			if v := newVals[k.Value]; !seen[k.Value] && !emptyNode(v) {
				out = append(out, k, pruneEmpty(v))
			}
		}
		old.Content = out
		return old
	case yaml.SequenceNode:
		used := make([]bool, len(old.Content))
		out := make([]*yaml.Node, len(nw.Content))
		for i, item := range nw.Content {
			j := matchItem(old.Content, used, item, i)
			if j < 0 {
				out[i] = pruneEmpty(item)
				continue
			}
			used[j] = true
			out[i] = mergeNode(old.Content[j], item)
		}
		old.Content = out
		return old
	}
	return nw
}

// matchItem is the index of the unused item of olds that stands for item,
// the i-th of the new sequence, or -1.
func matchItem(olds []*yaml.Node, used []bool, item *yaml.Node, i int) int {
	key := func(n *yaml.Node) (string, bool) {
		switch n.Kind {
		case yaml.ScalarNode:
			return n.Value, true
		case yaml.MappingNode:
			for k := 0; k+1 < len(n.Content); k += 2 {
				if n.Content[k].Value == "id" && n.Content[k+1].Kind == yaml.ScalarNode {
					return n.Content[k+1].Value, true
				}
			}
		}
		return "", false
	}
	if want, ok := key(item); ok {
		for j, o := range olds {
			if got, ok := key(o); ok && !used[j] && o.Kind == item.Kind && got == want {
				return j
			}
		}
		if item.Kind == yaml.ScalarNode || len(olds) == 0 {
			return -1 // a new value, or a new id
		}
		if _, ok := key(olds[0]); ok {
			return -1 // items with ids, and this id is new
		}
	}
	if i < len(olds) && !used[i] {
		return i
	}
	return -1
}

// pruneEmpty drops the keys with empty values from the mappings of a new
// subtree, as Merge does for a key the old document lacks.
func pruneEmpty(n *yaml.Node) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		var out []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !emptyNode(n.Content[i+1]) {
				out = append(out, n.Content[i], pruneEmpty(n.Content[i+1]))
			}
		}
		n.Content = out
	case yaml.SequenceNode:
		for _, c := range n.Content {
			pruneEmpty(c)
		}
	}
	return n
}

// emptyNode reports whether n decodes as a zero value.
func emptyNode(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.SequenceNode, yaml.MappingNode:
		return len(n.Content) == 0
	case yaml.ScalarNode:
		return n.Tag == "!!null" || (n.Tag == "!!str" && n.Value == "")
	}
	return false
}
