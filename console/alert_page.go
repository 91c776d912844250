package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/precwatch/precwatch"
)

// alertView is the alert detail page.
type alertView struct {
	Alert       precwatch.Alert
	Title       []segment
	Description []segment
	// Vendor are the vendor's other alerts, on any site.
	Vendor      []precwatch.Alert
	VendorTotal int
	// PageStored says the raw page is kept and can be downloaded.
	PageStored bool
	// Fetches are the alert's evidence (issue 11): the fetches its
	// listing's fields came from, each with its own site, URL and time.
	Fetches     []evidenceFetch
	Transitions []precwatch.AlertStatus
	Error       string
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
	if a.Listing.Vendor != "" {
		page, err := s.store.QueryAlerts(ctx, precwatch.AlertQuery{Vendor: a.Listing.Vendor, Limit: 21})
		if err != nil {
			return nil, err
		}
		for _, o := range page.Alerts {
			if o.Key != a.Key && len(v.Vendor) < 20 {
				v.Vendor = append(v.Vendor, o)
			}
		}
		v.VendorTotal = max(0, page.Total-1)
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

// apiAlert is one alert as JSON, with the vendor's other alerts.
func (s *Server) apiAlert(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadAlertView(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	others := v.Vendor
	if others == nil {
		others = []precwatch.Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"alert": v.Alert, "vendor_alerts": others, "vendor_alerts_total": v.VendorTotal,
		"page_stored": v.PageStored, "transitions": v.Transitions,
	})
	return nil
}
