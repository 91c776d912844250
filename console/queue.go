package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
)

// pageSize is the queue's default page length.
const pageSize = 50

// parseQuery reads the queue's filters from URL parameters: status,
// severity (the minimum), substance, regime, site, vendor, assignee, since
// and until (dates, inclusive), q (full text), sort, offset and limit. An
// empty (or blank) parameter is the same as an absent one.
func parseQuery(v url.Values) (precwatch.AlertQuery, error) {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	q := precwatch.AlertQuery{
		Status:    precwatch.AlertStatus(get("status")),
		Substance: get("substance"),
		Regime:    precwatch.Regime(get("regime")),
		Site:      get("site"),
		Vendor:    get("vendor"),
		Assignee:  get("assignee"),
		Text:      get("q"),
		Sort:      precwatch.AlertSort(get("sort")),
		Limit:     pageSize,
	}
	switch q.Status {
	case "", precwatch.StatusNew, precwatch.StatusTriaged, precwatch.StatusEscalated, precwatch.StatusDismissed:
	default:
		return q, errorf(EINVALID, "unknown status %q", q.Status)
	}
	if sv := get("severity"); sv != "" {
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
		s := get(d.name)
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
		s := get(n.name)
		if s == "" {
			continue
		}
		i, err := strconv.Atoi(s)
		if err != nil || i < n.min || i > n.max {
			return q, errorf(EINVALID, "%s: want a number from %d to %d", n.name, n.min, n.max)
		}
		*n.dst = i
	}
	switch q.Sort {
	case "", precwatch.SortSeverity:
		q.Sort = "" // the default, left out of links
	case precwatch.SortNewest, precwatch.SortOldest, precwatch.SortSite:
		if limit, offset := q.Page(); offset+limit > precwatch.MaxSortDepth {
			return q, errorf(EINVALID, "sorted by %s, the queue pages %d alerts deep: narrow the filter, or sort by severity", q.Sort, precwatch.MaxSortDepth)
		}
	default:
		return q, errorf(EINVALID, "unknown sort %q: want severity, newest, oldest or site", q.Sort)
	}
	return q, nil
}

// sortOption is one order the queue offers.
type sortOption struct {
	Value precwatch.AlertSort // empty for the default
	Label string
}

// sortOptions are the queue's orders, as its sort control offers them.
var sortOptions = []sortOption{
	{"", "severity and score"},
	{precwatch.SortNewest, "newest first"},
	{precwatch.SortOldest, "oldest first"},
	{precwatch.SortSite, "site A–Z"},
}

// withoutEmpty reports whether r's query has an empty or blank parameter
// (a GET form sends every field), and the same URL without them; pages with
// filter forms redirect there so that the address, bookmarks and the links
// they build name only the filters in use.
func withoutEmpty(r *http.Request) (string, bool) {
	v := r.URL.Query()
	found := false
	for k, vs := range v {
		kept := slices.DeleteFunc(slices.Clone(vs), func(s string) bool { return strings.TrimSpace(s) == "" })
		if len(kept) == len(vs) {
			continue
		}
		found = true
		if len(kept) == 0 {
			delete(v, k)
		} else {
			v[k] = kept
		}
	}
	if !found {
		return "", false
	}
	return withQuery(r.URL.Path, v), true
}

// withQuery is path with v as its query, without a bare "?".
func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
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
	set("sort", string(q.Sort))
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
	Sorts      []sortOption
	// SortBy are the links of the sortable column headers, by column
	// (severity, site, raised): each keeps the filter, and Raised flips
	// between newest and oldest.
	SortBy map[string]string
	// DepthCapped is set on the last page an order other than the default
	// reaches (precwatch.MaxSortDepth) when more alerts match.
	DepthCapped bool
}

func (queueView) PageTitle() string { return "Alert queue" }

func (v queueView) Value(k string) string { return v.Filter.Get(k) }

// SortLabel is the name of the page's order.
func (v queueView) SortLabel() string {
	for _, o := range v.Sorts {
		if o.Value == v.Query.Sort {
			return o.Label
		}
	}
	return string(v.Query.Sort)
}

// AriaSort is the aria-sort value of a sortable column header.
func (v queueView) AriaSort(col string) string {
	switch {
	case col == "severity" && v.Query.Sort == "", col == "raised" && v.Query.Sort == precwatch.SortNewest:
		return "descending"
	case col == "site" && v.Query.Sort == precwatch.SortSite, col == "raised" && v.Query.Sort == precwatch.SortOldest:
		return "ascending"
	}
	return "none"
}

func (s *Server) queuePage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	if to, ok := withoutEmpty(r); ok {
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
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
		Sorts:    sortOptions,
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
	pageURL := func(q precwatch.AlertQuery, off int) string {
		u := queryValues(q)
		if off > 0 {
			u.Set("offset", strconv.Itoa(off))
		}
		if q.Limit != pageSize {
			u.Set("limit", strconv.Itoa(q.Limit))
		}
		return withQuery("/alerts", u)
	}
	sortURL := func(by precwatch.AlertSort) string {
		sq := q
		sq.Sort, sq.Offset = by, 0
		return pageURL(sq, 0)
	}
	raised := precwatch.SortNewest
	if q.Sort == precwatch.SortNewest {
		raised = precwatch.SortOldest
	}
	v.SortBy = map[string]string{"severity": sortURL(""), "site": sortURL(precwatch.SortSite), "raised": sortURL(raised)}
	if q.Offset > 0 {
		v.Prev = pageURL(q, max(0, q.Offset-q.Limit))
	}
	if len(page.Alerts) == 0 && page.Total > 0 {
		v.First = pageURL(q, 0)
	}
	if next := q.Offset + q.Limit; q.Offset+len(page.Alerts) < page.Total {
		if q.Sort == "" || next+q.Limit <= precwatch.MaxSortDepth {
			v.Next = pageURL(q, next)
		} else {
			v.DepthCapped = true
		}
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
