package main

import (
	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// checkCircuitsMirrors validates a site's circuits against its parallelism
// and its mirrors (issue 8; negative numbers are negativeNumbers'); at makes
// the path of one of the site's fields.
func checkCircuitsMirrors(doc *yamlfile.Doc, at func(field ...any) []any, s precwatch.Site) yamlfile.Errors {
	var errs yamlfile.Errors
	if p := s.Politeness.Parallelism; s.Circuits > 0 && p > s.Circuits {
		errs = append(errs, doc.Errorf(at("politeness", "parallelism"),
			"parallelism %d exceeds circuits %d: each circuit carries one request at a time (raise circuits or leave parallelism out)", p, s.Circuits))
	}
	if len(s.StartURLs) > 0 {
		if j, err := crawler.CheckMirrors(s.StartURLs[0], s.Mirrors); err != nil {
			errs = append(errs, doc.Errorf(at("mirrors", j), "%v", err))
		}
	}
	for j, h := range s.ExtraHosts {
		if _, err := precwatch.SiteHost(h); err != nil {
			errs = append(errs, doc.Errorf(at("hosts", j), "%v", err))
		}
	}
	return errs
}
