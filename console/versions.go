package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/precwatch/precwatch"
)

// versionsView lists the saved watchlist versions.
type versionsView struct {
	Active   int
	Versions []precwatch.WatchlistVersion
}

func (versionsView) PageTitle() string { return "Watchlist versions" }

func (s *Server) versionsPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	wl, err := s.watchlists()
	if err != nil {
		return err
	}
	_, active, err := wl.Active(r.Context())
	if err != nil {
		return err
	}
	vs, err := s.store.WatchlistVersions(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "versions", versionsView{Active: active, Versions: vs})
	return nil
}

// versionView is one version and what it changed from the one before.
type versionView struct {
	Meta     precwatch.WatchlistVersion `json:"version"`
	Active   int                        `json:"active"`
	Previous int                        `json:"previous"`
	Diff     []precwatch.SubstanceDiff  `json:"diff"`
}

func (v *versionView) PageTitle() string { return fmt.Sprintf("Watchlist version %d", v.Meta.Version) }

func pathVersion(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		return 0, errorf(EINVALID, "version: want a positive number")
	}
	return n, nil
}

// loadVersion diffs version n against version n-1 (the empty watchlist for
// the first).
func (s *Server) loadVersion(ctx context.Context, n int) (*versionView, error) {
	wl, err := s.watchlists()
	if err != nil {
		return nil, err
	}
	meta, err := s.store.WatchlistVersion(ctx, n)
	if err != nil {
		return nil, err
	}
	meta.Data = nil
	cur, err := wl.Load(ctx, n)
	if err != nil {
		return nil, err
	}
	var prev *precwatch.Watchlist
	v := &versionView{Meta: meta}
	if n > 1 {
		if prev, err = wl.Load(ctx, n-1); err != nil {
			return nil, err
		}
		v.Previous = n - 1
	}
	if _, v.Active, err = wl.Active(ctx); err != nil {
		return nil, err
	}
	v.Diff = precwatch.DiffWatchlists(prev, cur)
	if v.Diff == nil {
		v.Diff = []precwatch.SubstanceDiff{}
	}
	return v, nil
}

func (s *Server) versionPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	n, err := pathVersion(r)
	if err != nil {
		return err
	}
	v, err := s.loadVersion(r.Context(), n)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "version", v)
	return nil
}

// rollback puts version n in force again, as a new version.
func (s *Server) rollback(ctx context.Context, n int, u *precwatch.User) (int, error) {
	wl, err := s.watchlists()
	if err != nil {
		return 0, err
	}
	w, err := wl.Load(ctx, n)
	if err != nil {
		return 0, err
	}
	return s.applyWatchlist(ctx, wl, w, u, fmt.Sprintf("rollback to version %d", n), "watchlist.rollback")
}

func (s *Server) rollbackForm(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	n, err := pathVersion(r)
	if err != nil {
		return err
	}
	saved, err := s.rollback(r.Context(), n, u)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/watchlist?saved=%d#saved", saved), http.StatusSeeOther)
	return nil
}
