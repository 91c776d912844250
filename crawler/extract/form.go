package extract

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Pagination by a form: some markets page with a GET form whose hidden
// inputs carry the page number or an opaque cursor, and a "Next" submit
// button (no link to follow). A next_page rule that selects such a form,
// or one of its submit buttons, is followed as a click on the button
// would be: the URL a browser builds for the form's submission. A POST
// form's submission is no URL, and is not followed (see
// Result.NextUnfollowed).

// submitControl reports whether n is a submit button: <input type=submit
// or image>, or a <button> of type submit (its default).
func submitControl(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	typ, _ := attr(n, "type")
	typ = strings.ToLower(strings.TrimSpace(typ))
	switch n.DataAtom {
	case atom.Input:
		return typ == "submit" || typ == "image"
	case atom.Button:
		return typ == "" || typ == "submit"
	}
	return false
}

// formOwner is the form a control belongs to: the one its form attribute
// names by id, else its nearest form ancestor.
func formOwner(root, n *html.Node) *html.Node {
	if id, ok := attr(n, "form"); ok {
		return elementByID(root, strings.TrimSpace(id), atom.Form)
	}
	return nearestForm(n)
}

// elementByID is the first element of kind a with the given id under root.
func elementByID(root *html.Node, id string, a atom.Atom) *html.Node {
	if id == "" {
		return nil
	}
	var found *html.Node
	walkElements(root, func(n *html.Node) bool {
		if v, ok := attr(n, "id"); ok && n.DataAtom == a && v == id {
			found = n
			return false
		}
		return true
	})
	return found
}

// walkElements calls f on every element under root in tree order, until f
// returns false. It walks iteratively, as nodeText does, so hostile
// nesting cannot exhaust the stack.
func walkElements(root *html.Node, f func(*html.Node) bool) {
	for n := root; n != nil; {
		if n.Type == html.ElementNode && !f(n) {
			return
		}
		if n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		for n != root && n.NextSibling == nil {
			n = n.Parent
		}
		if n == root {
			return
		}
		n = n.NextSibling
	}
}

// formControls lists the controls of form in tree order: those inside it
// that no form attribute sends elsewhere, and those elsewhere whose form
// attribute names it.
func formControls(root, form *html.Node) []*html.Node {
	id, _ := attr(form, "id")
	id = strings.TrimSpace(id)
	var out []*html.Node
	walkElements(root, func(n *html.Node) bool {
		switch n.DataAtom {
		case atom.Input, atom.Button, atom.Select, atom.Textarea:
			// Not formOwner: no look-up by id per control.
			if f, ok := attr(n, "form"); ok {
				if id != "" && strings.TrimSpace(f) == id {
					out = append(out, n)
				}
			} else if nearestForm(n) == form {
				out = append(out, n)
			}
		}
		return true
	})
	return out
}

// nearestForm is n's nearest form ancestor.
func nearestForm(n *html.Node) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.DataAtom == atom.Form {
			return p
		}
	}
	return nil
}

// disabledControl reports whether n is disabled, by its own attribute or
// a disabled fieldset around it.
func disabledControl(n *html.Node) bool {
	if _, ok := attr(n, "disabled"); ok {
		return true
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == atom.Fieldset {
			if _, ok := attr(p, "disabled"); ok {
				return true
			}
		}
	}
	return false
}

// formNext returns the submission a click on n makes when n is a form (its
// first submit button clicked, as the Enter key does) or a submit button
// of one, and whether n is either. A GET form's submission is the URL with
// the form's entries as its query; a POST form's (urlencoded, as a form
// without enctype is) is the action URL and body, the entries. The URL is
// "" for a form whose submission cannot be made (a multipart upload form,
// an action that is not an http(s) URL); why is in the third string.
func formNext(root, n *html.Node, page, base *url.URL) (sub Submission, why string, isForm bool) {
	var form, submitter *html.Node
	switch {
	case n.Type == html.ElementNode && n.DataAtom == atom.Form:
		form = n
		for _, c := range formControls(root, form) {
			if submitControl(c) && !disabledControl(c) {
				submitter = c
				break
			}
		}
	case submitControl(n):
		form, submitter = formOwner(root, n), n
		if form == nil {
			return sub, "a submit button outside any form", true
		}
	default:
		return sub, "", false
	}
	method, _ := attr(form, "method")
	action, hasAction := attr(form, "action")
	enctype, _ := attr(form, "enctype")
	if submitter != nil {
		if m, ok := attr(submitter, "formmethod"); ok {
			method = m
		}
		if a, ok := attr(submitter, "formaction"); ok {
			action, hasAction = a, true
		}
		if e, ok := attr(submitter, "formenctype"); ok {
			enctype = e
		}
	}
	switch m := strings.ToLower(strings.TrimSpace(method)); m {
	case "", "get":
	case "post":
		if e := strings.ToLower(strings.TrimSpace(enctype)); e != "" && e != "application/x-www-form-urlencoded" {
			return sub, "a POST form with enctype " + e + ", not application/x-www-form-urlencoded", true
		}
		sub.Post = true
	default:
		return sub, "a form submitted with method " + strings.ToUpper(m) + ", not GET or POST", true
	}
	// An empty action is the document's own URL; another resolves against
	// <base href>, as the page's links do.
	u := resolve(base, action)
	if strings.TrimSpace(action) == "" || !hasAction {
		cp := *page
		u = &cp
	}
	if u == nil {
		return Submission{}, "a form whose action is not an http(s) URL", true
	}
	u.Fragment, u.RawFragment = "", ""
	if sub.Post {
		// A POST goes to the action as written, its query included.
		sub.Body = formQuery(root, form, submitter)
	} else {
		u.RawQuery = formQuery(root, form, submitter)
	}
	sub.URL = u.String()
	return sub, "", true
}

// Submission is a form's submission: a GET's URL, or a POST's URL and
// urlencoded body.
type Submission struct {
	URL  string
	Post bool
	Body string
	// JSON marks a body sent as application/json (a GraphQL query)
	// rather than a form's urlencoded entries.
	JSON bool
}

// formQuery encodes the form's entry list as a browser builds it for a
// submission by submitter (nil: none), in tree order: named controls that
// are not disabled, checked boxes and radios only, a select's selected
// options (its first when none is), and of the buttons only the submitter.
func formQuery(root, form, submitter *html.Node) string {
	var b strings.Builder
	add := func(name, value string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(value))
	}
	for _, c := range formControls(root, form) {
		if disabledControl(c) {
			continue
		}
		name, _ := attr(c, "name")
		value, hasValue := attr(c, "value")
		typ, _ := attr(c, "type")
		typ = strings.ToLower(strings.TrimSpace(typ))
		if c.DataAtom == atom.Input && typ == "image" {
			if c == submitter {
				prefix := ""
				if name != "" {
					prefix = name + "."
				}
				add(prefix+"x", "0")
				add(prefix+"y", "0")
			}
			continue
		}
		if name == "" {
			continue
		}
		switch c.DataAtom {
		case atom.Button:
			if c == submitter {
				add(name, value)
			}
		case atom.Textarea:
			add(name, textContent(c))
		case atom.Select:
			selectValues(c, func(v string) { add(name, v) })
		case atom.Input:
			switch typ {
			case "submit":
				if c == submitter {
					if !hasValue {
						value = "Submit"
					}
					add(name, value)
				}
			case "checkbox", "radio":
				if _, checked := attr(c, "checked"); checked {
					if !hasValue {
						value = "on"
					}
					add(name, value)
				}
			case "button", "reset", "file":
			default: // hidden, text, search, number, ...
				add(name, value)
			}
		}
	}
	return b.String()
}

// selectValues calls f with the value of each option a select submits:
// those marked selected (the last one, in a single select), else the
// first enabled one of a single select.
func selectValues(sel *html.Node, f func(string)) {
	_, multiple := attr(sel, "multiple")
	var options []*html.Node
	walkElements(sel, func(n *html.Node) bool {
		if n.DataAtom == atom.Option {
			options = append(options, n)
		}
		return true
	})
	optionValue := func(o *html.Node) string {
		if v, ok := attr(o, "value"); ok {
			return v
		}
		return strings.Join(strings.Fields(textContent(o)), " ")
	}
	var chosen []*html.Node
	for _, o := range options {
		if _, ok := attr(o, "selected"); ok {
			if !multiple {
				chosen = chosen[:0]
			}
			chosen = append(chosen, o)
		}
	}
	if len(chosen) == 0 && !multiple {
		for _, o := range options {
			if _, disabled := attr(o, "disabled"); !disabled {
				chosen = append(chosen, o)
				break
			}
		}
	}
	for _, o := range chosen {
		if _, disabled := attr(o, "disabled"); !disabled {
			f(optionValue(o))
		}
	}
}

// textContent is the text of n's descendants as written (a textarea's
// value, an option's label).
func textContent(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		} else {
			b.WriteString(textContent(c))
		}
	}
	return b.String()
}
