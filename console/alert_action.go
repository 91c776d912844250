package console

import (
	"context"
	"net/http"

	"github.com/precwatch/precwatch"
)

// alertActionInput is an investigator's action: claim, unclaim, status (with
// the new status; text is the reason, required to dismiss) or note.
type alertActionInput struct {
	Action string                `json:"action"`
	Status precwatch.AlertStatus `json:"status,omitempty"`
	Text   string                `json:"text,omitempty"`
}

// applyAlertAction applies in to alert key as u, through the store's
// atomic update, and records it in the audit log.
func (s *Server) applyAlertAction(ctx context.Context, key string, u *precwatch.User, in alertActionInput) (precwatch.Alert, error) {
	a, err := s.store.UpdateAlert(ctx, precwatch.AlertAction{
		Key: key, Actor: u.Name, At: s.now(), Action: in.Action, Status: in.Status, Text: in.Text,
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

// alertActionForm takes the detail page's forms; an invalid action is shown
// on the page again with its message.
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
	if _, err := s.applyAlertAction(r.Context(), key, u, in); err != nil {
		e := userError(err)
		if e.Code != EINVALID {
			return err
		}
		v, lerr := s.loadAlertView(r.Context(), key)
		if lerr != nil {
			return lerr
		}
		v.Error = e.Code + ": " + e.Message
		s.render(w, r, http.StatusBadRequest, "alert", v)
		return nil
	}
	http.Redirect(w, r, "/alerts/"+key, http.StatusSeeOther)
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
