package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/precwatch/precwatch"
)

// alertActionInput is an investigator's action: claim, unclaim, status (with
// the new status; text is the reason, required to dismiss) or note. Seen,
// if given, is the alert's status and assignee as the investigator saw
// them: the action is refused (ECONFLICT) when another's change came first.
type alertActionInput struct {
	Action string                `json:"action"`
	Status precwatch.AlertStatus `json:"status,omitempty"`
	Text   string                `json:"text,omitempty"`
	Seen   *precwatch.AlertSeen  `json:"seen,omitempty"`
}

// applyAlertAction applies in to alert key as u, through the store's
// atomic update, and records it in the audit log.
func (s *Server) applyAlertAction(ctx context.Context, key string, u *precwatch.User, in alertActionInput) (precwatch.Alert, error) {
	a, err := s.store.UpdateAlert(ctx, precwatch.AlertAction{
		Key: key, Actor: u.Name, At: s.now(), Action: in.Action, Status: in.Status, Text: in.Text, Seen: in.Seen,
	})
	if err != nil {
		return a, err
	}
	detail := in.Text
	if in.Action == precwatch.ActionStatus {
		detail = string(in.Status) + ": " + in.Text
	}
	s.audit(ctx, u.Name, "alert."+in.Action, "alert:"+key, detail)
	return a, nil
}

// alertActionForm takes the detail page's forms, which send the status and
// assignee they were shown with (seen_status, seen_assignee). An invalid
// action, or one another investigator's change overtook, is shown on the
// page again, as the alert is now, with its message and the text typed.
func (s *Server) alertActionForm(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	if err := r.ParseForm(); err != nil {
		return errorf(EINVALID, "unreadable form")
	}
	key := r.PathValue("key")
	in := alertActionInput{
		Action: r.PostFormValue("action"),
		Status: precwatch.AlertStatus(r.PostFormValue("status")),
		Text:   r.PostFormValue("text"),
	}
	if _, ok := r.PostForm["seen_status"]; ok {
		in.Seen = &precwatch.AlertSeen{Status: precwatch.AlertStatus(r.PostFormValue("seen_status")), Assignee: r.PostFormValue("seen_assignee")}
	}
	if _, err := s.applyAlertAction(r.Context(), key, u, in); err != nil {
		e := userError(err)
		if e.Code != EINVALID && e.Code != ECONFLICT {
			return err
		}
		v, lerr := s.loadAlertView(r.Context(), key)
		if lerr != nil {
			return lerr
		}
		v.Error = e.Code + ": " + e.Message
		// Keep what was typed: a refused reason goes back in the dismissal
		// box, or in the note box when the alert can no longer be
		// dismissed, so that it is not lost.
		switch {
		case in.Action == precwatch.ActionStatus && in.Status == precwatch.StatusDismissed && slices.Contains(v.Transitions, precwatch.StatusDismissed):
			v.DismissDraft = in.Text
		case in.Action == precwatch.ActionNote || in.Action == precwatch.ActionStatus:
			v.NoteDraft = in.Text
		}
		s.render(w, r, codes[e.Code], "alert", v)
		return nil
	}
	http.Redirect(w, r, "/alerts/"+key, http.StatusSeeOther)
	return nil
}

// alertActionsGet sends a GET of the actions URL, where a refused action's
// page is shown, to the alert's page.
func (s *Server) alertActionsGet(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	http.Redirect(w, r, "/alerts/"+url.PathEscape(r.PathValue("key")), http.StatusSeeOther)
	return nil
}

func (s *Server) apiAlertAction(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	var in alertActionInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	a, err := s.applyAlertAction(r.Context(), r.PathValue("key"), u, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}
