package desk

import (
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

// page is what every template gets.
type page struct {
	Lang    string
	Zone    string
	CSRF    string
	User    string
	Role    string
	Path    string
	Queues  []queueTab
	Content any
	// Retry, in milliseconds, has the page load itself again: a read the
	// API could not answer just now (busy or away) is tried again by the
	// browser, with a growing pause, instead of leaving a dead page.
	Retry int
	// Detail is said after the notice (an API's refusal).
	Detail string
	// Resend is a form sent without an answer, to send again.
	Resend *resendForm
}

type queueTab struct {
	Name    store.Queue
	Count   int
	Current bool
	Href    string
}

// fieldContext is what the field template gets: the language, the field,
// the form's id (ids stay unique across the page's forms).
type fieldContext struct {
	L  string
	F  field
	ID string
}

var templates = map[string]*template.Template{}

func init() {
	for _, name := range []string{"queue", "case", "signedout", "error"} {
		templates[name] = template.Must(template.New("layout.html").Funcs(template.FuncMap{
			"t":        func(lang, key string) string { return translate(lang, key) },
			"lower":    strings.ToLower,
			"join":     strings.Join,
			"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
			"str":      func(v any) string { s, _ := json.Marshal(v); return strings.Trim(string(s), `"`) },
			"deref":    func(b *bool) bool { return b != nil && *b },
			"contains": func(vs []string, v string) bool { return slices.Contains(vs, v) },
			"dict": func(l string, f field, id ...string) fieldContext {
				return fieldContext{L: l, F: f, ID: strings.Join(id, "")}
			},
		}).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
}

func (d *Desk) render(w http.ResponseWriter, r *http.Request, status int, name string, p page, ss *session) {
	if ss != nil {
		p.Lang, p.CSRF, p.User, p.Role, p.Zone = ss.Lang, ss.CSRF, ss.Name, string(ss.Who.Role), ss.ZoneName
	}
	if p.Lang == "" {
		p.Lang = langOf(preferredLang(r))
	}
	p.Path = r.URL.RequestURI()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := templates[name].Execute(w, p); err != nil {
		d.log.ErrorContext(r.Context(), "desk page", "page", name, "error", err)
	}
}

func (d *Desk) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	d.render(w, r, status, "error", page{Content: key}, nil)
}

// busy answers a page the API or the database could not give just now. A
// read (GET) tries again by itself. A form (POST) is never sent again by
// the browser on its own: its page says whether it reached the API, and
// one not sent or sent without an answer comes back as a form of its own,
// the same fields and idempotency key, whose "send again" applies it at
// most once; one the API refused goes back to the case to be corrected.
func (d *Desk) busy(w http.ResponseWriter, r *http.Request, ss *session, sent *problem) {
	var p page
	switch {
	case r.Method == http.MethodGet:
		p = page{Content: "busy", Retry: int(d.cfg.PollInterval / time.Millisecond)}
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(d.cfg.PollInterval/time.Second))))
	case sent != nil && sent.Status < 500:
		p = page{Content: "busy.refused", Detail: sent.String()}
	case sent != nil:
		p = page{Content: "busy.unknown", Resend: resendOf(r)}
	default:
		p = page{Content: "busy.post", Resend: resendOf(r)}
	}
	d.render(w, r, http.StatusServiceUnavailable, "error", p, ss)
}

// resendForm is a form sent that had no answer, ready to be sent again.
type resendForm struct {
	Action string
	Fields []resendField
}

type resendField struct{ Name, Value string }

func resendOf(r *http.Request) *resendForm {
	f := &resendForm{Action: r.URL.Path}
	for _, name := range slices.Sorted(maps.Keys(r.PostForm)) {
		if name == "csrf" {
			continue // the page's own
		}
		for _, v := range r.PostForm[name] {
			f.Fields = append(f.Fields, resendField{name, v})
		}
	}
	return f
}

func (d *Desk) notFound(w http.ResponseWriter, r *http.Request, ss *session) {
	d.render(w, r, http.StatusNotFound, "error", page{Content: "notfound"}, ss)
}

// --- queues

type queueContent struct {
	Queue    store.Queue
	Filter   store.QueueFilter
	Items    []queueRow
	Statuses []complaint.Status
	Cats     []complaint.Category
	Prios    []complaint.Priority
	Depts    []string
	Sort     string
}

type queueRow struct {
	store.QueueItem
	Received string
	Next     string
	NextISO  string
	Overdue  bool
}

// defaultQueue is where a person starts: department staff at their
// departments' cases, agents at their own, supervisors up at the desk's.
func defaultQueue(id auth.Identity) store.Queue {
	switch id.Role {
	case auth.RoleDepartment:
		return store.QueueDepartment
	case auth.RoleAgent:
		return store.QueueMine
	}
	return store.QueueDesk
}

func (d *Desk) queuePage(w http.ResponseWriter, r *http.Request, ss *session) {
	q := r.URL.Query()
	queue := store.Queue(q.Get("queue"))
	if !slices.Contains(store.Queues, queue) {
		queue = defaultQueue(ss.Who)
	}
	f := store.QueueFilter{Queue: queue, Person: ss.Who.Subject, Departments: ss.Who.Departments,
		Scoped: ss.Who.Role == auth.RoleDepartment, Q: q.Get("q"), Category: q.Get("category"),
		Priority: q.Get("priority"), Status: q.Get("status"), Owner: q.Get("owner"), Dept: q.Get("department"),
		Channel: q.Get("channel"), Breached: q.Get("breached") == "true", From: q.Get("from"), To: q.Get("to"),
		ByDeadline: q.Get("sort") == "deadline", Now: d.now(), Limit: 100,
		Escalated: q.Get("escalated") == "true", Repeat: q.Get("repeat") == "true", Resolved: q.Get("resolved") == "true",
		Clock: q.Get("clock"), RootCause: q.Get("rootCause")}
	if n, err := strconv.Atoi(q.Get("score")); err == nil && n >= 1 && n <= 5 {
		f.Score = n
	}
	items, err := d.queues.QueueCases(r.Context(), f)
	if err != nil {
		d.log.WarnContext(r.Context(), "desk queue", "error", err)
		d.busy(w, r, ss, nil)
		return
	}
	counts, err := d.queues.QueueCounts(r.Context(), f)
	if err != nil {
		d.log.WarnContext(r.Context(), "desk queue counts", "error", err)
	}
	p := page{}
	for _, name := range store.Queues {
		v := url.Values{}
		for k, vs := range q {
			if k != "queue" {
				v[k] = vs
			}
		}
		v.Set("queue", string(name))
		p.Queues = append(p.Queues, queueTab{Name: name, Count: counts[name], Current: name == queue, Href: "/desk/?" + v.Encode()})
	}
	c := queueContent{Queue: queue, Filter: f, Statuses: complaint.Statuses, Cats: complaint.Categories,
		Prios: complaint.Priorities, Depts: ss.Who.Departments, Sort: q.Get("sort")}
	for _, it := range items {
		row := queueRow{QueueItem: it, Received: it.ReceivedAt.In(ss.zone).Format("2006-01-02 15:04")}
		if it.NextDeadline != nil {
			row.Next = it.NextDeadline.In(ss.zone).Format("2006-01-02 15:04")
			row.NextISO = it.NextDeadline.UTC().Format(time.RFC3339)
			row.Overdue = it.NextDeadline.Before(d.now())
		}
		c.Items = append(c.Items, row)
	}
	p.Content = c
	d.render(w, r, http.StatusOK, "queue", p, ss)
}

// --- the case

type taskOption struct {
	Name    string          `json:"name"`
	Allowed bool            `json:"allowed"`
	Reason  string          `json:"reason"`
	Schema  json.RawMessage `json:"schema"`
}

type taskForm struct {
	Name    string
	Allowed bool
	Reason  string
	Fields  []field
	Error   string // a 409 or an error no field takes
	Open    bool
	// Key is the form's idempotency key: a double click, or the same form
	// sent again after a busy moment, applies the task once.
	Key string
}

// newKey is a fresh idempotency key for a form.
func newKey() string {
	return rand.Text()
}

// validKey: a key the desk made (rand.Text: 26 base32 letters).
func validKey(k string) bool {
	if len(k) != 26 {
		return false
	}
	for _, c := range k {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

type caseContent struct {
	Case complaint.CaseView
	// Messages are the case's emails, SMS and webhooks with their delivery
	// state, for the roles that may read deliveries (supervisors up,
	// operators); nil for the others.
	Messages []messageRow
	Version  string
	Tasks    []taskForm
	Clocks   []clockRow
	Done     string
	Poll     int
	Zone     *time.Location
	// TasksUnavailable: the API could not list the tasks just now.
	TasksUnavailable bool
}

type messageRow struct {
	store.Delivery
	Created string
}

type clockRow struct {
	complaint.Deadline
	Due     string
	DueISO  string
	Running bool
}

// loadedCase is a case as the API showed it to the person.
type loadedCase struct {
	View complaint.CaseView
	Raw  []byte
	// Tasks are those the person may do; TasksRead is false when the API
	// could not say (busy or away): the page says so and tries again.
	Tasks     []taskOption
	TasksRead bool
}

// loadCase reads the case and its tasks through the API; found is false
// for a case the person may not see.
func (d *Desk) loadCase(r *http.Request, ss *session, ref string) (lc loadedCase, found bool, err error) {
	res, err := d.call(r, ss, http.MethodGet, "/v1/complaints/"+url.PathEscape(ref), nil)
	if err != nil {
		return lc, false, err
	}
	switch {
	case hidden(res.status):
		return lc, false, nil
	case res.status != http.StatusOK:
		return lc, false, errStatus(res)
	}
	if err := json.Unmarshal(res.body, &lc.View); err != nil {
		return lc, false, err
	}
	lc.Raw = res.body
	tasks, isHidden, err := d.tasksOf(r, ss, ref)
	if err != nil {
		d.log.WarnContext(r.Context(), "desk case: its tasks", "reference", ref, "error", err)
	}
	lc.Tasks, lc.TasksRead = tasks, err == nil && !isHidden
	return lc, true, nil
}

// tasksOf reads the tasks the person may do on the case, with their
// payloads' schemas; hidden when the person may not see the case, an error
// for any other answer than 200.
func (d *Desk) tasksOf(r *http.Request, ss *session, ref string) (tasks []taskOption, isHidden bool, err error) {
	res, err := d.call(r, ss, http.MethodGet, "/v1/complaints/"+url.PathEscape(ref)+"/tasks", nil)
	switch {
	case err != nil:
		return nil, false, err
	case hidden(res.status):
		return nil, true, nil
	case res.status != http.StatusOK:
		return nil, false, errStatus(res)
	}
	var body struct {
		Tasks []taskOption `json:"tasks"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		return nil, false, err
	}
	for _, t := range body.Tasks {
		d.schemas.Store(t.Name, t.Schema)
	}
	return body.Tasks, false, nil
}

var errHidden = errors.New("the case is not the person's to see")

// schemaOf is the schema that shapes a task's form into its payload: the
// one the desk already has (every case page lists them), or else read with
// the case's tasks. A busy API then refuses only what the desk cannot do
// without it; whether the person may see the case, the API says on the
// task itself.
func (d *Desk) schemaOf(r *http.Request, ss *session, ref, task string) (schema, error) {
	var s schema
	raw, ok := d.schemas.Load(task)
	if !ok {
		_, isHidden, err := d.tasksOf(r, ss, ref)
		switch {
		case isHidden:
			return s, errHidden
		case err != nil:
			return s, err
		}
		raw, _ = d.schemas.Load(task)
	}
	if b, ok := raw.(json.RawMessage); ok {
		_ = json.Unmarshal(b, &s)
	}
	return s, nil
}

// hidden is the API's answer for a case the person may not see: 403 and
// 404 alike (the desk does not say whether a case it will not show
// exists), and 422 for a reference that cannot be one.
func hidden(status int) bool {
	return status == http.StatusNotFound || status == http.StatusForbidden || status == http.StatusUnprocessableEntity
}

type statusError struct{ p problem }

func (e statusError) Error() string { return e.p.String() }

func errStatus(res apiResponse) error { return statusError{problemOf(res)} }

func versionOf(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

func (d *Desk) casePage(w http.ResponseWriter, r *http.Request, ss *session) {
	d.showCase(w, r, ss, "", nil, nil)
}

// showCase renders the case; failed, form and errs re-fill a task form the
// API refused.
func (d *Desk) showCase(w http.ResponseWriter, r *http.Request, ss *session, failed string, form url.Values, refusal *problem) {
	ref := r.PathValue("reference")
	lc, found, err := d.loadCase(r, ss, ref)
	if err != nil {
		d.log.WarnContext(r.Context(), "desk case", "reference", ref, "error", err)
		d.busy(w, r, ss, refusal)
		return
	}
	if !found {
		d.notFound(w, r, ss)
		return
	}
	v, tasks := lc.View, lc.Tasks
	c := caseContent{Case: v, Version: versionOf(lc.Raw), Done: r.URL.Query().Get("done"), Poll: int(d.cfg.PollInterval / time.Millisecond),
		Zone: ss.zone, TasksUnavailable: !lc.TasksRead}
	if !lc.TasksRead {
		c.Version = "incomplete" // never the case's: the page's next poll reloads it
	}
	for _, dl := range v.Deadlines {
		c.Clocks = append(c.Clocks, clockRow{Deadline: dl, Due: dl.DueAt.In(ss.zone).Format("2006-01-02 15:04"),
			DueISO: dl.DueAt.UTC().Format(time.RFC3339), Running: dl.State == "running"})
	}
	choices := map[string][]string{"department": departmentChoices(ss.Who, v)}
	for _, t := range tasks {
		var s schema
		_ = json.Unmarshal(t.Schema, &s)
		tf := taskForm{Name: t.Name, Allowed: t.Allowed, Reason: t.Reason, Fields: fieldsOf(&s, "", choices), Key: newKey()}
		// The person is who takes a case or investigates, unless they say otherwise.
		for i, f := range tf.Fields {
			if f.Name == "owner" || f.Name == "investigator" {
				tf.Fields[i].Value = ss.Who.Subject
			}
		}
		if t.Name == failed && refusal != nil {
			errs := map[string]string{}
			for _, e := range refusal.Errors {
				errs[strings.TrimPrefix(e.Location, "body.")] = e.Message
			}
			fill(tf.Fields, form, errs)
			// Refused for good (422, 409), the corrected form is a new
			// request; unanswered (503), it may have been applied, and
			// the same key makes sending it again safe.
			if refusal.Status >= 500 && validKey(form.Get("idempotency")) {
				tf.Key = form.Get("idempotency")
			}
			var rest []string
			for _, m := range errs {
				rest = append(rest, m)
			}
			if len(refusal.Errors) == 0 || len(rest) > 0 {
				tf.Error = strings.TrimSpace(refusal.String() + " " + strings.Join(rest, "; "))
			}
			tf.Open = true
		}
		c.Tasks = append(c.Tasks, tf)
	}
	if res, err := d.call(r, ss, http.MethodGet, "/v1/deliveries?reference="+url.QueryEscape(ref), nil); err == nil &&
		res.status == http.StatusOK {
		var page store.DeliveryPage
		if json.Unmarshal(res.body, &page) == nil {
			for _, m := range page.Deliveries {
				c.Messages = append(c.Messages, messageRow{Delivery: m, Created: m.CreatedAt.In(ss.zone).Format("2006-01-02 15:04")})
			}
		}
	}
	status := http.StatusOK
	if refusal != nil {
		status = refusal.Status
	}
	d.render(w, r, status, "case", page{Content: c}, ss)
}

// departmentChoices are the departments a department field may name: the
// case's, and for department staff only their own among them.
func departmentChoices(id auth.Identity, v complaint.CaseView) []string {
	var out []string
	for _, dep := range v.Departments {
		if id.Role != auth.RoleDepartment || id.InDepartment(string(dep)) {
			out = append(out, string(dep))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// caseVersion answers the page's poll: the case's version, to compare with
// the one the page shows.
func (d *Desk) caseVersion(w http.ResponseWriter, r *http.Request, ss *session) {
	res, err := d.call(r, ss, http.MethodGet, "/v1/complaints/"+url.PathEscape(r.PathValue("reference")), nil)
	switch {
	case err == nil && hidden(res.status):
		// No longer the person's to see: the page shows so.
		http.Error(w, "not found", http.StatusNotFound)
		return
	case err != nil || res.status != http.StatusOK:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"version": versionOf(res.body)})
}

// runTask posts a task form to the API; refused, the page comes back with
// the errors beside the fields.
func (d *Desk) runTask(w http.ResponseWriter, r *http.Request, ss *session) {
	ref, task := r.PathValue("reference"), r.PathValue("task")
	if !slices.Contains(complaint.StaffTasks, task) {
		d.notFound(w, r, ss)
		return
	}
	s, err := d.schemaOf(r, ss, ref, task)
	if errors.Is(err, errHidden) {
		d.notFound(w, r, ss)
		return
	}
	if err != nil {
		d.log.WarnContext(r.Context(), "desk task", "reference", ref, "task", task, "error", err)
		d.busy(w, r, ss, nil)
		return
	}
	payload := payloadOf(&s, r.PostForm, "")
	key := r.PostForm.Get("idempotency")
	if !validKey(key) {
		key = "" // a form from before the keys: sent as it is
	}
	res, err := d.callOnce(r, ss, http.MethodPost, "/v1/complaints/"+url.PathEscape(ref)+"/"+task, payload, key)
	if err != nil {
		d.render(w, r, http.StatusServiceUnavailable, "error", page{Content: "error"}, ss)
		return
	}
	if res.status == http.StatusOK {
		http.Redirect(w, r, "/desk/cases/"+url.PathEscape(ref)+"?done="+url.QueryEscape(task), http.StatusSeeOther)
		return
	}
	p := problemOf(res)
	d.showCase(w, r, ss, task, r.PostForm, &p)
}

// attachment downloads a file the customer sent, through the API as the
// person signed in: the API decides who may (the roles that see the
// customer's data; an agent only on their own cases) and serves it as a
// download, never inline.
func (d *Desk) attachment(w http.ResponseWriter, r *http.Request, ss *session) {
	ref, id := r.PathValue("reference"), r.PathValue("id")
	res, err := d.call(r, ss, http.MethodGet, "/v1/complaints/"+url.PathEscape(ref)+"/attachments/"+url.PathEscape(id), nil)
	switch {
	case err != nil || res.status >= 500:
		d.busy(w, r, ss, nil)
		return
	case res.status != http.StatusOK:
		d.notFound(w, r, ss)
		return
	}
	passHeaders(w, res, "Content-Type", "Content-Disposition", "Cache-Control")
	if !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") {
		w.Header().Set("Content-Disposition", "attachment")
	}
	_, _ = w.Write(res.body)
}
