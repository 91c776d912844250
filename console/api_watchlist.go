package console

import (
	"net/http"

	"github.com/precwatch/precwatch"
)

func (s *Server) apiWatchlist(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	active, version, err := wl.Active(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": version, "watchlist": active})
	return nil
}

func (s *Server) apiWatchlistValidate(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	var in precwatch.Watchlist
	if err := readJSON(r, &in); err != nil {
		return err
	}
	errs := wl.Validate(&in)
	if errs == nil {
		errs = []FieldError{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": len(errs) == 0, "errors": errs})
	return nil
}

// apiWatchlistPreview previews a valid watchlist; an invalid one is 400
// EINVALID with its field errors.
func (s *Server) apiWatchlistPreview(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	var in precwatch.Watchlist
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if errs := wl.Validate(&in); len(errs) > 0 {
		return &Error{Code: EINVALID, Message: "the watchlist is not valid", Fields: errs}
	}
	p, err := wl.Preview(r.Context(), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p.orEmpty())
	return nil
}

// orEmpty is p with empty lists instead of null ones, for JSON clients.
func (p Preview) orEmpty() Preview {
	if p.Added == nil {
		p.Added = []PreviewHit{}
	}
	if p.Removed == nil {
		p.Removed = []PreviewHit{}
	}
	return p
}

// apiWatchlistApply saves and applies a watchlist. base_version, when not
// zero, must be the active version, so two analysts do not overwrite each
// other unknowingly.
func (s *Server) apiWatchlistApply(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	var in struct {
		Watchlist   *precwatch.Watchlist `json:"watchlist"`
		Comment     string               `json:"comment"`
		BaseVersion int                  `json:"base_version"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.Watchlist == nil {
		return errorf(EINVALID, "watchlist: required")
	}
	if in.Comment == "" {
		return &Error{Code: EINVALID, Message: "a comment is required", Fields: []FieldError{{Field: "comment", Message: "required"}}}
	}
	if _, _, err := activeAt(r.Context(), wl, baseParam(in.BaseVersion)); err != nil {
		return err
	}
	n, err := s.applyWatchlist(r.Context(), wl, in.Watchlist, u, in.Comment, "watchlist.apply")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"version": n})
	return nil
}

func (s *Server) apiVersions(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	if _, err := s.watchlists(); err != nil {
		return err
	}
	vs, err := s.store.WatchlistVersions(r.Context())
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []precwatch.WatchlistVersion{}
	}
	writeJSON(w, http.StatusOK, vs)
	return nil
}

func (s *Server) apiVersion(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	n, err := pathVersion(r)
	if err != nil {
		return err
	}
	v, err := s.loadVersion(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) apiRollback(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	n, err := pathVersion(r)
	if err != nil {
		return err
	}
	saved, err := s.rollback(r.Context(), n, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"version": saved})
	return nil
}
