package systemtest

import (
	"io"
	"net/http"
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
