package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
)

// auditView is a page of the audit log and the filters that chose it.
type auditView struct {
	Entries []precwatch.AuditEntry
	Query   url.Values
	// Next and First link to the next (older) page and back to the first.
	Next, First string
	Actions     []string
}

func (auditView) PageTitle() string { return "Audit log" }

// Value is the query's value of a filter, for the form.
func (v auditView) Value(key string) string { return v.Query.Get(key) }

// auditActions are the actions the console writes, offered by the filter.
var auditActions = []string{
	"login", "login_failed", "login_failed_unknown", "login_throttled", "logout",
	"user.create", "user.disable", "user.enable", "user.role", "user.password",
	"alert.claim", "alert.unclaim", "alert.status", "alert.note", "alerts.export", "evidence.page", "evidence.bundle",
	"watchlist.apply", "watchlist.rollback", "watchlist.suppress", "watchlist.unsuppress",
	"site.pause", "site.resume", "site.start",
}

// auditQuery reads the audit log's filters from a URL query: actor,
// action, outcome (ok or failed), since and until (RFC 3339, or a form's
// date and time or date, read as UTC; an until date includes its day),
// before (a page's next) and limit.
func auditQuery(v url.Values) (precwatch.AuditQuery, error) {
	q := precwatch.AuditQuery{Actor: v.Get("actor"), Action: v.Get("action"), Outcome: v.Get("outcome")}
	var err error
	if q.Since, err = parseAuditTime(v.Get("since"), false); err != nil {
		return q, errorf(EINVALID, "since: %v", err)
	}
	if q.Until, err = parseAuditTime(v.Get("until"), true); err != nil {
		return q, errorf(EINVALID, "until: %v", err)
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"before", &q.Before}, {"limit", nil}} {
		raw := v.Get(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return q, errorf(EINVALID, "%s: want a whole number, got %q", p.name, raw)
		}
		if p.dst != nil {
			*p.dst = n
		} else {
			q.Limit = int(min(n, precwatch.MaxPageSize))
		}
	}
	if err := q.Validate(); err != nil {
		return q, err
	}
	return q, nil
}

// parseAuditTime reads a time bound; "" is none.
func parseAuditTime(s string, until bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			if until && layout == "2006-01-02T15:04" {
				t = t.Add(time.Minute - time.Nanosecond)
			}
			return t, nil
		}
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a date, a date and time or RFC 3339, got %q", s)
	}
	if until {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	if to, ok := withoutEmpty(r); ok {
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	filters := r.URL.Query()
	q, err := auditQuery(filters)
	if err != nil {
		return err
	}
	p, err := s.store.QueryAudit(r.Context(), q)
	if err != nil {
		return err
	}
	v := auditView{Entries: p.Entries, Query: filters, Actions: auditActions}
	link := func(before int64) string {
		u := url.Values{}
		for k, vs := range filters {
			if k != "before" && len(vs) > 0 && vs[0] != "" {
				u.Set(k, vs[0])
			}
		}
		if before > 0 {
			u.Set("before", strconv.FormatInt(before, 10))
		}
		if len(u) == 0 {
			return "/admin/audit"
		}
		return "/admin/audit?" + u.Encode()
	}
	if p.Next > 0 {
		v.Next = link(p.Next)
	}
	if q.Before > 0 {
		v.First = link(0)
	}
	s.render(w, r, http.StatusOK, "audit", v)
	return nil
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	q, err := auditQuery(r.URL.Query())
	if err != nil {
		return err
	}
	p, err := s.store.QueryAudit(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

type usersView struct {
	Users   []precwatch.User
	Roles   []precwatch.Role
	Created string
	Updated string
	Error   string
	Me      string
}

func (usersView) PageTitle() string { return "Users" }

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	q := r.URL.Query()
	return s.renderUsers(w, r, u, http.StatusOK, usersView{Created: q.Get("created"), Updated: q.Get("updated")})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, me *precwatch.User, status int, v usersView) error {
	us, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	v.Users, v.Roles, v.Me = us, precwatch.Roles, me.Name
	s.render(w, r, status, "users", v)
	return nil
}

// usersFormError shows a form's error on the users page, or returns an
// internal one for the server's error handling.
func (s *Server) usersFormError(w http.ResponseWriter, r *http.Request, u *precwatch.User, err error) error {
	e := userError(err)
	if e.Code == EINTERNAL {
		return err
	}
	return s.renderUsers(w, r, u, codes[e.Code], usersView{Error: e.Code + ": " + e.Message})
}

// createUser adds an account with a bcrypt hash of its password.
func (s *Server) createUser(ctx context.Context, name, role, password string, by *precwatch.User) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n/") {
		return errorf(EINVALID, "name: 1 to 64 characters, no spaces or slashes")
	}
	rl, err := precwatch.ParseRole(role)
	if err != nil {
		return err
	}
	hash, err := hashPassword(password, s.hashCost)
	if err != nil {
		return err
	}
	if err := s.store.CreateUser(ctx, precwatch.User{Name: name, Role: rl, PasswordHash: hash, CreatedAt: s.now()}); err != nil {
		return err
	}
	s.audit(ctx, by.Name, "user.create", "user:"+name, "role "+string(rl))
	return nil
}

func (s *Server) userCreateForm(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	if err := r.ParseForm(); err != nil {
		return errorf(EINVALID, "unreadable form")
	}
	name := r.PostFormValue("name")
	if err := s.createUser(r.Context(), name, r.PostFormValue("role"), r.PostFormValue("password"), u); err != nil {
		return s.usersFormError(w, r, u, err)
	}
	http.Redirect(w, r, "/admin/users?created="+urlQueryEscape(name), http.StatusSeeOther)
	return nil
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	us, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for i := range us {
		out = append(out, userView(&us[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiUserCreate(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	var in struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if err := s.createUser(r.Context(), in.Name, in.Role, in.Password, u); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"name": strings.TrimSpace(in.Name), "role": in.Role})
	return nil
}

// userChange is an admin's change to an account; nil fields stay as they
// are.
type userChange struct {
	Disabled *bool   `json:"disabled"`
	Role     *string `json:"role"`
	Password *string `json:"password"`
}

// updateUser applies an admin's change to an account. An admin cannot
// disable or demote their own account, nor the last other active admin,
// so that the console keeps an administrator (precwatch user add remains
// for a machine's operator); the store checks that in the transaction that
// writes the change, so two admins demoting each other at once cannot
// both succeed. A new password ends the account's sessions.
func (s *Server) updateUser(ctx context.Context, name string, ch userChange, by *precwatch.User) error {
	if ch.Disabled == nil && ch.Role == nil && ch.Password == nil {
		return errorf(EINVALID, "nothing to change: give disabled, role or password")
	}
	var role precwatch.Role
	if ch.Role != nil {
		var err error
		if role, err = precwatch.ParseRole(*ch.Role); err != nil {
			return err
		}
	}
	// Hashed before the transaction: bcrypt takes tens of milliseconds.
	var hash string
	if ch.Password != nil {
		var err error
		if hash, err = hashPassword(*ch.Password, s.hashCost); err != nil {
			return err
		}
	}
	var before, after precwatch.User
	err := s.store.UpdateUser(ctx, name, func(u *precwatch.User, all []precwatch.User) error {
		before = *u
		if ch.Role != nil {
			u.Role = role
		}
		if ch.Disabled != nil {
			u.Disabled = *ch.Disabled
		}
		wasAdmin := before.Role == precwatch.RoleAdmin && !before.Disabled
		if wasAdmin && (u.Role != precwatch.RoleAdmin || u.Disabled) {
			if u.Name == by.Name {
				return errorf(EINVALID, "you cannot disable or demote your own account")
			}
			if !slices.ContainsFunc(all, func(o precwatch.User) bool {
				return o.Role == precwatch.RoleAdmin && !o.Disabled && o.Name != u.Name
			}) {
				return errorf(EINVALID, "%s is the last active admin", u.Name)
			}
		}
		if ch.Password != nil {
			u.PasswordHash, u.PasswordChangedAt = hash, s.now()
		}
		after = *u
		return nil
	})
	if err != nil {
		return err
	}
	target := "user:" + name
	if after.Disabled != before.Disabled {
		action := "user.enable"
		if after.Disabled {
			action = "user.disable"
		}
		s.audit(ctx, by.Name, action, target, "")
	}
	if after.Role != before.Role {
		s.audit(ctx, by.Name, "user.role", target, string(before.Role)+" → "+string(after.Role))
	}
	if ch.Password != nil {
		s.audit(ctx, by.Name, "user.password", target, "set by an admin; sessions ended")
	}
	return nil
}

// userUpdateForm takes the users page's per-account forms: op is disable,
// enable, role (with role) or password (with password).
func (s *Server) userUpdateForm(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	if err := r.ParseForm(); err != nil {
		return errorf(EINVALID, "unreadable form")
	}
	name := r.PathValue("name")
	var ch userChange
	switch op := r.PostFormValue("op"); op {
	case "disable", "enable":
		v := op == "disable"
		ch.Disabled = &v
	case "role":
		v := r.PostFormValue("role")
		ch.Role = &v
	case "password":
		v := r.PostFormValue("password")
		ch.Password = &v
	default:
		return s.renderUsers(w, r, u, http.StatusBadRequest, usersView{Error: EINVALID + ": unknown change " + strconv.Quote(op)})
	}
	if err := s.updateUser(r.Context(), name, ch, u); err != nil {
		return s.usersFormError(w, r, u, err)
	}
	http.Redirect(w, r, "/admin/users?updated="+urlQueryEscape(name), http.StatusSeeOther)
	return nil
}

func (s *Server) apiUserUpdate(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	var ch userChange
	if err := readJSON(r, &ch); err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := s.updateUser(r.Context(), name, ch, u); err != nil {
		return err
	}
	nu, err := s.store.User(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userView(&nu))
	return nil
}
