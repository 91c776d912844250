package console

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/stixmisp"
)

// maxExport bounds an export of the current filter.
const maxExport = 10000

// export sends alerts as CSV, JSON, a MISP event collection or a STIX
// bundle (format=csv|json|misp|stix): the ones selected (key=…, repeated)
// or else every alert passing the filter parameters.
func (s *Server) export(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	ctx := r.Context()
	v := r.URL.Query()
	format := v.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" && format != "misp" && format != "stix" {
		return errorf(EINVALID, "format: want csv, json, misp or stix")
	}
	var alerts []precwatch.Alert
	if keys := v["key"]; len(keys) > 0 {
		if len(keys) > maxExport {
			return errorf(EINVALID, "at most %d alerts at once", maxExport)
		}
		for _, k := range keys {
			a, err := s.store.Alert(ctx, k)
			if err != nil {
				return err
			}
			alerts = append(alerts, a)
		}
	} else {
		q, err := parseQuery(v)
		if err != nil {
			return err
		}
		q.Offset = 0
		for len(alerts) < maxExport {
			q.Limit = min(500, maxExport-len(alerts))
			page, err := s.store.QueryAlerts(ctx, q)
			if err != nil {
				return err
			}
			alerts = append(alerts, page.Alerts...)
			if len(page.Alerts) < q.Limit {
				break
			}
			q.Offset += len(page.Alerts)
		}
	}
	s.audit(ctx, u.Name, "alerts.export", "alerts", fmt.Sprintf("%s, %d %s", format, len(alerts), plural(len(alerts), "alert", "alerts")))
	name := "precwatch-alerts-" + s.now().UTC().Format("20060102-150405") + "." + format
	if format == "misp" || format == "stix" {
		return s.writeInterchange(w, r, stixmisp.Format(format), name+".json", alerts)
	}
	var body []byte
	ctype := "text/csv; charset=utf-8"
	if format == "json" {
		if alerts == nil {
			alerts = []precwatch.Alert{}
		}
		b, err := json.MarshalIndent(alerts, "", "  ")
		if err != nil {
			return fmt.Errorf("console: export: %w", err)
		}
		body, ctype = b, "application/json"
	} else {
		b, err := alertsCSV(alerts)
		if err != nil {
			return err
		}
		body = b
	}
	attachmentHeaders(w, name, ctype, len(body))
	_, err := w.Write(body)
	return err
}

// csvHeader are the export's columns.
var csvHeader = []string{
	"key", "severity", "score", "reasons", "status", "substance", "name", "regime", "site", "vendor", "title",
	"price", "currency", "url", "assignee", "created_at", "updated_at", "page_sha256", "matched_terms",
	// After the first columns, so that readers by position keep working.
	"strength_percent", "limit_percent", "over_limit", "quantity",
}

// leadMatch is the match an alert's score and reasons come from: the
// highest-scoring one (the first of equals), else the first; nil when the
// alert has none.
func leadMatch(a precwatch.Alert) *precwatch.Match {
	var lead *precwatch.Match
	for i := range a.Matches {
		if lead == nil || a.Matches[i].Score > lead.Score {
			lead = &a.Matches[i]
		}
	}
	return lead
}

// matchTerms are the distinct terms of an alert's matches, in order: a term
// found in both title and description is one term.
func matchTerms(a precwatch.Alert) []string {
	var terms []string
	for _, m := range a.Matches {
		if !slices.Contains(terms, m.Term) {
			terms = append(terms, m.Term)
		}
	}
	return terms
}

// alertsCSV writes alerts as CSV with every cell made safe to open in a
// spreadsheet.
func alertsCSV(alerts []precwatch.Alert) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(csvHeader)
	for _, a := range alerts {
		var strength, limit, over, quantity string
		if m := leadMatch(a); m != nil {
			if m.ConcentrationPercent != nil {
				strength = strconv.FormatFloat(*m.ConcentrationPercent, 'f', -1, 64)
			}
			if m.LimitPercent != nil {
				limit = strconv.FormatFloat(*m.LimitPercent, 'f', -1, 64)
			}
			if m.OverLimit != nil {
				over = strconv.FormatBool(*m.OverLimit)
			}
			if m.Quantity != nil {
				quantity = m.Quantity.Text
			}
		}
		row := []string{
			a.Key, a.Severity.String(), strconv.FormatFloat(a.Score, 'f', -1, 64), strings.Join(a.Reasons, "; "), string(a.Status), a.Substance, a.Name, string(a.Regime), a.Site,
			a.Listing.Vendor, a.Listing.Title, strconv.FormatFloat(a.Listing.Price, 'f', -1, 64),
			a.Listing.Currency, a.Listing.URL, a.Assignee, a.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
			a.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"), a.Listing.PageSHA256, strings.Join(matchTerms(a), "; "),
			strength, limit, over, quantity,
		}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return nil, fmt.Errorf("console: export csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, fmt.Errorf("console: export csv: %w", err)
	}
	return buf.Bytes(), nil
}

// csvSafe defuses spreadsheet formula injection: a cell starting with = + -
// @ (or a tab or carriage return, which some spreadsheets skip) is prefixed
// with a quote so it is read as text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
