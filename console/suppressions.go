package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/precwatch/precwatch"
)

// Suppressions are analysts' false-positive rulings: a term on a site, or
// one listing, stops raising alerts (the match is still reported, marked
// suppressed). They live in the watchlist, so adding or lifting one is a
// watchlist change like any other: validated by the file loader, previewed
// over the stored listings (the hits it silences are the preview's
// "removed"), saved as a new version and audited.

// suppressionsView is the list of suppressions and the form to add one.
type suppressionsView struct {
	BaseVersion  int
	Suppressions []precwatch.Suppression
	Substances   []precwatch.Substance
	Form         precwatch.Suppression
	// FieldErrors are keyed by the form field (term, site, listing,
	// substance, reason); Errors are the rest.
	FieldErrors map[string][]string
	Errors      []FieldError
	Preview     *Preview
	Saved       string
	// Sites are the sites a suppression may name, offered in the form.
	Sites []string
}

func (suppressionsView) PageTitle() string { return "Suppressions" }

// suppressionIn is a suppression as a form or the API gives it; By and At
// are the console's to set.
type suppressionIn struct {
	Term      string `json:"term"`
	Site      string `json:"site"`
	Listing   string `json:"listing"`
	Substance string `json:"substance"`
	Reason    string `json:"reason"`
}

func (in suppressionIn) suppression(by *precwatch.User, s *Server) precwatch.Suppression {
	return precwatch.Suppression{
		Term: strings.TrimSpace(in.Term), Site: strings.TrimSpace(in.Site),
		Listing: strings.TrimSpace(in.Listing), Substance: strings.TrimSpace(in.Substance),
		Reason: strings.TrimSpace(in.Reason), By: by.Name, At: s.now().UTC().Truncate(1e9),
	}
}

// withSuppression returns a copy of active with sup added.
func withSuppression(active *precwatch.Watchlist, sup precwatch.Suppression) *precwatch.Watchlist {
	cand := *active
	cand.Suppressions = append(slices.Clone(active.Suppressions), sup)
	return &cand
}

// withoutSuppression returns a copy of active without its suppression i.
func withoutSuppression(active *precwatch.Watchlist, i int) (*precwatch.Watchlist, precwatch.Suppression, error) {
	if i < 0 || i >= len(active.Suppressions) {
		return nil, precwatch.Suppression{}, errorf(ENOTFOUND, "no suppression %d in the watchlist", i)
	}
	cand := *active
	cand.Suppressions = slices.Delete(slices.Clone(active.Suppressions), i, i+1)
	return &cand, active.Suppressions[i], nil
}

// describeSuppression is a suppression in a few words, for the version
// comment and the audit log.
func describeSuppression(sup precwatch.Suppression) string {
	var what []string
	if sup.Term != "" {
		what = append(what, fmt.Sprintf("term %q", sup.Term))
	}
	if sup.Listing != "" {
		what = append(what, "listing "+sup.Listing)
	}
	if sup.Site != "" {
		what = append(what, "on "+sup.Site)
	}
	if sup.Substance != "" {
		what = append(what, "for "+sup.Substance)
	}
	return strings.Join(what, " ")
}

// activeAt returns the active watchlist, refusing with ECONFLICT when the
// caller's base version (nil: none given) is no longer the active one.
func activeAt(ctx context.Context, wl WatchlistService, base *int) (*precwatch.Watchlist, int, error) {
	active, version, err := wl.Active(ctx)
	if err != nil {
		return nil, 0, err
	}
	if base != nil && *base != version {
		return nil, 0, errorf(ECONFLICT, "the watchlist changed (now version %d) since this page was opened; reload it", version)
	}
	return active, version, nil
}

// formBase is a form's base_version: a form always states one, so a
// missing or unreadable one never matches.
func formBase(r *http.Request) *int {
	n, err := strconv.Atoi(r.PostFormValue("base_version"))
	if err != nil {
		n = -1
	}
	return &n
}

func (s *Server) newSuppressionsView(ctx context.Context, active *precwatch.Watchlist, version int) (*suppressionsView, error) {
	sites, err := s.siteNames(ctx)
	if err != nil {
		return nil, err
	}
	return &suppressionsView{
		BaseVersion: version, Suppressions: active.Suppressions,
		Substances: active.Substances, FieldErrors: map[string][]string{}, Sites: sites,
	}, nil
}

// siteNames are the sites the console knows: the scheduler's, or without
// one those of the stored runs.
func (s *Server) siteNames(ctx context.Context) ([]string, error) {
	var names []string
	if s.op != nil {
		for _, st := range s.op.Sites() {
			names = append(names, st.Name)
		}
	} else {
		runs, err := s.store.Runs(ctx, "", 1000)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			names = append(names, r.Site)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// unknownSite is the problem of a suppression naming a site the console
// does not know ("" when there is none): a misspelt site would otherwise
// be saved, silence nothing, and look like a ruling in force.
func unknownSite(site string, known []string) string {
	if site == "" || len(known) == 0 || slices.Contains(known, site) {
		return ""
	}
	return fmt.Sprintf("no site %q: the sites are %s", site, strings.Join(known, ", "))
}

func (s *Server) suppressionsPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	active, version, err := wl.Active(r.Context())
	if err != nil {
		return err
	}
	v, err := s.newSuppressionsView(r.Context(), active, version)
	if err != nil {
		return err
	}
	v.Saved = r.URL.Query().Get("saved")
	// Prefilled from an alert or a preview: "suppress this listing".
	q := r.URL.Query()
	v.Form = precwatch.Suppression{Term: q.Get("term"), Site: q.Get("site"), Listing: q.Get("listing"), Substance: q.Get("substance")}
	s.render(w, r, http.StatusOK, "suppressions", v)
	return nil
}

// suppressionsSubmit previews (op=preview) or saves (op=save) a new
// suppression, or lifts one (op=lift, with index).
func (s *Server) suppressionsSubmit(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	ctx := r.Context()
	wl, active, version, err := s.watchlistForm(r)
	if err != nil {
		return err
	}
	op := r.PostFormValue("op")
	if op == "lift" {
		i, err := strconv.Atoi(r.PostFormValue("index"))
		if err != nil {
			return errorf(EINVALID, "index: want a number")
		}
		n, err := s.liftSuppression(ctx, wl, active, i, u)
		if err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/watchlist/suppressions?saved=%d#saved", n), http.StatusSeeOther)
		return nil
	}
	in := suppressionIn{
		Term: r.PostFormValue("term"), Site: r.PostFormValue("site"), Listing: r.PostFormValue("listing"),
		Substance: r.PostFormValue("substance"), Reason: r.PostFormValue("reason"),
	}
	sup := in.suppression(u, s)
	cand := withSuppression(active, sup)
	v, err := s.newSuppressionsView(ctx, active, version)
	if err != nil {
		return err
	}
	v.Form = sup
	errs := wl.Validate(cand)
	if msg := unknownSite(sup.Site, v.Sites); msg != "" {
		errs = append(errs, FieldError{Field: fmt.Sprintf("suppressions[%d].site", len(active.Suppressions)), Message: msg})
	}
	if len(errs) > 0 {
		placeSuppressionErrors(v, len(active.Suppressions), errs)
		s.render(w, r, http.StatusBadRequest, "suppressions", v)
		return nil
	}
	switch op {
	case "preview":
		p, err := wl.Preview(ctx, cand)
		if err != nil {
			return err
		}
		v.Preview = &p
		s.render(w, r, http.StatusOK, "suppressions", v)
		return nil
	case "save":
		n, err := s.applyWatchlist(ctx, wl, cand, u, "suppress "+describeSuppression(sup)+": "+sup.Reason, "watchlist.suppress")
		if err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/watchlist/suppressions?saved=%d#saved", n), http.StatusSeeOther)
		return nil
	}
	return errorf(EINVALID, "op: want preview, save or lift")
}

// liftSuppression removes suppression i and applies the watchlist.
func (s *Server) liftSuppression(ctx context.Context, wl WatchlistService, active *precwatch.Watchlist, i int, u *precwatch.User) (int, error) {
	cand, sup, err := withoutSuppression(active, i)
	if err != nil {
		return 0, err
	}
	return s.applyWatchlist(ctx, wl, cand, u, "lift the suppression of "+describeSuppression(sup)+" (by "+sup.By+": "+sup.Reason+")", "watchlist.unsuppress")
}

// placeSuppressionErrors puts the new suppression's errors (index i) next
// to their form fields and the rest in the general list.
func placeSuppressionErrors(v *suppressionsView, i int, errs []FieldError) {
	prefix := fmt.Sprintf("suppressions[%d]", i)
	for _, e := range errs {
		local, ok := strings.CutPrefix(e.Field, prefix)
		if !ok {
			v.Errors = append(v.Errors, e)
			continue
		}
		field := strings.TrimPrefix(local, ".")
		if field == "" {
			field = "term" // "a term or a listing is required"
		}
		v.FieldErrors[field] = append(v.FieldErrors[field], e.Message)
	}
}

// apiSuppress adds a suppression, or with "preview": true only reports the
// hits it would silence. base_version, when not zero, must be the active
// version.
func (s *Server) apiSuppress(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	ctx := r.Context()
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	var in struct {
		suppressionIn
		Preview     bool `json:"preview"`
		BaseVersion int  `json:"base_version"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	active, _, err := activeAt(ctx, wl, baseParam(in.BaseVersion))
	if err != nil {
		return err
	}
	sup := in.suppression(u, s)
	cand := withSuppression(active, sup)
	errs := wl.Validate(cand)
	sites, err := s.siteNames(ctx)
	if err != nil {
		return err
	}
	if msg := unknownSite(sup.Site, sites); msg != "" {
		errs = append(errs, FieldError{Field: fmt.Sprintf("suppressions[%d].site", len(active.Suppressions)), Message: msg})
	}
	if len(errs) > 0 {
		return &Error{Code: EINVALID, Message: "the suppression is not valid", Fields: errs}
	}
	if in.Preview {
		p, err := wl.Preview(ctx, cand)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, p.orEmpty())
		return nil
	}
	n, err := s.applyWatchlist(ctx, wl, cand, u, "suppress "+describeSuppression(sup)+": "+sup.Reason, "watchlist.suppress")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": n, "suppression": sup})
	return nil
}

// apiUnsuppress lifts suppression {index} of the active watchlist;
// base_version (query) as for apiSuppress.
func (s *Server) apiUnsuppress(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	ctx := r.Context()
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	i, err := strconv.Atoi(r.PathValue("index"))
	if err != nil {
		return errorf(EINVALID, "index: want a number")
	}
	var base *int
	if q := r.URL.Query().Get("base_version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil {
			return errorf(EINVALID, "base_version: want a number")
		}
		base = &n
	}
	active, _, err := activeAt(ctx, wl, base)
	if err != nil {
		return err
	}
	n, err := s.liftSuppression(ctx, wl, active, i, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"version": n})
	return nil
}

// baseParam is a JSON base_version as activeAt takes it: 0 means none.
func baseParam(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
