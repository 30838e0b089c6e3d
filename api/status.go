package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/inbound"
)

// The status page: what the link in every message to the customer opens.
// No login: the signed link names the case, and whoever holds it is that
// case's customer until it expires. It shows where the case stands, what
// happens next and by when, the messages exchanged, a reply form (the same
// path as an email reply) and, while a proposal waits, buttons that answer
// it as the customer. Public routes are rate-limited per client address
// (auth.go, public()).

// registerCustomerChannels adds the customer's files for staff and the
// status page for the customer.
func (s *Server) registerCustomerChannels(api huma.API, mux *http.ServeMux) {
	s.registerAttachments(api)
	mux.HandleFunc("GET /status", s.statusPage)
	mux.HandleFunc("POST /status/reply", s.statusReply)
	mux.HandleFunc("POST /status/respond", s.statusRespond)
	mux.HandleFunc("POST /status/confirm", s.statusConfirm)
}

// statusClaims checks the link; it answers the page itself when it is not
// valid.
func (s *Server) statusClaims(w http.ResponseWriter, token string) (auth.StatusClaims, bool) {
	claims, err := s.StatusLinks.Parse(token, time.Now())
	switch {
	case errors.Is(err, auth.ErrStatusLinkExpired):
		renderStatus(w, http.StatusGone, statusView{Message: statusText("", "expired")})
	case err != nil:
		renderStatus(w, http.StatusNotFound, statusView{Message: statusText("", "invalid")})
	default:
		return claims, true
	}
	return claims, false
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("t")
	claims, ok := s.statusClaims(w, token)
	if !ok {
		return
	}
	msg := ""
	if k := r.URL.Query().Get("done"); k == "sent" || k == "accepted" || k == "rejected" || k == "solved" || k == "unsolved" {
		msg = statusText(claims.Language, k)
	}
	s.renderCase(r.Context(), w, claims, token, http.StatusOK, msg)
}

func (s *Server) renderCase(ctx context.Context, w http.ResponseWriter, claims auth.StatusClaims, token string, status int, msg string) {
	lang := claims.Language
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	v, err := s.Cases.Case(ctx, claims.Reference())
	if err != nil {
		s.logger().Warn("status page: the case could not be read", "reference", claims.Reference(), "error", safeCause(err))
		renderStatus(w, http.StatusServiceUnavailable, statusView{Lang: lang, Message: statusText(lang, "later")})
		return
	}
	view := caseStatusView(v, lang, time.Now())
	view.Token, view.Message, view.Nonce = token, msg, newNonce()
	renderStatus(w, status, view)
}

// statusReply takes the reply form: words and files, delivered as an
// email reply is.
func (s *Server) statusReply(w http.ResponseWriter, r *http.Request) {
	rcv := s.CustomerMail.Receiver
	limit := int64(25 << 20)
	if rcv != nil {
		limit = rcv.Limits.MaxMessageBytes
	}
	// The link is checked before the body is read: a stranger's upload
	// costs no parsing and no temporary files. A form without the link in
	// its address (a page from before it moved there) carries it in the
	// body, and is then read only up to a short text's size.
	token := r.URL.Query().Get("t")
	inAddress := token != ""
	var claims auth.StatusClaims
	if inAddress {
		var ok bool
		if claims, ok = s.statusClaims(w, token); !ok {
			return
		}
	} else {
		limit = 64 << 10
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		renderStatus(w, http.StatusRequestEntityTooLarge, statusView{Message: statusText("", "toolarge")})
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	if !inAddress {
		token = r.PostForm.Get("t")
		var ok bool
		if claims, ok = s.statusClaims(w, token); !ok {
			return
		}
	}
	lang := claims.Language
	if rcv == nil {
		renderStatus(w, http.StatusServiceUnavailable, statusView{Lang: lang, Message: statusText(lang, "later")})
		return
	}
	text := strings.TrimSpace(r.FormValue("text"))
	in := inbound.Incoming{Reference: claims.Reference(), Via: complaint.MessageViaStatusPage, Text: text, Original: text,
		MessageID: "<status." + nonceOf(r.FormValue("nonce")) + "." + strings.ToLower(claims.Reference()) + "@status>"}
	for _, fh := range r.MultipartForm.File["files"] {
		f, err := fh.Open()
		if err != nil {
			continue
		}
		data, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil || len(data) == 0 {
			continue
		}
		ct := fh.Header.Get("Content-Type")
		if ct == "" || ct == "application/octet-stream" {
			ct = http.DetectContentType(data)
		}
		in.Files = append(in.Files, inbound.File{Name: fh.Filename, ContentType: ct, Data: data})
	}
	if text == "" && len(in.Files) == 0 {
		s.renderCase(r.Context(), w, claims, token, http.StatusUnprocessableEntity, statusText(lang, "empty"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.RequestTimeout)
	defer cancel()
	if _, err := rcv.Deliver(ctx, in); err != nil {
		var status int
		var key string
		switch {
		case errors.Is(err, inbound.ErrCaseFull):
			status, key = http.StatusUnprocessableEntity, "casefull"
		case errors.Is(err, inbound.ErrRefusedFile):
			status, key = http.StatusUnprocessableEntity, "file"
		default:
			status, key = s.statusOf(claims.Reference(), "message", err)
		}
		s.renderCase(r.Context(), w, claims, token, status, statusText(lang, key))
		return
	}
	http.Redirect(w, r, "/status?t="+url.QueryEscape(token)+"&done=sent", http.StatusSeeOther)
}

// statusChoice is one of the page's buttons pressed: the link's claims
// and whether the customer chose yes (field's yes value) or no.
type statusChoice struct {
	claims     auth.StatusClaims
	token      string
	lang, ref  string
	yes        bool
	comment    string
	ctx        context.Context
	cancelTime context.CancelFunc
}

// readChoice reads a button's form: the signed link, then field, which
// must be yes or no; it has answered the customer when it returns false.
func (s *Server) readChoice(w http.ResponseWriter, r *http.Request, field, yes, no string) (statusChoice, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		renderStatus(w, http.StatusBadRequest, statusView{Message: statusText("", "invalid")})
		return statusChoice{}, false
	}
	c := statusChoice{token: r.PostForm.Get("t")}
	var ok bool
	if c.claims, ok = s.statusClaims(w, c.token); !ok {
		return c, false
	}
	c.lang, c.ref = c.claims.Language, c.claims.Reference()
	answer := r.PostForm.Get(field)
	if answer != yes && answer != no {
		s.renderCase(r.Context(), w, c.claims, c.token, http.StatusUnprocessableEntity, statusText(c.lang, "invalid"))
		return c, false
	}
	c.yes, c.comment = answer == yes, clipText(r.PostForm.Get("comment"), 4000)
	c.ctx, c.cancelTime = context.WithTimeout(r.Context(), s.RequestTimeout)
	return c, true
}

// sendChoice sends the task the button stands for, as the customer, under an
// update id naming the proposal so that a double click answers once, and
// shows the page again with done.
func (s *Server) sendChoice(w http.ResponseWriter, r *http.Request, c statusChoice, task, updateID string, payload any, done string) {
	if _, err := s.Cases.Task(c.ctx, c.ref, task, updateID, payload); err != nil {
		status, key := s.statusOf(c.ref, task, err)
		s.renderCase(r.Context(), w, c.claims, c.token, status, statusText(c.lang, key))
		return
	}
	http.Redirect(w, r, "/status?t="+url.QueryEscape(c.token)+"&done="+done, http.StatusSeeOther)
}

// statusRespond answers the proposal on the page as the customer.
func (s *Server) statusRespond(w http.ResponseWriter, r *http.Request) {
	c, ok := s.readChoice(w, r, "answer", "accept", "reject")
	if !ok {
		return
	}
	defer c.cancelTime()
	v, err := s.Cases.Case(c.ctx, c.ref)
	if err != nil || v.Status != complaint.StatusResolutionProposed || len(v.Resolutions) == 0 {
		s.renderCase(r.Context(), w, c.claims, c.token, http.StatusConflict, statusText(c.lang, "noproposal"))
		return
	}
	attempt := v.Resolutions[len(v.Resolutions)-1].Attempt
	// The answer is to the proposal the page showed: a page left open
	// since an earlier one does not answer a newer one unread.
	if seen := r.PostForm.Get("attempt"); seen != "" && seen != strconv.Itoa(attempt) {
		s.renderCase(r.Context(), w, c.claims, c.token, http.StatusConflict, statusText(c.lang, "newproposal"))
		return
	}
	resp := complaint.CustomerResponse{Accepted: &c.yes, Comment: c.comment, Channel: complaint.ChannelWeb, Actor: "customer"}
	done := map[bool]string{true: "accepted", false: "rejected"}[c.yes]
	s.sendChoice(w, r, c, complaint.TaskCustomerResponse, fmt.Sprintf("status-answer-%s-%d", c.ref, attempt), resp, done)
}

// statusConfirm takes the customer's word on a resolution carried out
// (confirmResolved), as the customer; one answer per proposal.
func (s *Server) statusConfirm(w http.ResponseWriter, r *http.Request) {
	c, ok := s.readChoice(w, r, "solved", "yes", "no")
	if !ok {
		return
	}
	defer c.cancelTime()
	v, err := s.Cases.Case(c.ctx, c.ref)
	if err != nil || awaitingConfirmation(v) == nil {
		s.renderCase(r.Context(), w, c.claims, c.token, http.StatusConflict, statusText(c.lang, "noconfirm"))
		return
	}
	attempt := awaitingConfirmation(v).Attempt
	t := complaint.ConfirmResolved{Resolved: &c.yes, Comment: c.comment, Actor: "customer"}
	done := map[bool]string{true: "solved", false: "unsolved"}[c.yes]
	s.sendChoice(w, r, c, complaint.TaskConfirmResolved, fmt.Sprintf("status-confirm-%s-%d", c.ref, attempt), t, done)
}

// awaitingConfirmation is the resolution carried out that waits for the
// customer to say whether it solved the problem, or nil.
func awaitingConfirmation(v complaint.CaseView) *complaint.Resolution {
	if v.Status != complaint.StatusResolving || len(v.Resolutions) == 0 {
		return nil
	}
	r := v.Resolutions[len(v.Resolutions)-1]
	if r.Accepted == nil || !*r.Accepted || r.ExecutedAt == nil {
		return nil
	}
	if c := r.Confirmation; c == nil || c.Resolved != nil || c.TimedOut {
		return nil
	}
	return &r
}

// statusOf turns a failed customer action (what, on case ref) into the
// status page's answer: closed, empty, or try later.
func (s *Server) statusOf(ref, what string, err error) (int, string) {
	var se huma.StatusError
	if errors.As(problem(err), &se) {
		switch se.GetStatus() {
		case http.StatusConflict, http.StatusNotFound:
			return http.StatusConflict, "closed"
		case http.StatusUnprocessableEntity:
			return http.StatusUnprocessableEntity, "empty"
		}
	}
	// The customer is asked to try later; the operator learns why.
	s.logger().Warn("status page: the customer's "+what+" was not taken", "reference", ref, "error", safeCause(err))
	return http.StatusServiceUnavailable, "later"
}

var nonceShape = regexp.MustCompile(`^[0-9a-f]{32}$`)

// nonceOf is the form's nonce when it has the shape the page gives it,
// else a fresh one: the page's nonce makes a resent form one message.
func nonceOf(n string) string {
	if nonceShape.MatchString(n) {
		return n
	}
	return newNonce()
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// statusView is what the page shows.
type statusView struct {
	Lang, Token, Nonce, Message string
	Reference, Status, Next     string
	By                          string
	Entries                     []statusEntry
	Proposal                    *complaint.Resolution
	Confirm                     *complaint.Resolution // carried out, awaiting the customer's word
	Open                        bool                  // the case takes messages
}

type statusEntry struct {
	At    string
	From  string // us, you
	Text  string
	Files []string
}

// caseStatusView is the case as its customer sees it: no staff names, no
// internal notes, no findings.
func caseStatusView(v complaint.CaseView, lang string, now time.Time) statusView {
	out := statusView{Lang: lang, Reference: v.Reference, Status: statusText(lang, "s."+string(v.Status)),
		Next: statusText(lang, "n."+string(v.Status)), Open: v.Status != complaint.StatusWithdrawn}
	if due := nextDue(v); !due.IsZero() {
		out.By = due.In(customerZone).Format("2006-01-02 15:04")
	}
	type dated struct {
		at time.Time
		e  statusEntry
	}
	var all []dated
	for _, r := range v.Resolutions {
		// A proposal held for a supervisor's approval, or refused, was
		// never sent: the customer sees it only once approved.
		if sent, at := r.ReachedCustomer(); sent {
			all = append(all, dated{at, statusEntry{From: "us", Text: r.Message}})
		}
	}
	// A withdrawal's reason is staff's note, not a word to the customer.
	if v.ClosedAt != nil && v.CloseSummary != "" && v.Status != complaint.StatusWithdrawn {
		all = append(all, dated{*v.ClosedAt, statusEntry{From: "us", Text: v.CloseSummary}})
	}
	for _, m := range v.Messages {
		e := statusEntry{From: "you", Text: m.Text}
		for _, a := range m.Attachments {
			e.Files = append(e.Files, a.Filename)
		}
		all = append(all, dated{m.At, e})
	}
	slices.SortStableFunc(all, func(a, b dated) int { return a.at.Compare(b.at) })
	for _, d := range all {
		d.e.At = d.at.In(customerZone).Format("2006-01-02 15:04")
		d.e.From = statusText(lang, "from."+d.e.From)
		out.Entries = append(out.Entries, d.e)
	}
	if v.Status == complaint.StatusResolutionProposed && len(v.Resolutions) > 0 {
		r := v.Resolutions[len(v.Resolutions)-1]
		out.Proposal = &r
	}
	out.Confirm = awaitingConfirmation(v)
	return out
}

// nextDue is when the customer hears from us next: the resolution's due
// time while it runs, else the earliest open deadline of ours.
func nextDue(v complaint.CaseView) time.Time {
	var best time.Time
	for _, d := range v.Deadlines {
		if !d.Open() || d.Name == complaint.ClockCustomerAnswer {
			continue
		}
		if d.Name == complaint.ClockResolution {
			return d.DueAt
		}
		if best.IsZero() || d.DueAt.Before(best) {
			best = d.DueAt
		}
	}
	return best
}

// customerZone is where customers read times (DOMAIN §4: Shanghai).
var customerZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

var statusTexts = map[string]map[string]string{
	"zh": {
		"title": "投诉处理进度", "reference": "投诉编号", "status": "当前状态", "next": "下一步", "by": "预计时间",
		"messages": "往来消息", "from.us": "我们", "from.you": "您", "files": "附件",
		"reply": "回复我们", "text": "您的消息", "attach": "附上照片或文件", "send": "发送",
		"proposal": "我们的解决方案", "comment": "意见（可选）", "accept": "接受此方案", "reject": "不接受",
		"expired": "此链接已过期，请使用我们最新邮件中的链接。", "invalid": "此链接无效。", "later": "暂时无法处理，请稍后再试。",
		"sent": "您的消息已送达，谢谢。", "accepted": "您已接受方案，我们会尽快执行。", "rejected": "您未接受方案，我们会再与您沟通。",
		"empty": "请填写消息或附上文件。", "file": "附件类型或大小不符合要求（照片或 PDF，每个不超过 10 MB）。",
		"casefull": "此投诉的附件已达上限，无法再添加文件；您仍可发送文字消息。",
		"toolarge": "内容过大。", "closed": "此投诉已无法再接收消息或答复。", "noproposal": "目前没有待答复的方案。", "newproposal": "方案已更新，请阅读新的方案后再答复。",
		"confirm": "问题解决了吗？", "yes": "已解决", "no": "仍未解决", "noconfirm": "目前没有待您确认的处理结果。",
		"solved": "感谢您的确认。", "unsolved": "我们会再次跟进您的问题。",
		"s.received": "已收到", "s.acknowledged": "已受理", "s.investigating": "调查中", "s.resolution_proposed": "已提出解决方案",
		"s.in_dispute": "协商中", "s.resolving": "执行中", "s.closed": "已结案", "s.survey_pending": "已结案",
		"s.completed": "已完成", "s.withdrawn": "已撤回",
		"n.received": "我们将尽快安排负责部门调查。", "n.acknowledged": "负责部门将开始调查。",
		"n.investigating": "负责部门正在调查，我们将向您提出解决方案。", "n.resolution_proposed": "请在下方答复我们的方案。",
		"n.in_dispute": "我们正在与您协商解决。", "n.resolving": "我们正在执行双方同意的方案。",
		"n.closed": "此投诉已结案；如有问题可直接回复。", "n.survey_pending": "此投诉已结案，欢迎参与满意度调查。",
		"n.completed": "此投诉已完成。", "n.withdrawn": "您已撤回此投诉。",
	},
	"en": {
		"title": "Your complaint", "reference": "Reference", "status": "Status", "next": "What happens next", "by": "By",
		"messages": "Messages", "from.us": "Us", "from.you": "You", "files": "Files",
		"reply": "Write to us", "text": "Your message", "attach": "Attach photos or documents", "send": "Send",
		"proposal": "Our proposal", "comment": "Comment (optional)", "accept": "Accept this proposal", "reject": "Reject it",
		"expired": "This link has expired; please use the link in our latest message.", "invalid": "This link is not valid.",
		"later": "We cannot take this right now; please try again later.", "sent": "Your message reached us, thank you.",
		"accepted": "You accepted the proposal; we will carry it out.", "rejected": "You rejected the proposal; we will talk with you again.",
		"empty": "Please write a message or attach a file.", "file": "A file was refused (photos or PDF, at most 10 MB each).",
		"casefull": "This complaint holds as many files as it may; you can still send a message without files.",
		"toolarge": "That is too large.", "closed": "This complaint takes no more messages or answers.",
		"noproposal":  "No proposal waits for your answer.",
		"newproposal": "The proposal has changed: please read the new one before you answer.",
		"confirm":     "Has this solved your problem?", "yes": "Yes, it is solved", "no": "No, it is not",
		"noconfirm": "Nothing waits for your confirmation.", "solved": "Thank you for confirming.",
		"unsolved":   "We will look at your problem again.",
		"s.received": "Received", "s.acknowledged": "Acknowledged", "s.investigating": "Being investigated",
		"s.resolution_proposed": "Resolution proposed", "s.in_dispute": "In discussion", "s.resolving": "Being carried out",
		"s.closed": "Closed", "s.survey_pending": "Closed", "s.completed": "Completed", "s.withdrawn": "Withdrawn",
		"n.received": "A department will be assigned to investigate.", "n.acknowledged": "The responsible department will start investigating.",
		"n.investigating":       "The departments are investigating; we will propose a resolution.",
		"n.resolution_proposed": "Please answer our proposal below.", "n.in_dispute": "We are working towards an agreement with you.",
		"n.resolving": "We are carrying out the resolution you accepted.", "n.closed": "Your complaint is closed; you may still reply.",
		"n.survey_pending": "Your complaint is closed; we would value your answer to our survey.",
		"n.completed":      "Your complaint is completed.", "n.withdrawn": "You withdrew this complaint.",
	},
}

func statusText(lang, key string) string {
	if lang != "en" {
		lang = "zh"
	}
	return statusTexts[lang][key]
}

var statusTemplate = template.Must(template.New("status").Funcs(template.FuncMap{"t": statusText}).Parse(`<!doctype html>
<html lang="{{if eq .Lang "en"}}en{{else}}zh{{end}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{t .Lang "title"}}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto; line-height: 1.5">
<h1>{{t .Lang "title"}}</h1>
{{with .Message}}<p role="status" id="message">{{.}}</p>{{end}}
{{if .Reference}}
<dl>
<dt>{{t .Lang "reference"}}</dt><dd id="reference">{{.Reference}}</dd>
<dt>{{t .Lang "status"}}</dt><dd id="status">{{.Status}}</dd>
<dt>{{t .Lang "next"}}</dt><dd id="next">{{.Next}}{{with .By}} ({{t $.Lang "by"}} {{.}}){{end}}</dd>
</dl>
{{with .Proposal}}<section id="proposal"><h2>{{t $.Lang "proposal"}}</h2>
<p>{{.Message}}</p>
<ul>{{range .Actions}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="/status/respond">
<input type="hidden" name="t" value="{{$.Token}}"><input type="hidden" name="attempt" value="{{.Attempt}}">
<p><label>{{t $.Lang "comment"}}<br><textarea name="comment" rows="3" cols="50" maxlength="4000"></textarea></label></p>
<p><button type="submit" name="answer" value="accept" id="accept">{{t $.Lang "accept"}}</button>
<button type="submit" name="answer" value="reject" id="reject">{{t $.Lang "reject"}}</button></p>
</form></section>{{end}}
{{with .Confirm}}<section id="confirm"><h2>{{t $.Lang "confirm"}}</h2>
<p>{{.Message}}</p>
<form method="post" action="/status/confirm">
<input type="hidden" name="t" value="{{$.Token}}">
<p><label>{{t $.Lang "comment"}}<br><textarea name="comment" rows="3" cols="50" maxlength="4000"></textarea></label></p>
<p><button type="submit" name="solved" value="yes" id="solved">{{t $.Lang "yes"}}</button>
<button type="submit" name="solved" value="no" id="unsolved">{{t $.Lang "no"}}</button></p>
</form></section>{{end}}
<section id="messages"><h2>{{t .Lang "messages"}}</h2>
{{range .Entries}}<article><p><strong>{{.From}}</strong> · {{.At}}</p><p style="white-space: pre-wrap">{{.Text}}</p>
{{with .Files}}<p>{{t $.Lang "files"}}: {{range $i, $f := .}}{{if $i}}, {{end}}{{$f}}{{end}}</p>{{end}}</article>
{{end}}</section>
{{if .Open}}<section><h2>{{t .Lang "reply"}}</h2>
<form method="post" action="/status/reply?t={{.Token}}" enctype="multipart/form-data" id="reply">
<input type="hidden" name="t" value="{{.Token}}"><input type="hidden" name="nonce" value="{{.Nonce}}">
<p><label>{{t .Lang "text"}}<br><textarea name="text" rows="5" cols="50" maxlength="20000"></textarea></label></p>
<p><label>{{t .Lang "attach"}} <input type="file" name="files" multiple accept="image/*,application/pdf"></label></p>
<p><button type="submit">{{t .Lang "send"}}</button></p>
</form></section>{{end}}
{{end}}
</body></html>`))

func renderStatus(w http.ResponseWriter, status int, v statusView) {
	pageHeaders(w.Header())
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "+
		"base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = statusTemplate.Execute(w, v)
}
