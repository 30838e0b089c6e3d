package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers, after the Standard Webhooks convention: the receiver
// checks the signature over "id.timestamp.body" and rejects a timestamp
// too far from its clock (replay) or an id it has seen (repeat).
const (
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
)

// Webhooks POSTs case events to the systems that submitted the cases.
type Webhooks struct {
	// Subscribers maps an upstream system to the URL its events go to.
	Subscribers map[string]string
	// Secrets maps an upstream system to the key its events are signed with.
	Secrets map[string]string
	Client  *http.Client
	Now     func() time.Time
}

// Subscribed tells whether system takes events.
func (w *Webhooks) Subscribed(system string) bool {
	return w != nil && system != "" && w.Subscribers[system] != ""
}

// Post delivers one event. A 2xx is delivered; 408, 429 and 5xx are worth
// retrying; any other answer is permanent.
func (w *Webhooks) Post(ctx context.Context, system, id string, body []byte) error {
	url, secret := w.Subscribers[system], w.Secrets[system]
	if url == "" {
		return Permanent(fmt.Errorf("no webhook URL for %q", system))
	}
	ts := strconv.FormatInt(w.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook request to %s: %w", system, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderWebhookID, id)
	req.Header.Set(HeaderWebhookTimestamp, ts)
	req.Header.Set(HeaderWebhookSignature, "v1,"+Sign(secret, id, ts, body))
	resp, err := w.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook to %s: %w", system, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode >= 500:
		return fmt.Errorf("webhook to %s: %s", system, resp.Status)
	default:
		return Permanent(fmt.Errorf("webhook to %s: %s", system, resp.Status))
	}
}

// Sign is the hex HMAC-SHA256 of "id.timestamp.body" under secret.
func Sign(secret, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook is the receiver's check: the signature matches and the
// timestamp is within tolerance of now. Upstream systems written in Go can
// use it as it is; the README shows the same in a few lines of shell.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook timestamp %s is %s away from now", ts, d)
	}
	want := Sign(secret, id, ts, body)
	for _, sig := range strings.Fields(h.Get(HeaderWebhookSignature)) {
		if v, ok := strings.CutPrefix(sig, "v1,"); ok && hmac.Equal([]byte(v), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("webhook signature does not match")
}
