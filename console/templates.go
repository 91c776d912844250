package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the pages; each is parsed with the layout.
var pageNames = []string{
	"login", "error", "queue", "alert", "watchlist", "substance", "suppressions", "versions", "version",
	"sites", "site", "audit", "users", "vendor",
	"deliveries", // Delivery (issue 11)
	"source",
}

// parseTemplates parses every page once, at startup.
func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"static":       s.static.url,
		"time":         formatTime,
		"date":         func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"price":        formatPrice,
		"percent":      formatPercent,
		"score":        formatScore,
		"join":         strings.Join,
		"sevClass":     func(sv precwatch.Severity) string { return "sev sev-" + sv.String() },
		"maxSortDepth": func() string { return groupThousands(precwatch.MaxSortDepth) },
		"can": func(u *precwatch.User, role string) bool {
			return u != nil && allows([]precwatch.Role{precwatch.Role(role)}, u.Role)
		},
		"add":    func(a, b int) int { return a + b },
		"plural": plural,
		"lead":   leadMatch,
		"upper":  strings.ToUpper,
		"short":  func(s string) string { return s[:min(12, len(s))] },
		// duration is a wait rounded for people.
		"duration": func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() },
		"yesno": func(b *bool) string {
			switch {
			case b == nil:
				return "–"
			case *b:
				return "yes"
			}
			return "no"
		},
	}
	funcs["vendorURL"], funcs["kindLabel"] = vendorURL, precwatch.KindLabel // vendor profiles (issue 11)
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// pageData is what every page gets: the user for the menu, and the page's
// own view.
type pageData struct {
	User  *precwatch.User
	Title string
	View  any
	// Nav is the header link of the section the page is in, marked as the
	// current page.
	Nav string
}

// navLinks are the header's links, longest first so that a page under
// /watchlist/versions is in Versions, not Watchlist.
var navLinks = []string{"/watchlist/suppressions", "/watchlist/versions", "/admin/users", "/admin/audit", "/deliveries", "/watchlist", "/alerts", "/sites"}

// navFor is the header link a page at path belongs to, "" when none.
func navFor(path string) string {
	for _, l := range navLinks {
		if path == l || strings.HasPrefix(path, l+"/") {
			return l
		}
	}
	return ""
}

// titled is implemented by views with their own page title.
type titled interface{ PageTitle() string }

// render executes a page into a buffer first, so that a template error
// becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, view any) {
	t, ok := s.pages[name]
	if !ok {
		panic("console: no template " + name)
	}
	u, _ := r.Context().Value(userKey{}).(*precwatch.User)
	d := pageData{User: u, View: view, Title: name, Nav: navFor(r.URL.Path)}
	if tv, ok := view.(titled); ok {
		d.Title = tv.PageTitle()
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		s.logger.ErrorContext(r.Context(), "render failed", "template", name, "error", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func formatPrice(p float64, currency string) string {
	if s := precwatch.FormatPrice(p, currency); s != "" {
		return s
	}
	return "–"
}

// plural picks the word for a count: "1 alert", "2 alerts".
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func formatPercent(p *float64) string {
	if p == nil {
		return "–"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64) + "%"
}

// staticFiles are the embedded assets, served under URLs that hold their
// checksum so that they can be cached for ever.
type staticFiles struct {
	files map[string]staticFile // by name
}

type staticFile struct {
	sum   string
	body  []byte
	ctype string
}

func loadStatic() (*staticFiles, error) {
	sf := &staticFiles{files: map[string]staticFile{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		sf.files[name] = staticFile{sum: hex.EncodeToString(h[:])[:16], body: b, ctype: mime.TypeByExtension(path.Ext(name))}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static: %w", err)
	}
	return sf, nil
}

// url is the checksum URL of an asset; templates call it as {{static "app.css"}}.
func (sf *staticFiles) url(name string) (string, error) {
	f, ok := sf.files[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + f.sum + "/" + name, nil
}

// serveStatic answers /static/{sum}/{name}; a stale checksum is a 404, so a
// page never runs a script it was not built with.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	sum, name, ok := strings.Cut(r.PathValue("file"), "/")
	f, found := s.static.files[name]
	if !ok || !found || f.sum != sum {
		return errorf(ENOTFOUND, "no such file")
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, err := w.Write(f.body)
	return err
}

// readJSON decodes a JSON request body of at most 2 MiB into v.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 2<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(EINVALID, "bad JSON body: %v", err)
	}
	return nil
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formatScore shows a score as the CSV export and the API give it: the
// matcher rounds scores to one decimal, so 68.5 is not shown as 68.
func formatScore(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}
