package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
)

// retroHit is one alert a candidate watchlist would add or remove.
type retroHit struct {
	Site, ListingKey, ListingID, Title, Substance, Term string
}

// retroHunt runs the active and the candidate matcher over every stored
// listing and reports the alerts the candidate would add and remove.
func retroHunt(ctx context.Context, store precwatch.Store, active, candidate precwatch.Matcher) (added, removed []retroHit, scanned int, err error) {
	err = store.Listings(ctx, "", func(ls precwatch.ListingState) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		scanned++
		before, after := alertable(active.Match(ls.Listing)), alertable(candidate.Match(ls.Listing))
		hit := func(m precwatch.Match) retroHit {
			return retroHit{Site: ls.Listing.Site, ListingKey: ls.Key, ListingID: ls.Listing.ID, Title: ls.Listing.Title, Substance: m.Substance, Term: m.Term}
		}
		for sub, m := range after {
			if _, ok := before[sub]; !ok {
				added = append(added, hit(m))
			}
		}
		for sub, m := range before {
			if _, ok := after[sub]; !ok {
				removed = append(removed, hit(m))
			}
		}
		return nil
	})
	order := func(a, b retroHit) int {
		return strings.Compare(a.Site+"\x00"+a.ListingKey+"\x00"+a.Substance, b.Site+"\x00"+b.ListingKey+"\x00"+b.Substance)
	}
	slices.SortFunc(added, order)
	slices.SortFunc(removed, order)
	return added, removed, scanned, err
}

// alertable maps each substance that would alert to its first match.
func alertable(ms []precwatch.Match) map[string]precwatch.Match {
	out := map[string]precwatch.Match{}
	for _, m := range ms {
		if _, seen := out[m.Substance]; !seen && m.Alertable() {
			out[m.Substance] = m
		}
	}
	return out
}

// runWatchlist is `precwatch watchlist test FILE` and `watchlist diff A B`.
func (m *Main) runWatchlist(ctx context.Context, args []string) error {
	const use = "usage: precwatch watchlist test FILE | watchlist diff OLD NEW | watchlist suppress (--term T --site S | --listing ID) --by NAME --reason TEXT"
	if len(args) > 0 && args[0] == "suppress" {
		return m.watchlistSuppress(ctx, args[1:])
	}
	if len(args) > 0 && isHelp(args[0]) {
		return m.groupHelp("watchlist")
	}
	if len(args) == 0 {
		return &exitError{code: 2, err: errors.New(use)}
	}
	sub, rest := args[0], args[1:]
	fs := m.flags("watchlist " + sub)
	if err := m.parseArgs(fs, rest); err != nil {
		return err
	}
	files := fs.Args()
	if err := m.parse(fs, nil); err != nil {
		return err
	}
	switch {
	case sub == "diff" && len(files) == 2:
		a, err := matchers.LoadWatchlist(files[0])
		if err != nil {
			return err
		}
		b, err := matchers.LoadWatchlist(files[1])
		if err != nil {
			return err
		}
		changes := precwatch.DiffWatchlists(a, b)
		for _, c := range changes {
			fmt.Fprintln(m.Stdout, c.String())
		}
		fmt.Fprintf(m.Stdout, "%d substance(s) changed\n", len(changes))
		return nil
	case sub == "test" && len(files) == 1:
		return m.watchlistTest(ctx, files[0])
	}
	return &exitError{code: 2, err: errors.New(use)}
}

func (m *Main) watchlistTest(ctx context.Context, file string) error {
	cfg, active, err := m.loadConfig()
	if err != nil {
		return err
	}
	wl, err := matchers.LoadWatchlist(file)
	if err != nil {
		return err
	}
	candidate, err := matchers.Compile(wl)
	if err != nil {
		return fmt.Errorf("compile %s: %w", file, err)
	}
	store, err := m.openStoreToRead(ctx, cfg)
	if err != nil {
		return err
	}
	added, removed, scanned, err := retroHunt(ctx, store, active, candidate)
	if err != nil {
		return fmt.Errorf("watchlist test: %w", err)
	}
	for _, c := range precwatch.DiffWatchlists(active.Watchlist(), wl) {
		fmt.Fprintln(m.Stdout, "change:", c.String())
	}
	for _, h := range added {
		fmt.Fprintf(m.Stdout, "+ %s %s %s (term %q) %s\n", printable(h.Site, 30), printable(h.ListingID, 30), h.Substance, printable(h.Term, 40), printable(h.Title, 60))
	}
	for _, h := range removed {
		fmt.Fprintf(m.Stdout, "- %s %s %s (term %q) %s\n", printable(h.Site, 30), printable(h.ListingID, 30), h.Substance, printable(h.Term, 40), printable(h.Title, 60))
	}
	fmt.Fprintf(m.Stdout, "scanned %d stored listing(s): %s would add %d alert(s) and remove %d versus the active watchlist %s\n",
		scanned, file, len(added), len(removed), cfg.WatchlistPath())
	return nil
}

// watchlistSuppress is `precwatch watchlist suppress`: an analyst rules a
// term on a site, or one listing, a false positive. The suppression is
// appended to the active watchlist file (its comments kept), checked by the
// same loader as any watchlist, and picked up by a running daemon.
func (m *Main) watchlistSuppress(ctx context.Context, args []string) error {
	fs := m.flags("watchlist suppress")
	var sup precwatch.Suppression
	fs.StringVar(&sup.Term, "term", "", "the term that matched wrongly (with --site)")
	fs.StringVar(&sup.Site, "site", "", "the site the suppression applies to")
	fs.StringVar(&sup.Listing, "listing", "", "one listing: its identity (id:... or url:...) or URL")
	fs.StringVar(&sup.Substance, "substance", "", "only this substance id (default: any)")
	fs.StringVar(&sup.By, "by", "", "who rules it a false positive (required)")
	fs.StringVar(&sup.Reason, "reason", "", "why (required)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	cfg, err := LoadConfig(m.ConfigPath)
	if err != nil {
		return err
	}
	path := cfg.WatchlistPath()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("watchlist suppress: %w", err)
	}
	sup.At = time.Now().UTC().Truncate(time.Second)
	out, err := appendSuppression(data, sup)
	if err != nil {
		return fmt.Errorf("watchlist suppress: %s: %w", path, err)
	}
	// The new file must load as any watchlist does, or nothing is written.
	if _, err := matchers.ParseWatchlist(path, out); err != nil {
		return err
	}
	if err := writeFileAtomic(path, out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "suppressed in %s: term %q site %q listing %q substance %q, by %s: %s\n",
		path, sup.Term, sup.Site, sup.Listing, sup.Substance, sup.By, sup.Reason)
	return nil
}

// appendSuppression adds s to the watchlist document's suppressions,
// editing the node tree so that the file's comments survive.
func appendSuppression(data []byte, s precwatch.Suppression) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a watchlist document")
	}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "suppressions" {
			list = root.Content[i+1]
		}
	}
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "suppressions"}, list)
	}
	if list.Kind != yaml.SequenceNode {
		return nil, errors.New("suppressions is not a list")
	}
	var item yaml.Node
	if err := item.Encode(s); err != nil {
		return nil, err
	}
	list.Content = append(list.Content, &item)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
