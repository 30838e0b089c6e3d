package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers of the Standard Webhooks specification
// (standardwebhooks.com): the receiver checks the signature over
// "id.timestamp.body" and rejects a timestamp too far from its clock
// (replay) or an id it has seen (repeat). Any of the standard's verifier
// libraries checks our deliveries.
const (
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
)

// Webhooks POSTs case events to the systems that submitted the cases.
type Webhooks struct {
	// Subscribers maps an upstream system to the URL its events go to.
	Subscribers map[string]string
	// Keys maps an upstream system to the keys its events are signed with:
	// the current one first and, while a rotation is under way, the
	// previous one; every delivery carries a signature under each, so the
	// receiver may switch to the new secret at any moment.
	Keys   map[string][][]byte
	Client *http.Client
	Now    func() time.Time
}

// Subscribed tells whether system takes events.
func (w *Webhooks) Subscribed(system string) bool {
	return w != nil && system != "" && w.Subscribers[system] != ""
}

// Post delivers one event. A 2xx is delivered; 408, 429 and 5xx are worth
// retrying; any other answer is permanent.
func (w *Webhooks) Post(ctx context.Context, system, id string, body []byte) error {
	url, keys := w.Subscribers[system], w.Keys[system]
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
	if len(keys) == 0 {
		return Permanent(fmt.Errorf("no webhook secret for %q", system))
	}
	sigs := make([]string, len(keys))
	for i, key := range keys {
		sigs[i] = "v1," + Sign(key, id, ts, body)
	}
	// Space-separated signatures, as the standard allows during a rotation.
	req.Header.Set(HeaderWebhookSignature, strings.Join(sigs, " "))
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

// WebhookSecretPrefix starts a webhook secret as the standard writes it:
// "whsec_" and the key in standard base64.
const WebhookSecretPrefix = "whsec_"

// ParseWebhookSecret decodes a "whsec_<base64>" secret into its key. The
// standard asks for 24 to 64 random bytes.
func ParseWebhookSecret(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, WebhookSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("a webhook secret starts with %q followed by base64 (complaintctl webhook-secret makes one)",
			WebhookSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("a webhook secret is %q followed by standard base64: %w", WebhookSecretPrefix, err)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("a webhook secret's key is 24 to 64 bytes, not %d", len(key))
	}
	return key, nil
}

// NewWebhookSecret makes a secret of 32 random bytes in the standard's form.
func NewWebhookSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (it panics when the system has no randomness)
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// WebhookKeys parses each system's current secret and, when one is given,
// its previous secret (kept during a rotation), current first.
func WebhookKeys(current, previous map[string]string) (map[string][][]byte, error) {
	keys := map[string][][]byte{}
	for system, secret := range current {
		key, err := ParseWebhookSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("WEBHOOK_SECRETS: %s: %w", system, err)
		}
		keys[system] = [][]byte{key}
	}
	for system, secret := range previous {
		if keys[system] == nil {
			return nil, fmt.Errorf("WEBHOOK_PREVIOUS_SECRETS: %s has no current secret in WEBHOOK_SECRETS", system)
		}
		key, err := ParseWebhookSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("WEBHOOK_PREVIOUS_SECRETS: %s: %w", system, err)
		}
		keys[system] = append(keys[system], key)
	}
	return keys, nil
}

// Sign is the standard's signature: the base64 HMAC-SHA256 of
// "id.timestamp.body" under key.
func Sign(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook is the receiver's check: a signature matches under the
// "whsec_" secret and the timestamp is within tolerance of now. Upstream
// systems may use it or any Standard Webhooks library.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := ParseWebhookSecret(secret)
	if err != nil {
		return err
	}
	id, ts := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook timestamp %s is %s away from now", ts, d)
	}
	want := Sign(key, id, ts, body)
	for _, sig := range strings.Fields(h.Get(HeaderWebhookSignature)) {
		if v, ok := strings.CutPrefix(sig, "v1,"); ok && hmac.Equal([]byte(v), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("webhook signature does not match")
}
