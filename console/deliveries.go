package console

// Delivery (issue 11): the webhook delivery log, for operators.

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/precwatch/precwatch"
)

// deliveriesShown bounds the attempts the page lists.
const deliveriesShown = 200

// destinationRow sums up one destination from its latest attempts.
type destinationRow struct {
	Name          string    `json:"name"`
	LastAttempt   time.Time `json:"last_attempt"`
	LastDelivered time.Time `json:"last_delivered,omitzero"`
	// Failing counts the failed attempts since the last delivered one:
	// a destination retrying an event shows here.
	Failing   int    `json:"failing"`
	LastError string `json:"last_error,omitempty"`
}

// deliveriesView is the delivery log page.
type deliveriesView struct {
	Supported    bool // the store keeps a delivery log
	Destinations []destinationRow
	Attempts     []precwatch.Delivery
	Destination  string // the filter, if any
}

func (deliveriesView) PageTitle() string { return "Webhook deliveries" }

// loadDeliveries reads the log, newest first; dest filters it.
func (s *Server) loadDeliveries(r *http.Request) (deliveriesView, error) {
	v := deliveriesView{Destination: r.URL.Query().Get("destination")}
	ds, ok := s.store.(precwatch.DeliveryStore)
	if !ok {
		return v, nil
	}
	v.Supported = true
	limit := deliveriesShown
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, precwatch.MaxDeliveryLog)
	}
	all, err := ds.Deliveries(r.Context(), v.Destination, limit)
	if err != nil {
		return v, err
	}
	v.Attempts = all
	byName := map[string]*destinationRow{}
	var names []string
	for _, d := range all { // newest first
		row := byName[d.Destination]
		if row == nil {
			row = &destinationRow{Name: d.Destination, LastAttempt: d.At}
			byName[d.Destination] = row
			names = append(names, d.Destination)
		}
		switch {
		case d.Delivered && row.LastDelivered.IsZero():
			row.LastDelivered = d.At
		case !d.Delivered && row.LastDelivered.IsZero():
			row.Failing++
			if row.LastError == "" {
				row.LastError = d.Error
			}
		}
	}
	slices.Sort(names)
	for _, n := range names {
		v.Destinations = append(v.Destinations, *byName[n])
	}
	return v, nil
}

func (s *Server) deliveriesPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadDeliveries(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "deliveries", v)
	return nil
}

func (s *Server) apiDeliveries(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadDeliveries(r)
	if err != nil {
		return err
	}
	if !v.Supported {
		return errorf(ENOTFOUND, "this store keeps no delivery log")
	}
	if v.Attempts == nil {
		v.Attempts = []precwatch.Delivery{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"destinations": v.Destinations, "attempts": v.Attempts})
	return nil
}
