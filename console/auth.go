package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
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

// login checks a name and password sent by the client of r and opens a
// session, setting its cookie. Failures are throttled per client and per
// account (see throttle.go) and audited: a known account's one by one, a
// made-up name's counted per client and hour, so that they cannot flood
// the log.
func (s *Server) login(w http.ResponseWriter, r *http.Request, name, password string) (*precwatch.User, error) {
	ctx, now, client := r.Context(), s.now(), clientAddr(r)
	if d := s.throttle.clients.wait(client, now); d > 0 {
		s.auditCount(ctx, "login_throttled", client, now, "attempts refused while waiting")
		return nil, throttled(d, "too many failed sign-ins from your address")
	}
	known := s.knownDevice(r, name)
	if !known {
		if d := s.throttle.accounts.wait(accountKey(name), now); d > 0 {
			s.auditCount(ctx, "login_throttled", client, now, "attempts refused while waiting")
			return nil, throttled(d, "too many failed sign-ins for this name")
		}
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
		s.throttle.clients.fail(client, now)
		s.throttle.accounts.fail(accountKey(name), now)
		switch {
		case err != nil:
			// The names are not kept: they are often mistyped passwords.
			s.auditCount(ctx, "login_failed_unknown", client, now, "names of no account (not recorded)")
		case u.Disabled:
			s.appendAudit(ctx, precwatch.AuditEntry{Actor: u.Name, Action: "login_failed", Target: "user:" + u.Name, Detail: "from " + client + "; account disabled", Failed: true})
		default:
			s.appendAudit(ctx, precwatch.AuditEntry{Actor: u.Name, Action: "login_failed", Target: "user:" + u.Name, Detail: "from " + client, Failed: true})
		}
		return nil, errorf(EUNAUTHORIZED, "wrong name or password")
	}
	s.throttle.accounts.succeed(accountKey(name))
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("console: login: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	sess := precwatch.Session{ID: sessionID(token), User: u.Name, CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("console: login: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: token, Path: "/",
		Expires: sess.ExpiresAt, MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
	s.setDevice(w, u.Name, now)
	s.appendAudit(ctx, precwatch.AuditEntry{Actor: u.Name, Action: "login", Target: "user:" + u.Name, Detail: "from " + client})
	return &u, nil
}

// throttled is the error of an attempt that must wait d.
func throttled(d time.Duration, why string) *Error {
	secs := int((d + time.Second - 1) / time.Second)
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	return &Error{Code: ETHROTTLED, Message: fmt.Sprintf("%s; try again in %d %s", why, secs, unit), RetryAfter: d}
}

// deviceTTL is how long a browser stays known to an account after a
// successful sign-in.
const deviceTTL = 180 * 24 * time.Hour

// deviceCookie names the cookie that marks a browser which has signed in
// to an account: an account's delays do not apply to it.
func (s *Server) deviceCookie() string {
	if s.secure {
		return "__Host-precwatch_device"
	}
	return "precwatch_device"
}

// deviceMAC binds a device cookie to an account name under the process's
// key (a restart forgets every device, which then waits like any other).
func (s *Server) deviceMAC(name string) []byte {
	m := hmac.New(sha256.New, s.throttle.deviceKey[:])
	m.Write([]byte("precwatch device\x00" + accountKey(name)))
	return m.Sum(nil)
}

func (s *Server) setDevice(w http.ResponseWriter, name string, now time.Time) {
	v := base64.RawURLEncoding.EncodeToString([]byte(name)) + "." + base64.RawURLEncoding.EncodeToString(s.deviceMAC(name))
	http.SetCookie(w, &http.Cookie{
		Name: s.deviceCookie(), Value: v, Path: "/",
		Expires: now.Add(deviceTTL), MaxAge: int(deviceTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
}

// knownDevice reports whether r's browser has signed in to name before.
func (s *Server) knownDevice(r *http.Request, name string) bool {
	c, err := r.Cookie(s.deviceCookie())
	if err != nil {
		return false
	}
	n, mac, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	rawName, err1 := base64.RawURLEncoding.DecodeString(n)
	rawMAC, err2 := base64.RawURLEncoding.DecodeString(mac)
	return err1 == nil && err2 == nil && accountKey(string(rawName)) == accountKey(name) && hmac.Equal(rawMAC, s.deviceMAC(name))
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	s.render(w, r, http.StatusOK, "login", &loginView{Next: safeNext(r.URL.Query().Get("next"))})
	return nil
}

type loginView struct {
	Next, Name, Error string
	// Throttled: Error says how long to wait before signing in again.
	Throttled bool
	// Draft is a note or dismissal reason whose session ended before it
	// was sent; the login form carries it back to the alert.
	Draft *actionDraft
}

// actionDraft is the text of an alert action that was not applied.
type actionDraft struct {
	Key     string
	Dismiss bool // a dismissal's reason, else a note
	Text    string
}

// pendingDraft is the draft a refused alert action form (POST
// /alerts/{key}/actions) carried, nil when it carried no text.
func pendingDraft(r *http.Request) *actionDraft {
	key := r.PathValue("key")
	if r.Method != http.MethodPost || key == "" || r.URL.Path != "/alerts/"+key+"/actions" {
		return nil
	}
	if err := r.ParseForm(); err != nil || strings.TrimSpace(r.PostFormValue("text")) == "" {
		return nil
	}
	return &actionDraft{Key: key, Text: r.PostFormValue("text"),
		Dismiss: r.PostFormValue("action") == precwatch.ActionStatus && r.PostFormValue("status") == string(precwatch.StatusDismissed)}
}

// loginDraft is the draft a login form carries (see pendingDraft), nil
// when none or when its alert is not where next leads.
func loginDraft(r *http.Request, next string) *actionDraft {
	d := &actionDraft{Key: r.PostFormValue("draft_key"), Text: r.PostFormValue("draft_text"), Dismiss: r.PostFormValue("draft_dismiss") != ""}
	if d.Key == "" || strings.TrimSpace(d.Text) == "" || next != "/alerts/"+d.Key {
		return nil
	}
	return d
}

// safeNext keeps a post-login redirect on the console: a clean absolute
// path, or "" for anything else. The path must start with a single "/"
// and hold no "//", backslash, control character or whitespace, neither
// as given nor once percent-decoded (browsers drop tabs and newlines and
// read "\" as "/", so "/\t/evil.example" would leave the site), and no
// scheme or host.
func safeNext(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || !cleanPath(next) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	decoded, err := url.PathUnescape(u.EscapedPath())
	if err != nil || !strings.HasPrefix(decoded, "/") || !cleanPath(decoded) {
		return ""
	}
	return next
}

// cleanPath reports whether p has no "//", backslash, control character
// or whitespace.
func cleanPath(p string) bool {
	if strings.Contains(p, "//") {
		return false
	}
	for _, r := range p {
		if r == '\\' || r < 0x20 || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	if err := r.ParseForm(); err != nil {
		return errorf(EINVALID, "unreadable form")
	}
	name, next := r.PostFormValue("name"), safeNext(r.PostFormValue("next"))
	draft := loginDraft(r, next)
	u, err := s.login(w, r, name, r.PostFormValue("password"))
	if err != nil {
		e := userError(err)
		if e.Code == EINTERNAL {
			return err
		}
		setRetryAfter(w, e)
		s.render(w, r, codes[e.Code], "login", &loginView{Next: next, Name: name, Error: e.Message, Throttled: e.Code == ETHROTTLED, Draft: draft})
		return nil
	}
	if draft != nil && allows(investigators, u.Role) {
		// Back on the alert, as it is now, with the text in its box: not
		// sent, as the alert may have changed meanwhile.
		v, err := s.loadAlertView(r.Context(), draft.Key)
		if err == nil {
			v.Notice = "Your session had ended, so this was not saved. The text you typed is back in its box: check the alert and send it again."
			if draft.Dismiss && slices.Contains(v.Transitions, precwatch.StatusDismissed) {
				v.DismissDraft = draft.Text
			} else {
				v.NoteDraft = draft.Text
			}
			s.render(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)), http.StatusOK, "alert", v)
			return nil
		}
		s.logger.WarnContext(r.Context(), "draft after sign-in: alert gone", "alert", draft.Key, "error", err)
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
	u, err := s.login(w, r, in.Name, in.Password)
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
	s.appendAudit(ctx, precwatch.AuditEntry{Actor: actor, Action: action, Target: target, Detail: detail})
}

// appendAudit appends e, timed now, to the audit log, logging a failure.
func (s *Server) appendAudit(ctx context.Context, e precwatch.AuditEntry) {
	e.At = s.now()
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.logger.ErrorContext(ctx, "audit append failed", "actor", e.Actor, "action", e.Action, "target", e.Target, "error", err)
	}
}

// auditWindow is how long one aggregated audit entry counts a client's
// events.
const auditWindow = time.Hour

// auditCount counts a failed sign-in event of client in the aggregated
// audit entry of action, client and the current hour.
func (s *Server) auditCount(ctx context.Context, action, client string, now time.Time, detail string) {
	key := action + " " + client + " " + now.UTC().Truncate(auditWindow).Format(time.RFC3339)
	e := precwatch.AuditEntry{At: now, Action: action, Target: "client:" + client, Detail: detail, Failed: true}
	if err := s.store.CountAudit(ctx, key, e); err != nil {
		s.logger.ErrorContext(ctx, "audit count failed", "action", action, "client", client, "error", err)
	}
}
