package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/precwatch/precwatch"
)

// proxyTimeout bounds each proxy check of the sites page.
const proxyTimeout = 3 * time.Second

// siteRow is one site on the sites page.
type siteRow struct {
	Name     string         `json:"name"`
	Schedule string         `json:"schedule"`
	Tor      bool           `json:"tor"`
	Proxy    string         `json:"proxy,omitempty"`
	LastRun  *precwatch.Run `json:"last_run,omitempty"`
	Next     time.Time      `json:"next,omitzero"`
	// ProxyOK is nil when the site has no proxy or was not checked.
	ProxyOK    *bool     `json:"proxy_ok,omitempty"`
	ProxyError string    `json:"proxy_error,omitempty"`
	Paused     bool      `json:"paused"`
	PausedBy   string    `json:"paused_by,omitempty"`
	PausedAt   time.Time `json:"paused_at,omitzero"`
	// Mirrors (issue 8): each origin's last success and latency.
	Mirrors []mirrorRow `json:"mirrors,omitempty"`
}

// ProxyState is "answers", "down" or "" (no proxy, or not checked).
func (r siteRow) ProxyState() string {
	switch {
	case r.ProxyOK == nil:
		return ""
	case *r.ProxyOK:
		return "answers"
	}
	return "down"
}

// sitesView is the sites page.
type sitesView struct {
	Sites    []siteRow
	Controls bool // a scheduler is attached: start, pause and resume work
	Rejected *reloadProblem
}

func (sitesView) PageTitle() string { return "Sites" }

// loadSites builds the rows: from the scheduler when there is one (with
// proxy checks run in parallel), else from the sites of the stored runs.
func (s *Server) loadSites(ctx context.Context, checkProxies bool) ([]siteRow, error) {
	states, err := s.store.SiteStates(ctx)
	if err != nil {
		return nil, err
	}
	var rows []siteRow
	var sites []precwatch.Site
	if s.op != nil {
		sites = s.op.Sites()
		for _, st := range sites {
			rows = append(rows, siteRow{Name: st.Name, Schedule: st.Schedule, Tor: st.IsTor(), Proxy: redactProxy(st.ProxyURL()), Next: s.op.Next(st.Name)})
		}
	} else {
		runs, err := s.store.Runs(ctx, "", 1000)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, r := range runs {
			if !seen[r.Site] {
				seen[r.Site] = true
				rows = append(rows, siteRow{Name: r.Site})
			}
		}
		slices.SortFunc(rows, func(a, b siteRow) int { return strings.Compare(a.Name, b.Name) })
	}
	var wg sync.WaitGroup
	errs := make([]error, len(rows))
	for i := range rows {
		row := &rows[i]
		if st, ok := states[row.Name]; ok {
			row.Paused, row.PausedBy, row.PausedAt = st.Paused, st.By, st.At
		}
		wg.Go(func() {
			// A few runs: the latest may be running, with no mirrors yet.
			runs, err := s.store.Runs(ctx, row.Name, 5)
			if err != nil {
				errs[i] = err
				return
			}
			redactRuns(runs)
			if len(runs) > 0 {
				row.LastRun = &runs[0]
			}
			row.Mirrors = mirrorRows(runs)
		})
		if checkProxies && sites != nil && sites[i].ProxyURL() != "" {
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, proxyTimeout)
				defer cancel()
				err := s.op.ProxyCheck(cctx, sites[i])
				ok := err == nil
				row.ProxyOK = &ok
				if err != nil {
					row.ProxyError = "no answer"
					if errors.Is(err, context.DeadlineExceeded) {
						row.ProxyError = "timed out"
					}
					s.logger.WarnContext(ctx, "proxy check failed", "site", row.Name, "error", err)
				}
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rows, nil
}

// redactProxy drops credentials from a proxy URL before it is shown.
func redactProxy(p string) string {
	if i := strings.Index(p, "://"); i >= 0 {
		if at := strings.LastIndexByte(p[i+3:], '@'); at >= 0 {
			return p[:i+3] + "…@" + p[i+3+at+1:]
		}
	}
	return p
}

func (s *Server) sitesPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	rows, err := s.loadSites(r.Context(), true)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "sites", sitesView{Sites: rows, Controls: s.op != nil, Rejected: s.rejectedReloadSince(r.Context())})
	return nil
}

func (s *Server) apiSites(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	rows, err := s.loadSites(r.Context(), r.URL.Query().Get("proxy") != "0")
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []siteRow{}
	}
	writeJSON(w, http.StatusOK, rows)
	return nil
}

// siteView is one site's runs.
type siteView struct {
	Site     siteRow
	Runs     []precwatch.Run
	Controls bool
	Started  bool
	// Follow is what became of the run "Start now" asked for, while the
	// page follows it.
	Follow runFollow

	// Sessions (issue 8): the site's cookie jar (no values) and what the
	// last import or clear did.
	Session  *sessionInfo
	Imported string
	Cleared  bool
}

func (v *siteView) PageTitle() string { return "Site " + v.Site.Name }

// loadSite returns the row of one site and its latest runs.
func (s *Server) loadSite(ctx context.Context, name string) (*siteView, error) {
	rows, err := s.loadSites(ctx, false)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(rows, func(r siteRow) bool { return r.Name == name })
	if i < 0 {
		return nil, errorf(ENOTFOUND, "no site %q", name)
	}
	runs, err := s.store.Runs(ctx, name, 50)
	if err != nil {
		return nil, err
	}
	redactRuns(runs)
	return &siteView{Site: rows[i], Runs: runs, Controls: s.op != nil}, nil
}

// runFollow is the state of a run started from the console: Requested
// when it was asked for (zero if unknown), Run the run that began since
// (nil while none has), Refresh how often the page reloads (0: no more).
type runFollow struct {
	Requested time.Time
	Run       *precwatch.Run
	Refresh   int
	GaveUp    bool // no run has shown within followFor
}

// followFor is how long the site page waits for a requested run to show.
const followFor = 2 * time.Minute

// followRun finds the run started at or after the Unix time started (runs
// newest first, as the store lists them) and says whether the page should
// keep reloading: every 3 s until the run shows, every 5 s while it runs.
func followRun(started string, runs []precwatch.Run, now time.Time) runFollow {
	sec, err := strconv.ParseInt(started, 10, 64)
	if err != nil || sec < 1e9 {
		return runFollow{} // an old link (started=1): say only that it was
	}
	f := runFollow{Requested: time.Unix(sec, 0).UTC()}
	for i := range runs {
		// A second's slack: the URL holds whole seconds.
		if !runs[i].Start.Before(f.Requested.Add(-time.Second)) {
			f.Run = &runs[i] // the oldest of those, as the list is newest first
		}
	}
	switch {
	case f.Run != nil && f.Run.Status == precwatch.RunRunning:
		f.Refresh = 5
	case f.Run != nil:
	case now.Sub(f.Requested) < followFor:
		f.Refresh = 3
	default:
		f.GaveUp = true
	}
	return f
}

func (s *Server) sitePage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadSite(r.Context(), r.PathValue("site"))
	if err != nil {
		return err
	}
	if started := r.URL.Query().Get("started"); started != "" {
		v.Started = true
		if v.Follow = followRun(started, v.Runs, s.now()); v.Follow.Refresh > 0 {
			// Reloads the page, no script needed, until the run shows.
			w.Header().Set("Refresh", strconv.Itoa(v.Follow.Refresh))
		}
	}
	if v.Session, err = s.loadSession(r.Context(), v.Site.Name); err != nil {
		return err
	}
	v.Imported, v.Cleared = r.URL.Query().Get("imported"), r.URL.Query().Get("cleared") != ""
	s.render(w, r, http.StatusOK, "site", v)
	return nil
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadSite(r.Context(), r.PathValue("site"))
	if err != nil {
		return err
	}
	if v.Runs == nil {
		v.Runs = []precwatch.Run{}
	}
	writeJSON(w, http.StatusOK, v.Runs)
	return nil
}

// controlSite starts, pauses or resumes a site.
func (s *Server) controlSite(ctx context.Context, site, op string, u *precwatch.User) error {
	if s.op == nil {
		return errorf(EINVALID, "no scheduler is attached to this console; sites are read-only")
	}
	if !slices.ContainsFunc(s.op.Sites(), func(st precwatch.Site) bool { return st.Name == site }) {
		return errorf(ENOTFOUND, "no site %q", site)
	}
	switch op {
	case "start":
		if err := s.op.Start(site); err != nil {
			if e := userError(err); e.Code != EINTERNAL {
				return err
			}
			s.logger.WarnContext(ctx, "start run failed", "site", site, "error", err)
			return errorf(ECONFLICT, "a run of %s could not be started: is one already running?", site)
		}
	case "pause", "resume":
		st := precwatch.SiteState{Site: site, Paused: op == "pause", By: u.Name, At: s.now()}
		if err := s.store.SetSiteState(ctx, st); err != nil {
			return err
		}
	default:
		return errorf(ENOTFOUND, "no operation %q (want start, pause or resume)", op)
	}
	s.audit(ctx, u.Name, "site."+op, "site:"+site, "")
	return nil
}

func (s *Server) siteControlForm(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	site, op := r.PathValue("site"), r.PathValue("op")
	if err := s.controlSite(r.Context(), site, op, u); err != nil {
		return err
	}
	to := "/sites/" + url.PathEscape(site)
	if op == "start" { // the site page follows the run from then on
		to += "?started=" + strconv.FormatInt(s.now().Unix(), 10)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (s *Server) apiSiteControl(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	if err := s.controlSite(r.Context(), r.PathValue("site"), r.PathValue("op"), u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
