package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/precwatch/precwatch"
)

// sessionTTL is how long a session lasts after login.
const sessionTTL = 12 * time.Hour

// MinPasswordLength is the shortest password HashPassword accepts.
const MinPasswordLength = 10

// bcryptCost is above bcrypt's default of 10.
const bcryptCost = 12

// HashPassword hashes a password with bcrypt for User.PasswordHash. It
// rejects passwords shorter than MinPasswordLength characters or longer
// than bcrypt's 72 bytes.
func HashPassword(pw string) (string, error) { return hashPassword(pw, bcryptCost) }

func hashPassword(pw string, cost int) (string, error) {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return "", fmt.Errorf("console: hash password: %w: shorter than %d characters", precwatch.ErrInvalid, MinPasswordLength)
	}
	if len(pw) > 72 {
		return "", fmt.Errorf("console: hash password: %w: longer than 72 bytes", precwatch.ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("console: hash password: %w", err)
	}
	return string(h), nil
}

// cookieName is the session cookie; the __Host- prefix (Secure only) pins
// it to this host and path.
func (s *Server) cookieName() string {
	if s.secure {
		return "__Host-precwatch_session"
	}
	return "precwatch_session"
}

// sessionID is what the store keeps of a token: its SHA-256.
func sessionID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// authenticate returns the user of the request's session.
func (s *Server) authenticate(r *http.Request) (*precwatch.User, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return nil, errorf(EUNAUTHORIZED, "sign in first")
	}
	sess, err := s.store.Session(r.Context(), sessionID(c.Value), s.now())
	if errors.Is(err, precwatch.ErrNotFound) {
		return nil, errorf(EUNAUTHORIZED, "your session has ended; sign in again")
	}
	if err != nil {
		return nil, fmt.Errorf("console: session: %w", err)
	}
	u, err := s.store.User(r.Context(), sess.User)
	if errors.Is(err, precwatch.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, errorf(EUNAUTHORIZED, "this account is disabled")
	}
	if err != nil {
		return nil, fmt.Errorf("console: session user: %w", err)
	}
	if sess.CreatedAt.Before(u.PasswordChangedAt) {
		return nil, errorf(EUNAUTHORIZED, "your password was changed; sign in again")
	}
	return &u, nil
}

// login checks a name and password and opens a session, setting its cookie.
func (s *Server) login(ctx context.Context, w http.ResponseWriter, name, password string) (*precwatch.User, error) {
	if s.throttle.locked(name, s.now()) {
		return nil, errorf(EUNAUTHORIZED, "too many failed sign-ins for this name; wait a few minutes")
	}
	u, err := s.store.User(ctx, name)
	if err != nil && !errors.Is(err, precwatch.ErrNotFound) {
		return nil, fmt.Errorf("console: login: %w", err)
	}
	hash := s.dummyHash
	if err == nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil || u.Disabled {
		s.throttle.fail(name, s.now())
		s.audit(ctx, name, "login_failed", "user:"+name, "")
		return nil, errorf(EUNAUTHORIZED, "wrong name or password")
	}
	s.throttle.succeed(name)
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("console: login: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	sess := precwatch.Session{ID: sessionID(token), User: u.Name, CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("console: login: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: token, Path: "/",
		Expires: sess.ExpiresAt, MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
	s.audit(ctx, u.Name, "login", "user:"+u.Name, "")
	return &u, nil
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	s.render(w, r, http.StatusOK, "login", &loginView{Next: safeNext(r.URL.Query().Get("next"))})
	return nil
}

type loginView struct {
	Next, Name, Error string
}

// safeNext keeps a post-login redirect on the console: a local path only.
func safeNext(next string) string {
	if len(next) < 1 || next[0] != '/' || (len(next) > 1 && (next[1] == '/' || next[1] == '\\')) {
		return ""
	}
	return next
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	if err := r.ParseForm(); err != nil {
		return errorf(EINVALID, "unreadable form")
	}
	name, next := r.PostFormValue("name"), safeNext(r.PostFormValue("next"))
	u, err := s.login(r.Context(), w, name, r.PostFormValue("password"))
	if err != nil {
		e := userError(err)
		if e.Code == EINTERNAL {
			return err
		}
		s.render(w, r, codes[e.Code], "login", &loginView{Next: next, Name: name, Error: e.Message})
		return nil
	}
	if next == "" {
		next = landing(u.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	u, err := s.login(r.Context(), w, in.Name, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userView(u))
	return nil
}

// logout ends the session and clears its cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		if err := s.store.DeleteSession(r.Context(), sessionID(c.Value)); err != nil && !errors.Is(err, precwatch.ErrNotFound) {
			return fmt.Errorf("console: logout: %w", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode})
	s.audit(r.Context(), u.Name, "logout", "user:"+u.Name, "")
	if isAPI(r) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	writeJSON(w, http.StatusOK, userView(u))
	return nil
}

// userView is a user without the password hash.
func userView(u *precwatch.User) map[string]any {
	return map[string]any{"name": u.Name, "role": u.Role, "created_at": u.CreatedAt, "disabled": u.Disabled}
}

// audit appends to the audit log. A failure is logged, not returned: the
// change it records has already been made.
func (s *Server) audit(ctx context.Context, actor, action, target, detail string) {
	e := precwatch.AuditEntry{At: s.now(), Actor: actor, Action: action, Target: target, Detail: detail}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.logger.ErrorContext(ctx, "audit append failed", "actor", actor, "action", action, "target", target, "err", err)
	}
}
