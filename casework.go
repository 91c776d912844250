package precwatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a console user may do.
type Role string

// Roles. Each sees and does only what its role allows; admin may do all.
const (
	RoleInvestigator Role = "investigator" // works the alert queue, exports evidence
	RoleAnalyst      Role = "analyst"      // edits watchlists, previews and rolls back
	RoleOperator     Role = "operator"     // sees sites and runs, starts, pauses and resumes crawls
	RoleAdmin        Role = "admin"        // everything, and user accounts
)

// Roles lists every role.
var Roles = []Role{RoleInvestigator, RoleAnalyst, RoleOperator, RoleAdmin}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("%w: role %q (want investigator, analyst, operator or admin)", ErrInvalid, s)
}

// User is a console account.
type User struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// PasswordHash is a bcrypt hash; never the password.
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
	Disabled     bool      `json:"disabled,omitempty"`
	// PasswordChangedAt is when an admin last set the password: sessions
	// opened before it are no longer valid.
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
}

// Validate checks that the user has a name and a known role.
func (u User) Validate() error {
	if u.Name == "" {
		return fmt.Errorf("%w: user without a name", ErrInvalid)
	}
	_, err := ParseRole(string(u.Role))
	return err
}

// ChangeUser is UpdateUser's rule for both stores: it applies change to
// a copy of the named user among all and returns the user to write.
func ChangeUser(name string, all []User, change func(u *User, all []User) error) (User, error) {
	i := slices.IndexFunc(all, func(u User) bool { return u.Name == name })
	if i < 0 {
		return User{}, ErrNotFound
	}
	u := all[i]
	if err := change(&u, all); err != nil {
		return User{}, err
	}
	if u.Name != name {
		return User{}, fmt.Errorf("%w: a change cannot rename user %q to %q", ErrInvalid, name, u.Name)
	}
	return u, u.Validate()
}

// Session is a logged-in console session. ID is the SHA-256 of the cookie
// token, so a leaked store does not leak live sessions.
type Session struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TimelineEntry is one workflow change of an alert: who did what when.
type TimelineEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // claim, unclaim, status, note
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Text   string    `json:"text,omitempty"`
}

// Alert actions.
const (
	ActionClaim   = "claim"
	ActionUnclaim = "unclaim"
	ActionStatus  = "status"
	ActionNote    = "note"
)

// AlertAction is an investigator's change to an alert.
type AlertAction struct {
	Key    string
	Actor  string
	At     time.Time
	Action string
	// Status is the new status for ActionStatus.
	Status AlertStatus
	// Text is the reason (required to dismiss) or the note.
	Text string
	// Seen, when set, is the alert as the actor last saw it: a claim or
	// unclaim is refused with ErrChanged when the assignee is no longer
	// Seen.Assignee, a status change when the status is no longer
	// Seen.Status. Two investigators acting on one page at once then never
	// both believe their action took. Notes never conflict.
	Seen *AlertSeen
}

// AlertSeen is the workflow state an investigator acted on.
type AlertSeen struct {
	Status   AlertStatus `json:"status"`
	Assignee string      `json:"assignee"`
}

// ErrChanged is returned when an action was made on a view of an alert
// that another's change has since made stale (see AlertAction.Seen).
var ErrChanged = errors.New("precwatch: changed meanwhile")

// maxNote bounds a note or reason.
const maxNote = 4000

// allowedTransitions is the workflow: new → triaged → escalated | dismissed,
// and a dismissed or escalated alert may be reopened to triaged.
var allowedTransitions = map[AlertStatus][]AlertStatus{
	StatusNew:       {StatusTriaged, StatusDismissed, StatusEscalated},
	StatusTriaged:   {StatusEscalated, StatusDismissed},
	StatusEscalated: {StatusTriaged, StatusDismissed},
	StatusDismissed: {StatusTriaged},
}

// changedSince refuses act when the part of a it would change is no
// longer what the actor saw, naming who changed it and when.
func changedSince(a *Alert, act AlertAction) error {
	seen := act.Seen
	if seen == nil {
		return nil
	}
	var kinds []string
	switch act.Action {
	case ActionClaim, ActionUnclaim:
		if a.Assignee == seen.Assignee {
			return nil
		}
		kinds = []string{ActionClaim, ActionUnclaim}
	case ActionStatus:
		if a.Status == seen.Status {
			return nil
		}
		kinds = []string{ActionStatus}
	default:
		return nil
	}
	for i := len(a.Timeline) - 1; i >= 0; i-- {
		e := a.Timeline[i]
		if !slices.Contains(kinds, e.Action) {
			continue
		}
		did := "moved it to " + e.To
		switch e.Action {
		case ActionClaim:
			did = "claimed it"
		case ActionUnclaim:
			did = "unclaimed it"
		}
		return fmt.Errorf("%w: %s %s at %s, after you opened it; nothing was changed, and it is shown as it is now",
			ErrChanged, e.Actor, did, e.At.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	return fmt.Errorf("%w: the alert changed after you opened it; nothing was changed, and it is shown as it is now", ErrChanged)
}

// ApplyAction applies act to a, appending to its timeline. Every backend
// calls it inside its own transaction, so the workflow rules live here once.
func ApplyAction(a *Alert, act AlertAction) error {
	text := strings.TrimSpace(act.Text)
	if len(text) > maxNote {
		return fmt.Errorf("%w: text longer than %d bytes", ErrInvalid, maxNote)
	}
	if act.Actor == "" {
		return fmt.Errorf("%w: action without an actor", ErrInvalid)
	}
	if err := changedSince(a, act); err != nil {
		return err
	}
	e := TimelineEntry{At: act.At, Actor: act.Actor, Action: act.Action, Text: text}
	switch act.Action {
	case ActionClaim:
		e.From, e.To = a.Assignee, act.Actor
		a.Assignee = act.Actor
	case ActionUnclaim:
		e.From = a.Assignee
		a.Assignee = ""
	case ActionStatus:
		if !slices.Contains(allowedTransitions[a.Status], act.Status) {
			return fmt.Errorf("%w: status %s → %s not allowed", ErrInvalid, a.Status, act.Status)
		}
		if act.Status == StatusDismissed && text == "" {
			return fmt.Errorf("%w: a reason is required to dismiss", ErrInvalid)
		}
		e.From, e.To = string(a.Status), string(act.Status)
		a.Status = act.Status
	case ActionNote:
		if text == "" {
			return fmt.Errorf("%w: empty note", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: unknown action %q", ErrInvalid, act.Action)
	}
	a.Timeline = append(slices.Clone(a.Timeline), e)
	a.UpdatedAt = act.At
	return nil
}

// AlertQuery selects a page of the alert queue.
type AlertQuery struct {
	Status      AlertStatus
	MinSeverity Severity
	Substance   string
	Regime      Regime
	Site        string
	Vendor      string
	Assignee    string
	// Since and Until bound the alert's creation time (zero: unbounded).
	Since, Until time.Time
	// Text searches listing titles and descriptions (words, all required).
	Text string
	// Sort is the page's order (zero: SortSeverity). Orders other than
	// the default page at most MaxSortDepth alerts deep (see Check).
	Sort   AlertSort
	Limit  int // default 50, at most 500
	Offset int
}

// AlertSort is an order of the alert queue.
type AlertSort string

// The queue's orders. Each ends in a unique tie-break, so that pages never
// overlap or skip.
const (
	// SortSeverity is SortAlerts's order: severity, score, newest, key.
	SortSeverity AlertSort = "severity"
	// SortNewest is by creation time, newest first, then key descending.
	SortNewest AlertSort = "newest"
	// SortOldest is SortNewest reversed.
	SortOldest AlertSort = "oldest"
	// SortSite is by site name (bytewise), then SortSeverity's order.
	SortSite AlertSort = "site"
)

// AlertSorts are the orders a query may name, the default first.
var AlertSorts = []AlertSort{SortSeverity, SortNewest, SortOldest, SortSite}

// MaxSortDepth bounds how deep (offset+limit) a page of an order other
// than SortSeverity may reach: the Redis store has no index in those
// orders and gathers the first MaxSortDepth candidates per severity.
// Narrowing the filter, or SortSeverity, reaches the rest.
const MaxSortDepth = 10_000

// Check returns an ErrInvalid error for an unknown order, or for a page
// of an order other than the default deeper than MaxSortDepth.
func (q AlertQuery) Check() error {
	switch q.Sort {
	case "", SortSeverity:
		return nil
	case SortNewest, SortOldest, SortSite:
	default:
		return fmt.Errorf("%w: unknown sort %q", ErrInvalid, q.Sort)
	}
	if limit, offset := q.Page(); offset+limit > MaxSortDepth {
		return fmt.Errorf("%w: sort %s pages at most %d alerts deep", ErrInvalid, q.Sort, MaxSortDepth)
	}
	return nil
}

// FoldVendor is a vendor handle as the vendor filter compares it: the
// filter ignores case (Unicode simple folding to lower case).
func FoldVendor(v string) string { return strings.ToLower(v) }

// Default and maximum page sizes of AlertQuery.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Page returns the query's page size and offset with the defaults and
// bounds applied.
func (q AlertQuery) Page() (limit, offset int) {
	limit = q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	return min(limit, MaxPageSize), max(q.Offset, 0)
}

// AlertPage is one page of a query and the total number of matches.
type AlertPage struct {
	Alerts []Alert `json:"alerts"`
	Total  int     `json:"total"`
}

// AuditEntry records one state change made through the console or CLI.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`

	// Login hardening: paging, outcome and aggregated entries.

	// ID is the entry's place in the log, set by the store when it reads
	// the entry: a later entry has a larger ID.
	ID int64 `json:"id,omitempty"`
	// Failed marks a refused attempt, such as a failed sign-in.
	Failed bool `json:"failed,omitempty"`
	// Count is how many events an aggregated entry stands for (see
	// ConsoleStore.CountAudit), the latest of them at Last; 0 for an
	// ordinary entry.
	Count int       `json:"count,omitempty"`
	Last  time.Time `json:"last,omitzero"`
}

// Outcomes an AuditQuery selects by.
const (
	AuditOK     = "ok"     // Failed is false
	AuditFailed = "failed" // Failed is true
)

// AuditQuery selects a page of the audit log, newest first.
type AuditQuery struct {
	Actor  string // exact; empty for any
	Action string // exact; empty for any
	// Outcome is AuditOK, AuditFailed or empty for both.
	Outcome string
	// Since and Until bound the entry's time At, both included (zero:
	// unbounded).
	Since, Until time.Time
	// Before continues a listing: only entries older than the one with
	// this ID (an AuditPage's Next); 0 starts at the newest.
	Before int64
	Limit  int // default 50, at most 500
}

// Validate reports an unknown outcome or a negative cursor.
func (q AuditQuery) Validate() error {
	if q.Outcome != "" && q.Outcome != AuditOK && q.Outcome != AuditFailed {
		return fmt.Errorf("%w: outcome %q (want %s or %s)", ErrInvalid, q.Outcome, AuditOK, AuditFailed)
	}
	if q.Before < 0 {
		return fmt.Errorf("%w: negative cursor %d", ErrInvalid, q.Before)
	}
	return nil
}

// Page returns the query's page size with the default and bound applied.
func (q AuditQuery) Page() int {
	if q.Limit <= 0 {
		return DefaultPageSize
	}
	return min(q.Limit, MaxPageSize)
}

// AuditPage is one page of the audit log. Next is the Before of the page
// after it, 0 when there is none.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    int64        `json:"next,omitempty"`
}

// WatchlistVersion is one saved version of the watchlist file.
type WatchlistVersion struct {
	Version int       `json:"version"`
	Author  string    `json:"author"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment,omitempty"`
	Data    []byte    `json:"-"`
}

// SiteState is an operator's control over a site.
type SiteState struct {
	Site   string    `json:"site"`
	Paused bool      `json:"paused"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// ConsoleStore is the Store with what the console needs: the alert
// workflow, queue queries, accounts, the audit log, watchlist versions and
// site controls. Both backends implement it.
type ConsoleStore interface {
	Store

	// UpdateAlert applies an action atomically (see ApplyAction) and
	// returns the updated alert; ErrNotFound or ErrInvalid on failure.
	UpdateAlert(ctx context.Context, act AlertAction) (Alert, error)
	// QueryAlerts returns a page of alerts ordered as SortAlerts does.
	QueryAlerts(ctx context.Context, q AlertQuery) (AlertPage, error)

	// CreateUser adds a user; ErrConflict when the name is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser changes the named user in one transaction: change edits
	// *u given every user as stored (so a rule over all accounts, such
	// as "an active admin remains", holds against concurrent changes),
	// and its result is written only if no user changed meanwhile, else
	// change runs again on the new state. change's error is returned
	// wrapped (errors.Is finds it); ErrNotFound when there is no such
	// user, ErrInvalid when change renames it or leaves it invalid.
	UpdateUser(ctx context.Context, name string, change func(u *User, all []User) error) error
	User(ctx context.Context, name string) (User, error)
	Users(ctx context.Context) ([]User, error)

	CreateSession(ctx context.Context, s Session) error
	// Session returns an unexpired session, else ErrNotFound.
	Session(ctx context.Context, id string, now time.Time) (Session, error)
	DeleteSession(ctx context.Context, id string) error

	AppendAudit(ctx context.Context, e AuditEntry) error
	// Audit returns the newest entries first, at most limit.
	Audit(ctx context.Context, limit int) ([]AuditEntry, error)
	// QueryAudit returns a page of the entries q selects, newest first;
	// ErrInvalid for a bad query.
	QueryAudit(ctx context.Context, q AuditQuery) (AuditPage, error)
	// CountAudit records one event of an aggregated entry: the first with
	// key appends e with Count 1 and Last e.At; each later one adds one to
	// that entry's Count and sets its Last to e.At, leaving it in place.
	// The caller puts a time window in key to start a new entry.
	CountAudit(ctx context.Context, key string, e AuditEntry) error

	// SaveWatchlistVersion stores a new version numbered one more than the
	// latest and returns its number.
	SaveWatchlistVersion(ctx context.Context, v WatchlistVersion) (int, error)
	// WatchlistVersions lists versions newest first, without Data.
	WatchlistVersions(ctx context.Context) ([]WatchlistVersion, error)
	WatchlistVersion(ctx context.Context, version int) (WatchlistVersion, error)

	SetSiteState(ctx context.Context, s SiteState) error
	SiteStates(ctx context.Context) (map[string]SiteState, error)
}

// ErrConflict is returned when creating something that exists.
var ErrConflict = errors.New("precwatch: already exists")
