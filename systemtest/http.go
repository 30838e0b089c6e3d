package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// Do sends req, failing the test when it cannot, and returns the response
// with its whole body read (the response's Body is closed).
func Do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// PostRetrying POSTs body as a careful client does: a call that finds no
// API (the connection broke, nginx had no replica, the API had no Temporal
// or database) is sent again a second later with the same Idempotency-Key,
// until ctx ends; any other refusal is an error.
func PostRetrying(ctx context.Context, base, token, path string, body any, key string, retried *atomic.Int64) (map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			retried.Add(1)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", key)
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			continue // the replica died under the call
		}
		var out map[string]any
		decodeErr := json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300 && decodeErr == nil:
			return out, nil
		case resp.StatusCode == http.StatusBadGateway, resp.StatusCode == http.StatusServiceUnavailable,
			resp.StatusCode == http.StatusGatewayTimeout:
			continue
		default:
			return nil, fmt.Errorf("%s: %d %v", path, resp.StatusCode, out)
		}
	}
}
