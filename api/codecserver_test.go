package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

// upperCodec "decodes" by upper-casing the data, and refuses data "erased".
type upperCodec struct{}

func (upperCodec) Encode(p []*commonpb.Payload) ([]*commonpb.Payload, error) { return p, nil }

func (upperCodec) Decode(p []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if string(p[0].Data) == "erased" {
		return nil, http.ErrBodyNotAllowed
	}
	return []*commonpb.Payload{{Metadata: p[0].Metadata, Data: []byte(strings.ToUpper(string(p[0].Data)))}}, nil
}

func TestCodecServer(t *testing.T) {
	const ui = "http://127.0.0.1:8233"
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
		Codec: upperCodec{}, CodecOrigins: []string{ui}}).Handler()
	// "bGl1" is "liu", "ZXJhc2Vk" is "erased".
	const body = `{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"bGl1"},{"data":"ZXJhc2Vk"}]}`
	call := func(method, path, token, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	operator := callers[auth.RoleOperator]

	pre := call(http.MethodOptions, "/codec/decode", "", ui)
	if pre.Code != http.StatusNoContent || pre.Header().Get("Access-Control-Allow-Origin") != ui ||
		!strings.Contains(pre.Header().Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Fatalf("preflight: %d %v", pre.Code, pre.Header())
	}
	if rec := call(http.MethodOptions, "/codec/decode", "", "http://evil.example"); rec.Code != http.StatusForbidden {
		t.Fatalf("preflight from another origin: %d", rec.Code)
	}
	if rec := call(http.MethodPost, "/codec/decode", "", ui); rec.Code != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", rec.Code)
	}
	if rec := call(http.MethodPost, "/codec/decode", callers[auth.RoleAgent], ui); rec.Code != http.StatusForbidden {
		t.Fatalf("an agent: %d", rec.Code)
	}
	if rec := call(http.MethodPost, "/codec/decode", shopKey, ui); rec.Code != http.StatusForbidden {
		t.Fatalf("an upstream system: %d", rec.Code)
	}
	for _, rec := range []*httptest.ResponseRecorder{
		call(http.MethodPost, "/codec/decode", operator, ui),
		call(http.MethodPost, "/codec/k/"+operator+"/decode", "", ui), // the dev server UI's way
	} {
		if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != ui {
			t.Fatalf("decode: %d %v %s", rec.Code, rec.Header(), rec.Body)
		}
		// "TElV" is "LIU"; the erased payload comes back as it was.
		if !strings.Contains(rec.Body.String(), `"data":"TElV"`) || !strings.Contains(rec.Body.String(), `"data":"ZXJhc2Vk"`) {
			t.Fatalf("decoded: %s", rec.Body)
		}
	}
	if rec := call(http.MethodPost, "/codec/k/not-a-token/decode", "", ui); rec.Code != http.StatusUnauthorized {
		t.Fatalf("a bad path token: %d", rec.Code)
	}
}

// One codec request carries a bounded number of payloads.
func TestCodecRequestsAreBoundedInPayloads(t *testing.T) {
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
		Codec: upperCodec{}}).Handler()
	one := `{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"bGl1"}`
	body := `{"payloads":[` + strings.TrimSuffix(strings.Repeat(one+",", maxCodecPayloads+1), ",") + `]}`
	rec := do(t, h, http.MethodPost, "/codec/decode", body, "Authorization", "Bearer "+callers[auth.RoleOperator])
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("%d payloads in one request: %d", maxCodecPayloads+1, rec.Code)
	}
}

// A token in the codec's address reaches neither the spans nor the route
// name: it is taken out of the path before the tracing sees it.
func TestCodecPathTokenIsScrubbedFromSpans(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tel, err := telemetry.Start(t.Context(), telemetry.Config{ServiceName: "complaints-api",
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.ShutdownBounded(t.Context())
	s := &Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(), Codec: upperCodec{}}
	h := Instrument(s.Handler(), tel)
	token := callers[auth.RoleOperator]
	req := httptest.NewRequest(http.MethodPost, "/codec/k/"+token+"/decode",
		strings.NewReader(`{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"bGl1"}]}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("decode with the token in the path: %d %s", rec.Code, rec.Body)
	}
	ended := spans.Ended()
	if len(ended) == 0 {
		t.Fatal("no span recorded")
	}
	for _, sp := range ended {
		text := sp.Name()
		for _, kv := range sp.Attributes() {
			text += " " + string(kv.Key) + "=" + kv.Value.Emit()
		}
		if strings.Contains(text, token) {
			t.Fatalf("a span carries the token: %s", text)
		}
	}
}
