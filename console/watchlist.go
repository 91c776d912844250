package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
)

// watchlists returns the service, or ENOTFOUND when editing is disabled.
func (s *Server) watchlists() (WatchlistService, error) {
	if s.wl == nil {
		return nil, errorf(ENOTFOUND, "watchlist editing is not enabled on this console")
	}
	return s.wl, nil
}

// watchlistForm parses a watchlist form and returns the service and the
// active watchlist, refusing (ECONFLICT) a form opened on another version.
func (s *Server) watchlistForm(r *http.Request) (WatchlistService, *precwatch.Watchlist, int, error) {
	wl, err := s.watchlists()
	if err != nil {
		return nil, nil, 0, err
	}
	if err := r.ParseForm(); err != nil {
		return nil, nil, 0, errorf(EINVALID, "unreadable form")
	}
	active, version, err := activeAt(r.Context(), wl, formBase(r))
	return wl, active, version, err
}

// watchlistView is the table of the active watchlist.
type watchlistView struct {
	Version    int
	Watchlist  *precwatch.Watchlist
	Saved      string
	Substances []substanceRow
	Rejected   *reloadProblem
	// Search is the filter box's text: Substances are those it matches
	// (see substanceMatches).
	Search string
}

// reloadProblem is a rejected reload of the daemon's files, as the
// watchlist and sites pages show it.
type reloadProblem struct {
	At    time.Time
	Error string
	// SavedSince is a watchlist version saved from the console after the
	// rejection: the save rewrote the watchlist file, replacing a rejected
	// hand edit of it, and the daemon has yet to read it again. Zero when
	// none (or unknown).
	SavedSince   int
	SavedSinceAt time.Time
}

// rejectedReload returns the latest reload of the daemon's config and
// watchlist files if it was rejected; nil when it took, or when nothing
// watches the files (the serve command).
func (s *Server) rejectedReload() *reloadProblem {
	rs, ok := s.wl.(ReloadStatus)
	if !ok {
		return nil
	}
	at, err := rs.RejectedReload()
	if at.IsZero() || err == nil {
		return nil
	}
	return &reloadProblem{At: at, Error: err.Error()}
}

// rejectedReloadSince is rejectedReload noting a watchlist version saved
// from the console after the rejection, so that the page does not say the
// rejected edit is pending when a save has just replaced it.
func (s *Server) rejectedReloadSince(ctx context.Context) *reloadProblem {
	p := s.rejectedReload()
	if p == nil {
		return nil
	}
	vs, err := s.store.WatchlistVersions(ctx)
	if err != nil {
		return p // the warning stands; the versions page shows the error
	}
	for _, v := range vs {
		if v.At.After(p.At) && v.Version > p.SavedSince {
			p.SavedSince, p.SavedSinceAt = v.Version, v.At
		}
	}
	return p
}

// substanceMatches reports whether q (ignoring case) is part of the
// substance's ID, a name, synonym or abbreviation, or its CAS, EC or UN
// number; a CAS number matches with or without its hyphens. An empty q
// matches every substance.
func substanceMatches(s precwatch.Substance, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	fields := []string{s.ID, s.CAS, strings.ReplaceAll(s.CAS, "-", ""), s.EC}
	fields = append(fields, s.UN...)
	fields = append(fields, s.Synonyms...)
	fields = append(fields, s.Abbreviations...)
	for _, n := range s.Names {
		fields = append(fields, n)
	}
	return slices.ContainsFunc(fields, func(f string) bool { return f != "" && strings.Contains(strings.ToLower(f), q) })
}

type substanceRow struct {
	S       precwatch.Substance
	Names   string
	Regimes string
	// Synonyms are the first synonyms, shown; MoreSynonyms the rest, folded
	// away, so that a substance with a hundred spellings does not make the
	// table pages long.
	Synonyms, MoreSynonyms []string
}

// shownSynonyms is how many synonyms the watchlist table shows unfolded.
const shownSynonyms = 12

func (watchlistView) PageTitle() string { return "Watchlist" }

func (s *Server) watchlistPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	active, version, err := wl.Active(r.Context())
	if err != nil {
		return err
	}
	v := watchlistView{Version: version, Watchlist: active, Saved: r.URL.Query().Get("saved"), Rejected: s.rejectedReloadSince(r.Context()),
		Search: strings.TrimSpace(r.URL.Query().Get("q"))}
	for _, sub := range active.Substances {
		if !substanceMatches(sub, v.Search) {
			continue
		}
		row := substanceRow{S: sub, Synonyms: sub.Synonyms}
		if len(sub.Synonyms) > shownSynonyms+1 { // folding one away would save nothing
			row.Synonyms, row.MoreSynonyms = sub.Synonyms[:shownSynonyms], sub.Synonyms[shownSynonyms:]
		}
		var names, regimes []string
		for _, t := range (precwatch.Substance{Names: sub.Names}).Terms() {
			names = append(names, strings.TrimPrefix(t, "name"))
		}
		for _, re := range sub.Regimes {
			if re.LimitPercent != nil {
				regimes = append(regimes, fmt.Sprintf("%s (limit %s)", re.Regime, formatPercent(re.LimitPercent)))
				continue
			}
			regimes = append(regimes, string(re.Regime))
		}
		row.Names, row.Regimes = strings.Join(names, "; "), strings.Join(regimes, ", ")
		v.Substances = append(v.Substances, row)
	}
	s.render(w, r, http.StatusOK, "watchlist", v)
	return nil
}

// substanceView is the editor of one substance's names and terms.
type substanceView struct {
	// Rejected is a rejected hand edit of the daemon's files: saving here
	// rewrites the watchlist file and so replaces it.
	Rejected      *reloadProblem
	BaseVersion   int
	Substance     precwatch.Substance
	Names         []nameRow
	Synonyms      string
	Abbreviations string
	Excludes      string
	Comment       string
	// FieldErrors are keyed by the form field they belong to (names.de,
	// synonyms, abbreviations); Errors are the rest.
	FieldErrors map[string][]string
	Errors      []FieldError
	Preview     *Preview
	Diff        []precwatch.SubstanceDiff
}

type nameRow struct {
	Lang, Name string
	Errors     []string
}

func (v *substanceView) PageTitle() string { return "Edit " + v.Substance.DisplayName() }

// findSubstance returns the index of substance id in w.
func findSubstance(w *precwatch.Watchlist, id string) (int, error) {
	i := slices.IndexFunc(w.Substances, func(s precwatch.Substance) bool { return s.ID == id })
	if i < 0 {
		return -1, errorf(ENOTFOUND, "no substance %q in the watchlist", id)
	}
	return i, nil
}

func newSubstanceView(sub precwatch.Substance, base int) *substanceView {
	v := &substanceView{
		BaseVersion: base, Substance: sub,
		Synonyms:      strings.Join(sub.Synonyms, "\n"),
		Abbreviations: strings.Join(sub.Abbreviations, "\n"),
		Excludes:      strings.Join(sub.Excludes, "\n"),
		FieldErrors:   map[string][]string{},
	}
	for _, t := range (precwatch.Substance{Names: sub.Names}).Terms() {
		lang, name, _ := strings.Cut(strings.TrimPrefix(t, "name["), "]: ")
		v.Names = append(v.Names, nameRow{Lang: lang, Name: name})
	}
	return v
}

func (s *Server) substancePage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	active, version, err := wl.Active(r.Context())
	if err != nil {
		return err
	}
	i, err := findSubstance(active, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := newSubstanceView(active.Substances[i], version)
	v.Rejected = s.rejectedReloadSince(r.Context())
	v.Names = append(v.Names, nameRow{}, nameRow{}) // room to add languages
	s.render(w, r, http.StatusOK, "substance", v)
	return nil
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// substanceSubmit validates an edited substance and then previews its
// effect (op=preview) or saves it (op=save, with a comment). Errors are
// shown next to their fields.
func (s *Server) substanceSubmit(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	ctx := r.Context()
	wl, active, version, err := s.watchlistForm(r)
	if err != nil {
		return err
	}
	i, err := findSubstance(active, r.PathValue("id"))
	if err != nil {
		return err
	}
	edited := active.Substances[i]
	edited.Names = map[string]string{}
	langs, names := r.PostForm["name_lang"], r.PostForm["name_value"]
	v := newSubstanceView(edited, version)
	v.Rejected = s.rejectedReloadSince(r.Context())
	v.Comment = r.PostFormValue("comment")
	for j := range min(len(langs), len(names)) {
		lang, name := strings.TrimSpace(langs[j]), strings.TrimSpace(names[j])
		if lang == "" && name == "" {
			continue
		}
		row := nameRow{Lang: lang, Name: name}
		switch _, dup := edited.Names[lang]; {
		case lang == "":
			row.Errors = append(row.Errors, "a language code is required")
		case dup:
			row.Errors = append(row.Errors, "this language is given twice")
		default:
			edited.Names[lang] = name
		}
		v.Names = append(v.Names, row)
	}
	edited.Synonyms = lines(r.PostFormValue("synonyms"))
	edited.Abbreviations = lines(r.PostFormValue("abbreviations"))
	// A form without the field (an older page) keeps the excludes.
	if _, ok := r.PostForm["excludes"]; ok {
		edited.Excludes = lines(r.PostFormValue("excludes"))
	}
	v.Substance, v.Synonyms, v.Abbreviations = edited, r.PostFormValue("synonyms"), r.PostFormValue("abbreviations")
	v.Excludes = strings.Join(edited.Excludes, "\n")

	cand := *active
	cand.Substances = slices.Clone(active.Substances)
	cand.Substances[i] = edited
	v.Diff = precwatch.DiffWatchlists(active, &cand)

	formInvalid := slices.ContainsFunc(v.Names, func(n nameRow) bool { return len(n.Errors) > 0 })
	errs := wl.Validate(&cand)
	s.placeErrors(v, i, errs)
	op := r.PostFormValue("op")
	if op == "save" && strings.TrimSpace(v.Comment) == "" && len(errs) == 0 && !formInvalid {
		v.FieldErrors["comment"] = append(v.FieldErrors["comment"], "say why you change the watchlist")
		formInvalid = true
	}
	if len(errs) > 0 || formInvalid {
		v.Names = append(v.Names, nameRow{})
		s.render(w, r, http.StatusBadRequest, "substance", v)
		return nil
	}
	switch op {
	case "save":
		n, err := wl.Apply(ctx, &cand, u.Name, strings.TrimSpace(v.Comment))
		if err != nil {
			return err
		}
		s.audit(ctx, u.Name, "watchlist.apply", fmt.Sprintf("watchlist:v%d", n), "edit "+edited.ID+": "+strings.TrimSpace(v.Comment))
		http.Redirect(w, r, fmt.Sprintf("/watchlist?saved=%d#saved", n), http.StatusSeeOther)
		return nil
	case "preview":
		p, err := wl.Preview(ctx, &cand)
		if err != nil {
			return err
		}
		v.Preview = &p
		v.Names = append(v.Names, nameRow{})
		s.render(w, r, http.StatusOK, "substance", v)
		return nil
	}
	return errorf(EINVALID, "op: want preview or save")
}

// placeErrors puts the edited substance's errors next to their fields and
// the others in the general list.
func (s *Server) placeErrors(v *substanceView, index int, errs []FieldError) {
	prefix := fmt.Sprintf("substances[%d].", index)
	for _, e := range errs {
		local, ok := strings.CutPrefix(e.Field, prefix)
		if !ok {
			v.Errors = append(v.Errors, e)
			continue
		}
		switch {
		case strings.HasPrefix(local, "names."):
			lang := strings.TrimPrefix(local, "names.")
			if j := slices.IndexFunc(v.Names, func(n nameRow) bool { return n.Lang == lang }); j >= 0 {
				v.Names[j].Errors = append(v.Names[j].Errors, e.Message)
				continue
			}
			v.FieldErrors["names"] = append(v.FieldErrors["names"], e.Message)
		case local == "names":
			v.FieldErrors["names"] = append(v.FieldErrors["names"], e.Message)
		case strings.HasPrefix(local, "synonyms"):
			v.FieldErrors["synonyms"] = append(v.FieldErrors["synonyms"], itemLabel(local, v.Substance.Synonyms)+e.Message)
		case strings.HasPrefix(local, "abbreviations"):
			v.FieldErrors["abbreviations"] = append(v.FieldErrors["abbreviations"], itemLabel(local, v.Substance.Abbreviations)+e.Message)
		case strings.HasPrefix(local, "excludes"):
			v.FieldErrors["excludes"] = append(v.FieldErrors["excludes"], itemLabel(local, v.Substance.Excludes)+e.Message)
		default:
			v.Errors = append(v.Errors, e)
		}
	}
}

// itemLabel names the list item a path such as "synonyms[2]" points at.
func itemLabel(path string, items []string) string {
	open, close := strings.IndexByte(path, '['), strings.IndexByte(path, ']')
	if open < 0 || close < open {
		return ""
	}
	i, err := strconv.Atoi(path[open+1 : close])
	if err != nil || i < 0 || i >= len(items) {
		return ""
	}
	return fmt.Sprintf("%q: ", items[i])
}

// applyWatchlist validates and applies w, recording it in the audit log.
func (s *Server) applyWatchlist(ctx context.Context, wl WatchlistService, w *precwatch.Watchlist, u *precwatch.User, comment, target string) (int, error) {
	if errs := wl.Validate(w); len(errs) > 0 {
		return 0, &Error{Code: EINVALID, Message: "the watchlist is not valid", Fields: errs}
	}
	n, err := wl.Apply(ctx, w, u.Name, comment)
	if err != nil {
		return 0, err
	}
	s.audit(ctx, u.Name, target, fmt.Sprintf("watchlist:v%d", n), comment)
	return n, nil
}
