package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
)

// Sessions (issue 8): a site's cookie jar on its page. Operators import
// cookies copied from Tor Browser (a Cookie header or a cookies.txt export)
// and clear them; what is shown is names, domains, paths and expiry, never
// a value. Forms are guarded like every console form (same-origin posts).

// maxSessionImport bounds an imported cookies text.
const maxSessionImport = 1 << 20

// sessionInfo is a site's session as shown: cookies carry no value in
// JSON (precwatch.Cookie hides it) and the template names no value field.
type sessionInfo struct {
	Cookies   []precwatch.Cookie `json:"cookies"`
	Source    string             `json:"source,omitempty"`
	By        string             `json:"by,omitempty"`
	UpdatedAt time.Time          `json:"updated_at,omitzero"`
}

func (s *Server) loadSession(ctx context.Context, site string) (*sessionInfo, error) {
	ss, err := s.store.SiteSession(ctx, site)
	if errors.Is(err, precwatch.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &sessionInfo{Cookies: ss.Cookies, Source: ss.Source, By: ss.By, UpdatedAt: ss.UpdatedAt}, nil
}

// importSession parses text in format ("header" or "cookies.txt") and
// saves the cookies meant for the site as its session.
func (s *Server) importSession(ctx context.Context, site, format, text string, u *precwatch.User) (int, error) {
	st, err := s.configuredSite(site)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(text) == "" {
		return 0, errorf(EINVALID, "paste a Cookie header or a cookies.txt export")
	}
	var cookies []precwatch.Cookie
	switch format {
	case "header":
		cookies, err = precwatch.ParseCookieHeader(strings.NewReader(text), st.Hosts())
	case "cookies.txt":
		cookies, err = precwatch.ParseCookiesTxt(strings.NewReader(text), s.now())
	default:
		return 0, errorf(EINVALID, "format: want header or cookies.txt")
	}
	if err != nil {
		return 0, err // ErrInvalid, naming the line, never a value
	}
	kept, dropped := precwatch.CookiesFor(cookies, st.Hosts())
	if len(kept) == 0 {
		return 0, errorf(EINVALID, "no unexpired cookie for %s (hosts %s)", site, strings.Join(st.Hosts(), ", "))
	}
	ss := precwatch.SiteSession{Site: site, Cookies: kept, Source: "import", By: u.Name, UpdatedAt: s.now()}
	if err := s.store.SaveSiteSession(ctx, ss); err != nil {
		return 0, err
	}
	s.audit(ctx, u.Name, "site.session_import", "site:"+site, fmt.Sprintf("%d cookies (%s); %d for other sites left out", len(kept), format, dropped))
	return len(kept), nil
}

func (s *Server) clearSession(ctx context.Context, site string, u *precwatch.User) error {
	if _, err := s.configuredSite(site); err != nil {
		return err
	}
	if err := s.store.SaveSiteSession(ctx, precwatch.SiteSession{Site: site}); err != nil {
		return err
	}
	s.audit(ctx, u.Name, "site.session_clear", "site:"+site, "")
	return nil
}

// configuredSite returns the scheduler's site: its hosts decide which
// cookies belong to it.
func (s *Server) configuredSite(name string) (precwatch.Site, error) {
	if s.op == nil {
		return precwatch.Site{}, errorf(EINVALID, "no scheduler is attached to this console; sites are read-only")
	}
	i := slices.IndexFunc(s.op.Sites(), func(st precwatch.Site) bool { return st.Name == name })
	if i < 0 {
		return precwatch.Site{}, errorf(ENOTFOUND, "no site %q", name)
	}
	return s.op.Sites()[i], nil
}

func (s *Server) sessionImportForm(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxSessionImport)
	if err := r.ParseForm(); err != nil {
		return errorf(EINVALID, "unreadable form (at most %d bytes)", maxSessionImport)
	}
	site := r.PathValue("site")
	n, err := s.importSession(r.Context(), site, r.PostFormValue("format"), r.PostFormValue("cookies"), u)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/sites/%s?imported=%d", url.PathEscape(site), n), http.StatusSeeOther)
	return nil
}

func (s *Server) sessionClearForm(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	site := r.PathValue("site")
	if err := s.clearSession(r.Context(), site, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/sites/"+url.PathEscape(site)+"?cleared=1", http.StatusSeeOther)
	return nil
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	site := r.PathValue("site")
	if _, err := s.loadSite(r.Context(), site); err != nil {
		return err
	}
	info, err := s.loadSession(r.Context(), site)
	if err != nil {
		return err
	}
	if info == nil {
		info = &sessionInfo{Cookies: []precwatch.Cookie{}}
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) apiSessionImport(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	var in struct {
		Format string `json:"format"`
		Text   string `json:"text"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	n, err := s.importSession(r.Context(), r.PathValue("site"), in.Format, in.Text, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"imported": n})
	return nil
}

func (s *Server) apiSessionClear(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	if err := s.clearSession(r.Context(), r.PathValue("site"), u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
