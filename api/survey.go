package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
)

type surveyAnswer struct {
	Body struct {
		Token string `json:"token" minLength:"1" maxLength:"2048" doc:"The t parameter of the survey link."`
		complaint.SurveyResponse
	}
}

type surveyAnswered struct {
	Body struct {
		Reference string `json:"reference"`
		Status    string `json:"status"`
	}
}

// registerMessages adds the survey answer (JSON and the page the survey
// link opens) and the operators' deliveries.
func (s *Server) registerMessages(api huma.API, mux *http.ServeMux) {
	huma.Register(api, huma.Operation{
		OperationID: "answerSurvey", Method: http.MethodPost, Path: "/v1/survey-responses",
		Summary: "Answer a satisfaction survey with the token of its link", Tags: []string{"survey"},
		Description: "The token is signed and expires with the survey; it names the case, so no other " +
			"credential is needed. A repeat of the same answer is accepted once. 410 when the link has expired " +
			"or belongs to an earlier round of the case.",
	}, func(ctx context.Context, in *surveyAnswer) (*surveyAnswered, error) {
		if err := in.Body.SurveyResponse.Validate(); err != nil {
			return nil, problem(err)
		}
		v, err := s.answerSurvey(ctx, in.Body.Token, in.Body.SurveyResponse)
		if err != nil {
			return nil, err
		}
		out := &surveyAnswered{}
		out.Body.Reference, out.Body.Status = v.Reference, string(v.Status)
		return out, nil
	})
	s.registerDeliveries(api)
	mux.HandleFunc("GET /survey", s.surveyPage)
	mux.HandleFunc("POST /survey", s.surveyForm)
}

// answerSurvey checks the link's token and sends the answer to the case.
// The update ID comes from the token, so a double click answers once.
func (s *Server) answerSurvey(ctx context.Context, token string, r complaint.SurveyResponse) (complaint.CaseView, error) {
	claims, err := s.SurveyLinks.Parse(token, time.Now())
	switch {
	case errors.Is(err, auth.ErrSurveyLinkExpired):
		return complaint.CaseView{}, huma.Error410Gone("the survey has closed")
	case err != nil:
		return complaint.CaseView{}, huma.Error422UnprocessableEntity("the survey link is not valid",
			&huma.ErrorDetail{Location: "body.token", Message: err.Error()})
	}
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	v, err := s.Cases.Case(ctx, claims.Reference())
	if err != nil {
		return v, problem(err)
	}
	if v.Round != claims.Round {
		return v, huma.Error410Gone("this survey link belongs to an earlier round of the case")
	}
	sum := sha256.Sum256([]byte(token))
	v, err = s.Cases.Task(ctx, claims.Reference(), complaint.TaskSurveyResponse, "survey-"+hex.EncodeToString(sum[:16]), r)
	if err != nil {
		return v, problem(err)
	}
	return v, nil
}

// surveyPage is what the link in the invitation opens: a form in the
// customer's language.
func (s *Server) surveyPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("t")
	claims, err := s.SurveyLinks.Parse(token, time.Now())
	lang := ""
	if err == nil {
		lang = claims.Language
	}
	switch {
	case errors.Is(err, auth.ErrSurveyLinkExpired):
		renderSurvey(w, http.StatusGone, surveyView{Lang: lang, Message: surveyText(lang, "expired")})
	case err != nil:
		renderSurvey(w, http.StatusNotFound, surveyView{Lang: lang, Message: surveyText(lang, "invalid")})
	default:
		renderSurvey(w, http.StatusOK, surveyView{Lang: lang, Token: token, Reference: claims.Reference(), Form: true})
	}
}

// surveyForm takes the form's answer.
func (s *Server) surveyForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		renderSurvey(w, http.StatusBadRequest, surveyView{Message: err.Error()})
		return
	}
	token := r.PostForm.Get("t")
	var lang, reference string
	// The page speaks the link's language only when the link is genuine;
	// answerSurvey checks it again for the answer.
	if claims, err := s.SurveyLinks.Parse(token, time.Now()); err == nil {
		lang, reference = claims.Language, claims.Reference()
	}
	score, err := strconv.Atoi(r.PostForm.Get("score"))
	answer := complaint.SurveyResponse{Score: score, Comment: r.PostForm.Get("comment")}
	if err == nil {
		err = answer.Validate()
	}
	if err != nil {
		renderSurvey(w, http.StatusUnprocessableEntity, surveyView{Lang: lang, Token: token,
			Reference: reference, Form: reference != "", Message: surveyText(lang, "score")})
		return
	}
	if _, err := s.answerSurvey(r.Context(), token, answer); err != nil {
		status, msg := http.StatusServiceUnavailable, surveyText(lang, "later")
		var se huma.StatusError
		if errors.As(err, &se) {
			switch se.GetStatus() {
			case http.StatusGone:
				status, msg = http.StatusGone, surveyText(lang, "expired")
			case http.StatusConflict:
				status, msg = http.StatusConflict, surveyText(lang, "answered")
			case http.StatusNotFound, http.StatusUnprocessableEntity:
				status, msg = se.GetStatus(), surveyText(lang, "invalid")
			}
		}
		if status == http.StatusServiceUnavailable {
			s.logger().Warn("survey page: the answer was not taken", "reference", reference, "error", safeCause(err))
		}
		renderSurvey(w, status, surveyView{Lang: lang, Message: msg})
		return
	}
	renderSurvey(w, http.StatusOK, surveyView{Lang: lang, Message: surveyText(lang, "thanks")})
}

type surveyView struct {
	Lang, Token, Reference, Message string
	Form                            bool
}

func surveyText(lang, key string) string {
	zh := map[string]string{
		"title": "满意度调查", "question": "您对我们处理投诉 %s 的方式是否满意？（1 = 非常不满意，5 = 非常满意）",
		"comment": "意见（可选）", "send": "提交", "thanks": "感谢您的评价！", "expired": "此调查已结束。",
		"invalid": "此链接无效。", "score": "请选择 1 到 5 分。", "answered": "您已提交过评价，谢谢。",
		"later": "暂时无法提交，请稍后再试。",
	}
	en := map[string]string{
		"title": "Satisfaction survey", "question": "How satisfied are you with how we handled complaint %s? (1 = not at all, 5 = very)",
		"comment": "Comment (optional)", "send": "Send", "thanks": "Thank you for your answer!",
		"expired": "This survey has closed.", "invalid": "This link is not valid.", "score": "Please choose a score from 1 to 5.",
		"answered": "You have already answered, thank you.", "later": "We cannot take your answer right now; please try again later.",
	}
	if lang == "en" {
		return en[key]
	}
	return zh[key]
}

var surveyTemplate = template.Must(template.New("survey").Funcs(template.FuncMap{"t": surveyText}).Parse(`<!doctype html>
<html lang="{{if eq .Lang "en"}}en{{else}}zh{{end}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{t .Lang "title"}}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 2em auto; line-height: 1.5">
<h1>{{t .Lang "title"}}</h1>
{{with .Message}}<p role="status">{{.}}</p>{{end}}
{{if .Form}}<form method="post" action="/survey">
<input type="hidden" name="t" value="{{.Token}}">
<p>{{printf (t .Lang "question") .Reference}}</p>
<p>{{range $s := .Scores}}<label style="margin-right: 1em"><input type="radio" name="score" value="{{$s}}" required> {{$s}}</label>{{end}}</p>
<p><label>{{t .Lang "comment"}}<br><textarea name="comment" rows="4" cols="50" maxlength="4000"></textarea></label></p>
<p><button type="submit">{{t .Lang "send"}}</button></p>
</form>{{end}}
</body></html>`))

func (surveyView) Scores() []int { return []int{1, 2, 3, 4, 5} }

func renderSurvey(w http.ResponseWriter, status int, v surveyView) {
	pageHeaders(w.Header())
	// The page's few styles are inline; it runs no script.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "+
		"base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = surveyTemplate.Execute(w, v) // the customer's browser went away; nothing left to tell it
}
