package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/stixmisp"
)

// handlerFunc is a console handler: u is the signed-in user (nil on public
// routes); a returned error is answered by Server.fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request, u *precwatch.User) error

// route is one entry of the permission table.
type route struct {
	pattern string
	// roles may use the route (admin always may); nil means no session is
	// needed.
	roles  []precwatch.Role
	handle handlerFunc
}

// Who may do what. A role not listed gets 403 before the handler runs.
var (
	signedIn      = []precwatch.Role{precwatch.RoleInvestigator, precwatch.RoleAnalyst, precwatch.RoleOperator, precwatch.RoleAdmin}
	investigators = []precwatch.Role{precwatch.RoleInvestigator}
	analysts      = []precwatch.Role{precwatch.RoleAnalyst}
	operators     = []precwatch.Role{precwatch.RoleOperator}
	admins        = []precwatch.Role{precwatch.RoleAdmin}
)

// table is the permission table: every route, and which roles may call it.
// Pages and the API share it, so a role is held to the same rules whichever
// it uses.
func (s *Server) table() []route {
	return []route{
		{"GET /login", nil, s.loginPage},
		{"POST /login", nil, s.loginSubmit},
		{"POST /api/login", nil, s.apiLogin},
		{"GET /static/{file...}", nil, s.serveStatic},
		{"GET /healthz", nil, s.healthz},

		{"GET /{$}", signedIn, s.home},
		{"POST /logout", signedIn, s.logout},
		{"POST /api/logout", signedIn, s.logout},
		{"GET /api/me", signedIn, s.apiMe},

		// Investigators: the alert queue, evidence and exports.
		{"GET /alerts", investigators, s.queuePage},
		{"GET /alerts/{key}", investigators, s.alertPage},
		{"POST /alerts/{key}/actions", investigators, s.alertActionForm},
		// A refused action is shown at the form's URL; opening it again
		// (Enter in the address bar, a bookmark) goes to the alert.
		{"GET /alerts/{key}/actions", investigators, s.alertActionsGet},
		{"GET /api/alerts", investigators, s.apiAlerts},
		{"GET /api/alerts/{key}", investigators, s.apiAlert},
		{"POST /api/alerts/{key}/actions", investigators, s.apiAlertAction},
		{"GET /api/alerts/{key}/page", investigators, s.downloadPage},
		{"GET /alerts/{key}/page", investigators, s.pageSource},
		{"GET /api/alerts/{key}/bundle.zip", investigators, s.evidenceBundle},
		{"GET /api/export", investigators, s.export},
		{"GET /api/alerts/{key}/misp.json", investigators, s.alertInterchange(stixmisp.FormatMISP)},
		{"GET /api/alerts/{key}/stix.json", investigators, s.alertInterchange(stixmisp.FormatSTIX)},
		// Vendor profiles (issue 11): ?site=&handle=.
		{"GET /vendor", investigators, s.vendorPage},
		{"GET /api/vendor", investigators, s.apiVendor},

		// Analysts: the watchlist.
		{"GET /watchlist", analysts, s.watchlistPage},
		{"GET /watchlist/substances/{id}", analysts, s.substancePage},
		{"POST /watchlist/substances/{id}", analysts, s.substanceSubmit},
		{"GET /watchlist/versions", analysts, s.versionsPage},
		{"GET /watchlist/versions/{version}", analysts, s.versionPage},
		{"POST /watchlist/versions/{version}/rollback", analysts, s.rollbackForm},
		{"GET /watchlist/suppressions", analysts, s.suppressionsPage},
		{"POST /watchlist/suppressions", analysts, s.suppressionsSubmit},
		{"GET /api/watchlist", analysts, s.apiWatchlist},
		{"POST /api/watchlist/suppressions", analysts, s.apiSuppress},
		{"POST /api/watchlist/suppressions/{index}/lift", analysts, s.apiUnsuppress},
		{"POST /api/watchlist/validate", analysts, s.apiWatchlistValidate},
		{"POST /api/watchlist/preview", analysts, s.apiWatchlistPreview},
		{"POST /api/watchlist", analysts, s.apiWatchlistApply},
		{"GET /api/watchlist/versions", analysts, s.apiVersions},
		{"GET /api/watchlist/versions/{version}", analysts, s.apiVersion},
		{"POST /api/watchlist/versions/{version}/rollback", analysts, s.apiRollback},

		// Operators: sites and runs.
		{"GET /sites", operators, s.sitesPage},
		{"GET /sites/{site}", operators, s.sitePage},
		{"POST /sites/{site}/{op}", operators, s.siteControlForm},
		{"GET /api/sites", operators, s.apiSites},
		{"GET /api/sites/{site}/runs", operators, s.apiRuns},
		{"POST /api/sites/{site}/{op}", operators, s.apiSiteControl},
		// Sessions (issue 8): a site's cookie jar.
		{"POST /sites/{site}/session", operators, s.sessionImportForm},
		{"POST /sites/{site}/session/clear", operators, s.sessionClearForm},
		{"GET /api/sites/{site}/session", operators, s.apiSession},
		{"POST /api/sites/{site}/session", operators, s.apiSessionImport},
		{"POST /api/sites/{site}/session/clear", operators, s.apiSessionClear},
		// Delivery (issue 11): the webhook delivery log.
		{"GET /deliveries", operators, s.deliveriesPage},
		{"GET /api/deliveries", operators, s.apiDeliveries},

		// Admins: accounts and the audit log.
		{"GET /admin/audit", admins, s.auditPage},
		{"GET /admin/users", admins, s.usersPage},
		{"POST /admin/users", admins, s.userCreateForm},
		{"POST /admin/users/{name}", admins, s.userUpdateForm},
		{"GET /api/audit", admins, s.apiAudit},
		{"GET /api/users", admins, s.apiUsers},
		{"POST /api/users", admins, s.apiUserCreate},
		{"POST /api/users/{name}", admins, s.apiUserUpdate},
	}
}

// routes builds the handler: security headers on everything, cross-origin
// protection on every state-changing request, then the permission check.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.table() {
		mux.Handle(rt.pattern, s.guard(rt))
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errorf(ENOTFOUND, "no such page"))
	}))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errorf(EFORBIDDEN, "cross-origin request refused"))
	}))
	return securityHeaders(cop.Handler(mux))
}

// guard wraps one route: form posts must come from the console's own
// pages, the session must be valid and the role allowed.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := requireSameOrigin(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		var u *precwatch.User
		if rt.roles != nil {
			var err error
			if u, err = s.authenticate(r); err != nil {
				s.fail(w, r, err)
				return
			}
			if !allows(rt.roles, u.Role) {
				s.fail(w, r, errorf(EFORBIDDEN, "the %s role may not do this", u.Role))
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
		}
		if err := rt.handle(w, r, u); err != nil {
			s.fail(w, r, err)
		}
	})
}

type userKey struct{}

// requireSameOrigin demands positive proof that a state-changing request
// comes from the console's own origin. CrossOriginProtection already
// refuses cross-site browser requests; this also refuses form posts that
// carry neither Sec-Fetch-Site nor Origin. JSON API posts must be
// application/json, which no cross-site form can send without a CORS
// preflight that the console never answers.
func requireSameOrigin(r *http.Request) error {
	if isAPI(r) {
		if r.Body != nil && r.ContentLength != 0 {
			ct := r.Header.Get("Content-Type")
			if i := strings.IndexByte(ct, ';'); i >= 0 {
				ct = ct[:i]
			}
			if !strings.EqualFold(strings.TrimSpace(ct), "application/json") {
				return errorf(EINVALID, "the API takes application/json")
			}
		}
		return nil
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return nil
	case "":
	default:
		return errorf(EFORBIDDEN, "cross-origin request refused")
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return errorf(EFORBIDDEN, "form posts must come from the console's pages")
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != r.Host {
		return errorf(EFORBIDDEN, "cross-origin request refused")
	}
	return nil
}

// securityHeaders sets the headers every response carries: a CSP allowing
// the console's own scripts, styles and images only, no framing, no
// sniffing and no referrer (which would tell a site an analyst clicked);
// over TLS, HSTS, so that a browser never falls back to plain HTTP (never
// over plain HTTP, where an attacker could forge it).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age="+strconv.Itoa(hstsMaxAge))
		}
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// hstsMaxAge is a year, in seconds. No includeSubDomains: other services
// may share the console's domain.
const hstsMaxAge = 365 * 24 * 3600

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("ok\n"))
	return err
}

// home sends each role to its main page.
func (s *Server) home(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	http.Redirect(w, r, landing(u.Role), http.StatusSeeOther)
	return nil
}

func landing(role precwatch.Role) string {
	switch role {
	case precwatch.RoleAnalyst:
		return "/watchlist"
	case precwatch.RoleOperator:
		return "/sites"
	}
	return "/alerts"
}
