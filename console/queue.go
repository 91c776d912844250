package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
)

// pageSize is the queue's default page length.
const pageSize = 50

// parseQuery reads the queue's filters from URL parameters: status,
// severity (the minimum), substance, regime, site, vendor, assignee, since
// and until (dates, inclusive), q (full text), offset and limit.
func parseQuery(v url.Values) (precwatch.AlertQuery, error) {
	q := precwatch.AlertQuery{
		Status:    precwatch.AlertStatus(v.Get("status")),
		Substance: strings.TrimSpace(v.Get("substance")),
		Regime:    precwatch.Regime(v.Get("regime")),
		Site:      strings.TrimSpace(v.Get("site")),
		Vendor:    strings.TrimSpace(v.Get("vendor")),
		Assignee:  strings.TrimSpace(v.Get("assignee")),
		Text:      strings.TrimSpace(v.Get("q")),
		Limit:     pageSize,
	}
	switch q.Status {
	case "", precwatch.StatusNew, precwatch.StatusTriaged, precwatch.StatusEscalated, precwatch.StatusDismissed:
	default:
		return q, errorf(EINVALID, "unknown status %q", q.Status)
	}
	if sv := v.Get("severity"); sv != "" {
		s, err := precwatch.ParseSeverity(sv)
		if err != nil {
			return q, errorf(EINVALID, "unknown severity %q", sv)
		}
		q.MinSeverity = s
	}
	for _, d := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"since", &q.Since, false}, {"until", &q.Until, true}} {
		s := v.Get(d.name)
		if s == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return q, errorf(EINVALID, "%s: want a date as YYYY-MM-DD", d.name)
		}
		if d.end { // until is inclusive of the whole day
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		*d.dst = t
	}
	for _, n := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"offset", &q.Offset, 0, 1 << 30}, {"limit", &q.Limit, 1, 500}} {
		s := v.Get(n.name)
		if s == "" {
			continue
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < n.min || i > n.max {
			return q, errorf(EINVALID, "%s: want a number from %d to %d", n.name, n.min, n.max)
		}
		*n.dst = i
	}
	return q, nil
}

// queryValues is the inverse of parseQuery, without paging.
func queryValues(q precwatch.AlertQuery) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("status", string(q.Status))
	if q.MinSeverity > precwatch.SeverityNone {
		set("severity", q.MinSeverity.String())
	}
	set("substance", q.Substance)
	set("regime", string(q.Regime))
	set("site", q.Site)
	set("vendor", q.Vendor)
	set("assignee", q.Assignee)
	set("q", q.Text)
	if !q.Since.IsZero() {
		set("since", q.Since.UTC().Format("2006-01-02"))
	}
	if !q.Until.IsZero() {
		set("until", q.Until.UTC().Format("2006-01-02"))
	}
	return v
}

// queueView is the queue page.
type queueView struct {
	Query    precwatch.AlertQuery
	Filter   url.Values
	Page     precwatch.AlertPage
	From, To int
	Prev     string // URL of the previous page, empty on the first
	Next     string
	First    string // URL of the first page, when this one is past the last
	Statuses []precwatch.AlertStatus
	Sevs     []precwatch.Severity
	Regimes  []precwatch.Regime
	// Substances and Sites are offered in the substance and site filters,
	// which match exactly: a substance's ID (not its name) and a site's
	// name as configured.
	Substances []precwatch.Substance
	Sites      []string
}

func (queueView) PageTitle() string { return "Alert queue" }

func (v queueView) Value(k string) string { return v.Filter.Get(k) }

func (s *Server) queuePage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := s.store.QueryAlerts(r.Context(), q)
	if err != nil {
		return err
	}
	v := queueView{
		Query: q, Filter: queryValues(q), Page: page,
		Statuses: []precwatch.AlertStatus{precwatch.StatusNew, precwatch.StatusTriaged, precwatch.StatusEscalated, precwatch.StatusDismissed},
		Sevs:     []precwatch.Severity{precwatch.SeverityLow, precwatch.SeverityMedium, precwatch.SeverityHigh, precwatch.SeverityCritical},
		Regimes:  []precwatch.Regime{precwatch.RegimeEUAnnexI, precwatch.RegimeEUAnnexII, precwatch.RegimeCWC1, precwatch.RegimeCWC2, precwatch.RegimeCWC3},
	}
	if len(page.Alerts) > 0 {
		v.From, v.To = q.Offset+1, q.Offset+len(page.Alerts)
	}
	if s.wl != nil {
		active, _, err := s.wl.Active(r.Context())
		if err != nil {
			return err
		}
		v.Substances = active.Substances
	}
	if v.Sites, err = s.siteNames(r.Context()); err != nil {
		return err
	}
	pageURL := func(off int) string {
		u := queryValues(q)
		if off > 0 {
			u.Set("offset", strconv.Itoa(off))
		}
		if q.Limit != pageSize {
			u.Set("limit", strconv.Itoa(q.Limit))
		}
		return "/alerts?" + u.Encode()
	}
	if q.Offset > 0 {
		v.Prev = pageURL(max(0, q.Offset-q.Limit))
	}
	if len(page.Alerts) == 0 && page.Total > 0 {
		v.First = pageURL(0)
	}
	if q.Offset+len(page.Alerts) < page.Total {
		v.Next = pageURL(q.Offset + q.Limit)
	}
	s.render(w, r, http.StatusOK, "queue", v)
	return nil
}

// apiAlerts is the queue as JSON: the same filters, an AlertPage.
func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := s.store.QueryAlerts(r.Context(), q)
	if err != nil {
		return err
	}
	if page.Alerts == nil {
		page.Alerts = []precwatch.Alert{}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
