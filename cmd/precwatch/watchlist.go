package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
	const use = "usage: precwatch watchlist test FILE | precwatch watchlist diff OLD NEW"
	if len(args) == 0 {
		return &exitError{code: 2, err: errors.New(use)}
	}
	sub, rest := args[0], args[1:]
	fs := m.flags("watchlist " + sub)
	if err := fs.Parse(rest); err != nil {
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
	store, err := m.openStore(ctx, cfg)
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
