package extract

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

// TestFormPagination: a next_page rule that selects a GET form, or one of
// its submit buttons, is followed to the URL a browser submits it to (the
// form's entry list in tree order, only the clicked button among the
// buttons); a POST form (urlencoded) is followed by its submission, the
// action URL and the entries as its body; a multipart one or an element
// with no link gives none, and says so in NextUnfollowed.
func TestFormPagination(t *testing.T) {
	page, _ := url.Parse("http://market.onion/list/all?page=2&sort=new")
	for _, c := range []struct {
		name, body, next string
		want             []string
		unfollowed       string // in NextUnfollowed; "" for none
		posts            []Submission
	}{
		{"the form, hidden inputs and its button",
			`<form action="/list/all" class="pg"><input type="hidden" name="page" value="3"><input type="hidden" name="c" value="a+b/=="><input type="submit" name="go" value="Next"></form>`,
			"form.pg", []string{"http://market.onion/list/all?page=3&c=a%2Bb%2F%3D%3D&go=Next"}, "", nil},
		{"one button of two in a shared form",
			`<form action="/list/all" method="GET"><input type="hidden" name="cur" value="X9"><button name="dir" value="prev">Prev</button><button name="dir" value="next">Next</button></form>`,
			"button[value=next]", []string{"http://market.onion/list/all?cur=X9&dir=next"}, "", nil},
		{"the form: its first enabled button",
			`<form action="/p"><button name="b" value="1" disabled>A</button><input type="submit" name="b" value="2"><input type="submit" name="b" value="3"></form>`,
			"form", []string{"http://market.onion/p?b=2"}, "", nil},
		{"empty action: this page, its query replaced",
			`<form><input type="hidden" name="page" value="3"><input type="submit" value="Next"></form>`,
			"form", []string{"http://market.onion/list/all?page=3"}, "", nil},
		{"relative to base href",
			`<base href="http://market.onion/shop/"><form action="liste"><input type="hidden" name="p" value="3"><input type="submit"></form>`,
			"form", []string{"http://market.onion/shop/liste?p=3"}, "", nil},
		{"formaction and formmethod of the button",
			`<form method="post" action="/cart"><input type="hidden" name="p" value="3"><button formaction="/list" formmethod="get">Next</button></form>`,
			"button", []string{"http://market.onion/list?p=3"}, "", nil},
		{"a button outside its form, by form=",
			`<form id="pg" action="/l"><input type="hidden" name="p" value="4"></form><input type="hidden" form="pg" name="q" value="x"><input type="submit" form="pg" value="Next">`,
			"input[type=submit]", []string{"http://market.onion/l?p=4&q=x"}, "", nil},
		{"what a browser sends and leaves out",
			`<form action="/l"><input name="q" value="acid"><input type="checkbox" name="instock" value="1" checked><input type="checkbox" name="escrow"><input type="radio" name="r" value="a"><input type="radio" name="r" value="b" checked>` +
				`<select name="per"><option>20</option><option selected>50</option></select><select name="cat"><option disabled>-</option><option value="chem">Chemicals</option></select>` +
				`<textarea name="t">x y</textarea><input name="off" value="1" disabled><fieldset disabled><input name="off2" value="1"></fieldset><input type="reset" name="rs"><input type="file" name="f"><input name="" value="noname"><input type="image" name="go" src="n.png"></form>`,
			"input[type=image]", []string{"http://market.onion/l?q=acid&instock=1&r=b&per=50&cat=chem&t=x+y&go.x=0&go.y=0"}, "", nil},
		{"a POST form",
			`<form method="post" action="/list"><input type="hidden" name="p" value="3"><input type="submit" value="Next"></form>`,
			"form", nil, "", []Submission{{URL: "http://market.onion/list", Post: true, Body: "p=3"}}},
		{"a POST form's Next button, the action's query kept",
			`<form method="POST" action="list.php?cat=7#top"><input type="hidden" name="pg" value="2"><input type="hidden" name="tok" value="a b"><input type="submit" name="go" value="Prev"><input type="submit" name="go" value="Next"></form>`,
			"input[value=Next]", nil, "", []Submission{{URL: "http://market.onion/list/list.php?cat=7", Post: true, Body: "pg=2&tok=a+b&go=Next"}}},
		{"a multipart POST form",
			`<form method="post" enctype="multipart/form-data" action="/list"><input type="hidden" name="p" value="3"><input type="submit" value="Next"></form>`,
			"form", nil, "<form> (a POST form with enctype multipart/form-data, not application/x-www-form-urlencoded)", nil},
		{"a dialog form",
			`<form method="dialog"><input type="submit" value="Next"></form>`,
			"form", nil, "<form> (a form submitted with method DIALOG, not GET or POST)", nil},
		{"an element with no link",
			`<span class="next">Next</span>`,
			"span.next", nil, "<span> (no link)", nil},
		{"the last page's pager label",
			`<li class="next disabled"><span>Next »</span></li>`,
			"li.next", nil, "<li> (no link)", nil},
		{"a URL written as text",
			`<span class="next">/list/all?page=3</span>`,
			"span.next", []string{"http://market.onion/list/all?page=3"}, "", nil},
		{"a link still a link",
			`<a class="next" href="/list/all?page=3">Next</a>`,
			"a.next", []string{"http://market.onion/list/all?page=3"}, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ex, err := New(precwatch.Extraction{Listing: "div.row", Title: "h2", NextPage: c.next})
			if err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(`<html><head></head><body>` + c.body + `</body></html>`))
			if err != nil {
				t.Fatal(err)
			}
			res, err := ex.Extract(doc, page)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.NextPages, c.want) {
				t.Errorf("NextPages = %q, want %q", res.NextPages, c.want)
			}
			if !slices.Equal(res.NextPosts, c.posts) {
				t.Errorf("NextPosts = %+v, want %+v", res.NextPosts, c.posts)
			}
			if res.NextUnfollowed != c.unfollowed {
				t.Errorf("NextUnfollowed = %q, want %q", res.NextUnfollowed, c.unfollowed)
			}
			if wantForm := strings.HasPrefix(c.unfollowed, "<form>"); res.NextFormUnfollowed != wantForm {
				t.Errorf("NextFormUnfollowed = %v, want %v", res.NextFormUnfollowed, wantForm)
			}
		})
	}
}
