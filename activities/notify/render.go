// Package notify turns a case's messages into email, SMS and webhook calls:
// the templates in both languages, the SMTP client, the signed webhook
// request and the signed survey link. The activities decide when to send;
// this package only knows how.
package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

//go:embed templates
var templates embed.FS

// Content is what a template is filled with. Nothing here is logged.
type Content struct {
	Kind      string // acknowledgement, ..., or staff
	Language  string // zh or en
	Reference string
	Name      string
	// Text is the case-specific part: the proposal, the closing summary.
	Text        string
	SurveyLink  string
	LinkExpires string
	Signature   string
	// Staff notices only: Notice is warning, escalation or unanswered.
	Notice   string
	Clock    string
	Level    int
	DueAt    string
	CaseLink string
	Subject  string // set by Render for the HTML title
	// StatusLink, when set, is the customer's status page: every message
	// to the customer ends with it.
	StatusLink string
}

// Rendered is a message ready for any channel: SMS takes the text alone.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// Renderer holds the parsed templates of every language.
type Renderer struct {
	text map[string]*texttemplate.Template
	// pages holds, per language and kind, the layout with that kind's body
	// in it: put together once here, not for every message, since cloning
	// and parsing cost more than filling the page in. A parsed template may
	// be executed by many goroutines at once.
	pages map[string]map[string]*htmltemplate.Template
}

// Languages are those a customer may choose at intake; Chinese is the default.
var Languages = []string{"zh", "en"}

// NewRenderer parses the embedded templates; a broken template fails here,
// at start-up, not when a customer is waiting for the message.
func NewRenderer() (*Renderer, error) {
	r := &Renderer{text: map[string]*texttemplate.Template{}, pages: map[string]map[string]*htmltemplate.Template{}}
	for _, lang := range Languages {
		t, err := texttemplate.New(lang+".txt.tmpl").Funcs(labelFuncs(lang)).ParseFS(templates, "templates/"+lang+".txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse %s text templates: %w", lang, err)
		}
		h, err := htmltemplate.New(lang+".html.tmpl").Funcs(labelFuncs(lang)).ParseFS(templates, "templates/"+lang+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse %s HTML templates: %w", lang, err)
		}
		r.text[lang], r.pages[lang] = t, map[string]*htmltemplate.Template{}
		for _, body := range h.Templates() {
			kind, ok := strings.CutSuffix(body.Name(), ".html")
			if !ok {
				continue
			}
			page, err := h.Clone()
			if err != nil {
				return nil, err
			}
			if _, err := page.New("body").Parse(`{{template "` + body.Name() + `" .}}`); err != nil {
				return nil, fmt.Errorf("%s HTML page for %s: %w", lang, kind, err)
			}
			r.pages[lang][kind] = page
		}
	}
	return r, nil
}

// Render fills the subject, text and HTML of one message. Staff notices are
// in English whatever the customer's language.
func (r *Renderer) Render(c Content) (Rendered, error) {
	lang := "zh"
	if c.Language == "en" || c.Kind == "staff" {
		lang = "en"
	}
	c.Language = lang
	t := r.text[lang]
	var out Rendered
	var err error
	if out.Subject, err = execText(t, c.Kind+".subject", c); err != nil {
		return out, err
	}
	if out.Text, err = execText(t, c.Kind+".text", c); err != nil {
		return out, err
	}
	c.Subject = out.Subject
	page, ok := r.pages[lang][c.Kind]
	if !ok {
		return out, fmt.Errorf("no HTML template for %s", c.Kind)
	}
	var b bytes.Buffer
	if err := page.ExecuteTemplate(&b, "layout", c); err != nil {
		return out, fmt.Errorf("render %s HTML: %w", c.Kind, err)
	}
	out.HTML = b.String()
	if c.StatusLink != "" && c.Kind != "staff" {
		out = withStatusLink(out, lang, c.StatusLink)
	}
	return out, nil
}

// statusLinkLine introduces the status page's link, per language.
var statusLinkLine = map[string]string{
	"zh": "查看处理进度、回复或上传照片：",
	"en": "Follow your case, reply or send photos:",
}

// withStatusLink ends a customer message with the status page's link; one
// place for every template, so that no message goes out without it.
func withStatusLink(r Rendered, lang, link string) Rendered {
	line := statusLinkLine[lang]
	r.Text += "\n\n" + line + "\n" + link
	esc := htmltemplate.HTMLEscapeString(link)
	p := `<p>` + htmltemplate.HTMLEscapeString(line) + ` <a href="` + esc + `">` + esc + `</a></p>`
	if i := strings.LastIndex(r.HTML, "</body>"); i >= 0 {
		r.HTML = r.HTML[:i] + p + r.HTML[i:]
	} else {
		r.HTML += p
	}
	return r
}

func execText(t *texttemplate.Template, name string, c Content) (string, error) {
	if t.Lookup(name) == nil {
		return "", fmt.Errorf("no template %q", name)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, name, c); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// labels name departments and dispute stages in the customer's language;
// a key without a label (a department configured later) shows as it is.
var labels = map[string]map[string]string{
	"zh": {
		"customer_service": "客户服务部", "after_sales": "售后服务部", "technical": "技术部", "product": "产品部",
		"logistics": "物流部", "billing": "财务部", "legal": "法务部",
		"negotiation": "协商", "mediation": "调解", "arbitration": "仲裁", "litigation": "诉讼",
	},
	"en": {
		"customer_service": "customer service", "after_sales": "after-sales service", "technical": "the technical team",
		"product": "the product team", "logistics": "logistics", "billing": "billing", "legal": "the legal team",
		"negotiation": "negotiation", "mediation": "mediation", "arbitration": "arbitration", "litigation": "litigation",
	},
}

func labelFuncs(lang string) map[string]any {
	label := func(key string) string {
		if l, ok := labels[lang][key]; ok {
			return l
		}
		return strings.ReplaceAll(key, "_", " ")
	}
	sep := ", "
	if lang == "zh" {
		sep = "、"
	}
	return map[string]any{
		"stage": label,
		// teams names the departments of a comma-separated list.
		"teams": func(keys string) string {
			var out []string
			for k := range strings.SplitSeq(keys, ",") {
				if k = strings.TrimSpace(k); k != "" {
					out = append(out, label(k))
				}
			}
			return strings.Join(out, sep)
		},
	}
}
