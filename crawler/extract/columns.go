package extract

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits on the table layout a column rule computes: spans past them are
// cut (HTML caps colspan at 1000 and rowspan at 65534; no price list
// needs more than this), rows past maxTableRows are not laid out.
const (
	maxColspan   = 64
	maxRowspan   = 1000
	maxTableRows = 5000
	maxColumns   = 256
)

// columnRule parses a rule starting "column(NAME)": the cell of the
// listing's table row under the header cell named NAME, and the rest of
// the rule read inside that cell ("column(Product) a @href"). ok is false
// for any other rule.
func columnRule(spec string) (name, rest string, ok bool, err error) {
	if !strings.HasPrefix(spec, "column(") {
		return "", "", false, nil
	}
	end := strings.IndexByte(spec, ')')
	if end < 0 {
		return "", "", true, fmt.Errorf("column rule %q: no closing parenthesis", spec)
	}
	name = strings.Trim(strings.TrimSpace(spec[len("column("):end]), `"'`)
	if name == "" {
		return "", "", true, fmt.Errorf("column rule %q: name the column as its header shows it, column(Price)", spec)
	}
	return collapse(name), strings.TrimSpace(spec[end+1:]), true, nil
}

// collapse lowercases s and collapses its whitespace, as header names are
// compared.
func collapse(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// columnCell is the cell of the table row c is (or is in) that stands in
// the column whose header reads name, as a browser lays the table out: a
// cell spanning columns (colspan) stands under each header it spans, and a
// cell spanning rows (rowspan) from an earlier row stands in each row it
// covers. The header row is the table's first row of <th> cells only (or
// its <thead>'s first row). A header that reads name exactly wins over one
// that starts with it ("Price (EUR)" for column(Price)). nil when c is in
// no table row, the table has no such header, or the row no such cell.
func columnCell(c *html.Node, name string) *html.Node {
	tr := c
	for tr != nil && tr.DataAtom != atom.Tr {
		tr = tr.Parent
	}
	if tr == nil {
		return nil
	}
	table := tr.Parent
	for table != nil && table.DataAtom != atom.Table {
		table = table.Parent
	}
	if table == nil {
		return nil
	}
	col := -1
	var carry []spanCell // rowspans over the rows of one row group
	group := (*html.Node)(nil)
	rows := 0
	for _, row := range tableRows(table) {
		if rows++; rows > maxTableRows {
			return nil
		}
		if row.Parent != group {
			group, carry = row.Parent, nil // rowspans end with their row group
		}
		var slots []*html.Node
		slots, carry = layoutRow(row, carry)
		if col < 0 && headerRow(row) {
			col = headerColumn(slots, name)
			if row == tr {
				return nil
			}
			continue
		}
		if row == tr {
			if col < 0 || col >= len(slots) {
				return nil
			}
			return slots[col]
		}
	}
	return nil
}

// spanCell is a cell still covering rows below its own.
type spanCell struct {
	cell *html.Node
	left int
}

// layoutRow places row's cells in columns after the cells of earlier rows
// spanning into it (carry), returning the row's cell per column and what
// spans on into the next row.
func layoutRow(row *html.Node, carry []spanCell) ([]*html.Node, []spanCell) {
	var slots []*html.Node
	next := make([]spanCell, len(carry))
	col := 0
	fillCarried := func() {
		for col < len(carry) && carry[col].left > 0 {
			slots = append(slots, carry[col].cell)
			next[col] = spanCell{carry[col].cell, carry[col].left - 1}
			col++
		}
	}
	for cell := row.FirstChild; cell != nil; cell = cell.NextSibling {
		if cell.Type != html.ElementNode || cell.DataAtom != atom.Td && cell.DataAtom != atom.Th {
			continue
		}
		fillCarried()
		span, down := spanAttr(cell, "colspan", maxColspan), spanAttr(cell, "rowspan", maxRowspan)
		for k := 0; k < span && col < maxColumns; k++ {
			for len(slots) < col {
				slots = append(slots, nil)
			}
			slots = append(slots, cell)
			for len(next) <= col {
				next = append(next, spanCell{})
			}
			next[col] = spanCell{cell, down - 1}
			col++
		}
	}
	for col < len(carry) {
		if carry[col].left > 0 {
			for len(slots) < col {
				slots = append(slots, nil)
			}
			slots = append(slots, carry[col].cell)
			next[col] = spanCell{carry[col].cell, carry[col].left - 1}
		}
		col++
	}
	return slots, next
}

// spanAttr reads a colspan or rowspan: 1 when absent or bad, at most max;
// rowspan="0" (to the end of the row group) is max.
func spanAttr(cell *html.Node, key string, max int) int {
	v, ok := attr(cell, key)
	if !ok {
		return 1
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil || n < 0:
		return 1
	case n == 0:
		if key == "rowspan" {
			return max
		}
		return 1
	case n > max:
		return max
	}
	return n
}

// tableRows are the rows of table in document order, in its row groups
// (thead, tbody, tfoot) or directly in it; a nested table's are not.
func tableRows(table *html.Node) []*html.Node {
	var rows []*html.Node
	for n := table.FirstChild; n != nil; n = n.NextSibling {
		switch n.DataAtom {
		case atom.Tr:
			rows = append(rows, n)
		case atom.Thead, atom.Tbody, atom.Tfoot:
			for r := n.FirstChild; r != nil; r = r.NextSibling {
				if r.DataAtom == atom.Tr {
					rows = append(rows, r)
				}
			}
		}
	}
	return rows
}

// headerRow reports whether row names the columns: in a <thead>, or made
// of <th> cells only.
func headerRow(row *html.Node) bool {
	if row.Parent != nil && row.Parent.DataAtom == atom.Thead {
		return true
	}
	cells := 0
	for c := row.FirstChild; c != nil; c = c.NextSibling {
		switch c.DataAtom {
		case atom.Td:
			return false
		case atom.Th:
			cells++
		}
	}
	return cells > 0
}

// headerColumn is the column of the header cell that reads name, else of
// the first that starts with it; -1 when none does.
func headerColumn(slots []*html.Node, name string) int {
	prefix := -1
	for i, cell := range slots {
		if cell == nil || i > 0 && slots[i-1] == cell {
			continue
		}
		h := collapse(nodeText(cell, 200))
		if h == name {
			return i
		}
		if prefix < 0 && strings.HasPrefix(h, name) {
			prefix = i
		}
	}
	return prefix
}
