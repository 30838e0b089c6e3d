package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/auth"
)

// No request body to any POST of the API (intake, every task, erasure) may
// make it answer 5xx or panic; every refusal is a problem document.
func FuzzSubmitAndTaskBodies(f *testing.F) {
	f.Add("/v1/complaints", validBody)
	f.Add("/v1/complaints", `{"channel":"web","customer":{"name":"a"},"subject":"s","description":"d","x":1}`)
	f.Add("/v1/complaints", `{"channel":`)
	f.Add("/v1/complaints/CMP-20261123-4F7K2Q/withdraw", `{"reason":"r"}`)
	f.Add("/v1/complaints/CMP-20261123-4F7K2Q/proposeResolution", `{"actions":[],"compensation":{"kind":"x"},"message":""}`)
	f.Add("/v1/complaints/CMP-20261123-4F7K2Q/route", `{"departments":["a","a"],"reason":"r"}`)
	f.Add("/v1/complaints/CMP-20261123-4F7K2Q/surveyResponse", `{"score":99999999999999999999}`)
	f.Add("/v1/admin/erasures", `{"email":"zhao.lei@example.com"}`)
	f.Add("/v1/admin/erasures", `{"reference":"CMP-1","phone":""}`)
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
		Records: tableRecords{}, Deliveries: tableRecords{}, Eraser: fakeEraser{}}).Handler()
	f.Fuzz(func(t *testing.T, path, body string) {
		if _, err := url.ParseRequestURI(path); err != nil || !strings.HasPrefix(path, "/v1/") ||
			strings.ContainsFunc(path, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return // not a request a client could send: a request line cannot hold blanks or controls
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
			t.Fatalf("POST %s: %d without a problem document: %s", path, rec.Code, rec.Body)
		}
	})
}

// No survey answer — JSON or the link's form, with any token — may make
// the API answer 5xx or panic.
func FuzzSurveyAnswers(f *testing.F) {
	links := auth.SurveyLinks{Secret: []byte("fuzz-secret")}
	now := time.Now()
	valid, err := links.Token("CMP-20261123-4F7K2Q", 1, "en", now, now.Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	expired, err := links.Token("CMP-20261123-4F7K2Q", 1, "zh", now.Add(-2*time.Hour), now.Add(-time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(true, `{"token":"`+valid+`","score":5,"comment":"good"}`)
	f.Add(true, `{"token":"`+expired+`","score":1}`)
	f.Add(true, `{"token":"x","score":0}`)
	f.Add(false, "t="+valid+"&score=4&comment=ok")
	f.Add(false, "t="+expired+"&score=9")
	f.Add(false, "t=%zz&score=")
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
		SurveyLinks: links}).Handler()
	f.Fuzz(func(t *testing.T, asJSON bool, body string) {
		path, ct := "/survey", "application/x-www-form-urlencoded"
		if asJSON {
			path, ct = "/v1/survey-responses", "application/json"
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
		}
	})
}
