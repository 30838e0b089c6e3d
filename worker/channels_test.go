package worker

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// longSecret is a Standard Webhooks secret: "whsec_" and 32 bytes in base64.
var longSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 32)))

// Webhook URLs are https unless development allows http; every secret has
// at least 32 bytes; a short survey link secret stops the worker too, and
// so does a mail server it may hold no session to.
func TestWebhookAndSurveySettingsAreChecked(t *testing.T) {
	cases := map[string]struct {
		cfg Config
		ok  bool
	}{
		"https":               {Config{Webhooks: map[string]string{"shop": "https://shop.example/h"}, WebhookSecrets: map[string]string{"shop": longSecret}}, true},
		"http":                {Config{Webhooks: map[string]string{"shop": "http://shop.example/h"}, WebhookSecrets: map[string]string{"shop": longSecret}}, false},
		"http in development": {Config{Webhooks: map[string]string{"shop": "http://127.0.0.1:9/h"}, WebhookSecrets: map[string]string{"shop": longSecret}, WebhookAllowHTTP: true}, true},
		"short secret":        {Config{Webhooks: map[string]string{"shop": "https://shop.example/h"}, WebhookSecrets: map[string]string{"shop": "short"}}, false},
		"short survey secret": {Config{SurveyLinkSecret: "short"}, false},
		"SMTP":                {Config{SMTPHost: "127.0.0.1", SMTPPort: 25, SMTPMaxConnections: 3}, true},
		"no SMTP connections": {Config{SMTPHost: "127.0.0.1", SMTPPort: 25, SMTPMaxConnections: 0}, false},
	}
	for name, c := range cases {
		c.cfg.DeliveryMaxAttempts = 1
		_, err := channels(c.cfg, slog.New(slog.DiscardHandler))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want accepted %v", name, err, c.ok)
		}
	}
}

// A subscriber's redirect is not followed: the event goes to the URL it
// subscribed with, and the 3xx is the answer.
func TestWebhookClientFollowsNoRedirect(t *testing.T) {
	followed := false
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer elsewhere.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	defer hook.Close()
	resp, err := webhookClient().Post(hook.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if followed || resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("redirect followed: %v, status %d", followed, resp.StatusCode)
	}
}
