package main

import (
	"reflect"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// negativeNumbers names each negative number of site i (limits, durations,
// counts), each at its own field: "sites[1].limits.max_pages: must be >= 0,
// got -3". It reads the Site type itself, so that a field added later is
// checked too.
func negativeNumbers(doc *yamlfile.Doc, i int, s precwatch.Site) yamlfile.Errors {
	var errs yamlfile.Errors
	var walk func(v reflect.Value, path []any)
	walk = func(v reflect.Value, path []any) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			for j := range v.NumField() {
				f := v.Type().Field(j)
				name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				if !f.IsExported() || name == "" || name == "-" {
					continue
				}
				walk(v.Field(j), append(path[:len(path):len(path)], name))
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if v.Int() < 0 {
				var got any = v.Int()
				if v.Type() == reflect.TypeFor[time.Duration]() {
					got = time.Duration(v.Int())
				}
				errs = append(errs, doc.Errorf(path, "must be >= 0, got %v", got))
			}
		case reflect.Float32, reflect.Float64:
			if v.Float() < 0 {
				errs = append(errs, doc.Errorf(path, "must be >= 0, got %v", v.Float()))
			}
		}
	}
	walk(reflect.ValueOf(s), []any{"sites", i})
	return errs
}
