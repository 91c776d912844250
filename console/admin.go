package console

import (
	"context"
	"net/http"
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
	Error   string
}

func (usersView) PageTitle() string { return "Users" }

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	return s.renderUsers(w, r, http.StatusOK, r.URL.Query().Get("created"), "")
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, created, msg string) error {
	us, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, status, "users", usersView{Users: us, Roles: precwatch.Roles, Created: created, Error: msg})
	return nil
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
		e := userError(err)
		if e.Code == EINTERNAL {
			return err
		}
		return s.renderUsers(w, r, codes[e.Code], "", e.Code+": "+e.Message)
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
