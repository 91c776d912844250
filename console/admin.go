package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/precwatch/precwatch"
)

// auditLimit is how many audit entries the admin page shows.
const auditLimit = 500

type auditView struct{ Entries []precwatch.AuditEntry }

func (auditView) PageTitle() string { return "Audit log" }

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	es, err := s.store.Audit(r.Context(), auditLimit)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "audit", auditView{Entries: es})
	return nil
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	es, err := s.store.Audit(r.Context(), auditLimit)
	if err != nil {
		return err
	}
	if es == nil {
		es = []precwatch.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, es)
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
