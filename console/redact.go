package console

import (
	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// redactRuns hides the password of any URL in the runs' errors and block
// page before the console shows them: the crawler records them redacted,
// but a record written by an older version may hold a start URL's
// user:password (issue 10).
func redactRuns(runs []precwatch.Run) {
	for i := range runs {
		r := &runs[i]
		for j, e := range r.Errors {
			r.Errors[j] = yamlfile.RedactURLs(e)
		}
		if r.Block != nil {
			b := *r.Block
			b.URL, b.Reason = yamlfile.RedactURLs(b.URL), yamlfile.RedactURLs(b.Reason)
			r.Block = &b
		}
	}
}
