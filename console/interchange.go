package console

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/stixmisp"
)

// alertInterchange sends one alert as a MISP event ({"Event": …}, ready for
// MISP's /events/add or its JSON import) or as a STIX 2.1 bundle.
func (s *Server) alertInterchange(f stixmisp.Format) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
		ctx := r.Context()
		a, err := s.store.Alert(ctx, r.PathValue("key"))
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := s.interchange.WriteAlert(ctx, &buf, f, a); err != nil {
			return fmt.Errorf("console: %s export: %w", f, err)
		}
		s.audit(ctx, u.Name, "alerts.export", "alerts", fmt.Sprintf("%s, alert %s", f, a.Key))
		attachmentHeaders(w, "precwatch-alert-"+a.Key+"."+string(f)+".json", f.ContentType(), buf.Len())
		_, err = w.Write(buf.Bytes())
		return err
	}
}

// writeInterchange sends alerts as a MISP event collection or a STIX
// bundle; export has selected them.
func (s *Server) writeInterchange(w http.ResponseWriter, r *http.Request, f stixmisp.Format, name string, alerts []precwatch.Alert) error {
	var buf bytes.Buffer
	if err := s.interchange.Write(r.Context(), &buf, f, alerts); err != nil {
		return fmt.Errorf("console: %s export: %w", f, err)
	}
	attachmentHeaders(w, name, f.ContentType(), buf.Len())
	_, err := w.Write(buf.Bytes())
	return err
}

// ParseQuery reads the alert queue's filters from URL parameters (status,
// severity, substance, regime, site, vendor, assignee, since, until, q,
// offset, limit), so that the command line's export selects exactly what
// the queue and /api/alerts do.
func ParseQuery(v url.Values) (precwatch.AlertQuery, error) { return parseQuery(v) }
