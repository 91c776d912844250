package console

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/precwatch/precwatch"
)

// alertView is the alert detail page.
type alertView struct {
	Alert       precwatch.Alert
	Title       []segment
	Description []segment
	// Vendor is the listing's seller: the accounts linked to it by a
	// shared strong identifier and those sharing only its handle (nil
	// when the store keeps no vendor profiles).
	Vendor *alertVendor
	// PageStored says the raw page is kept and can be downloaded.
	PageStored bool
	// Fetches are the alert's evidence (issue 11): the fetches its
	// listing's fields came from, each with its own site, URL and time.
	Fetches     []evidenceFetch
	Transitions []precwatch.AlertStatus
	Error       string
	// RuleTerms are the matches offered as "rule a false positive" links,
	// one per term and substance (a term matched in the title and the
	// description is one ruling).
	RuleTerms []precwatch.Match
	// NoteDraft and DismissDraft are the text of a refused note or
	// dismissal, offered again.
	NoteDraft, DismissDraft string
	// Notice says why a draft is back (the session had ended).
	Notice string
}

func (v *alertView) PageTitle() string { return "Alert: " + v.Alert.Name }

// loadAlertView gathers what the detail page shows about alert key.
func (s *Server) loadAlertView(ctx context.Context, key string) (*alertView, error) {
	a, err := s.store.Alert(ctx, key)
	if err != nil {
		return nil, err
	}
	v := &alertView{
		Alert:       a,
		Title:       highlight(a.Listing.Title, "title", a.Matches),
		Description: highlight(a.Listing.Description, "description", a.Matches),
		Transitions: transitions(a),
	}
	for _, m := range a.Matches {
		if !slices.ContainsFunc(v.RuleTerms, func(o precwatch.Match) bool { return o.Term == m.Term && o.Substance == m.Substance }) {
			v.RuleTerms = append(v.RuleTerms, m)
		}
	}
	if v.Vendor, err = s.loadAlertVendor(ctx, a); err != nil {
		return nil, err
	}
	if a.Listing.PageSHA256 != "" {
		p, err := s.store.Page(ctx, a.Listing.PageSHA256)
		switch {
		case errors.Is(err, precwatch.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			// Not the page's first fetch time: those bytes may have come
			// from another site first (issue 11); the fetches say when.
			v.PageStored = p.SHA256 != ""
		}
	}
	if v.Fetches, err = s.evidenceList(ctx, a); err != nil {
		return nil, err
	}
	return v, nil
}

// transitions lists the statuses a may move to, asking the workflow itself
// rather than repeating its rules.
func transitions(a precwatch.Alert) []precwatch.AlertStatus {
	var out []precwatch.AlertStatus
	for _, st := range []precwatch.AlertStatus{precwatch.StatusNew, precwatch.StatusTriaged, precwatch.StatusEscalated, precwatch.StatusDismissed} {
		c := a
		if precwatch.ApplyAction(&c, precwatch.AlertAction{Actor: "-", Action: precwatch.ActionStatus, Status: st, Text: "-"}) == nil {
			out = append(out, st)
		}
	}
	return out
}

func (s *Server) alertPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadAlertView(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "alert", v)
	return nil
}

// apiAlert is one alert as JSON, with its vendor's links and hints.
func (s *Server) apiAlert(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadAlertView(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	links, hints := []precwatch.VendorLink{}, []precwatch.VendorHint{}
	if v.Vendor != nil {
		links, hints = append(links, v.Vendor.Links...), append(hints, v.Vendor.Hints...)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"alert": v.Alert, "vendor_links": links, "vendor_hints": hints,
		"page_stored": v.PageStored, "transitions": v.Transitions,
	})
	return nil
}
