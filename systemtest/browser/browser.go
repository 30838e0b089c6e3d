// Package browser walks pages in headless Chromium for the tests, as people
// do: each actor has a browser context of their own (their own cookies) and
// the steps run in order (systemtest/ui/desk-flow.mjs says which steps
// there are). `make test` installs Chromium and playwright-core first.
package browser

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Step is one thing a person does in the browser.
type Step map[string]string

// Walk runs the steps and fails the test at the first that does not
// happen, with the page's text (and its screenshots copied to
// $UI_SCREENSHOTS when set).
func Walk(t testing.TB, steps []Step) {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(self), "..", "ui")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed in %s (make test runs npm ci there): %v", dir, err)
	}
	shots := t.TempDir()
	input, err := json.Marshal(map[string]any{"steps": steps, "screenshots": shots})
	if err != nil {
		t.Fatal(err)
	}
	// Each step has its own timeout in the script; this bounds a browser
	// that stops answering altogether.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "desk-flow.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FLOW="+string(input))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	var res struct {
		OK    bool   `json:"ok"`
		Step  int    `json:"step"`
		Error string `json:"error"`
		Text  string `json:"text"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("browser output: %v\n%s", err, out)
	}
	if !res.OK {
		t.Errorf("step %d %v: %s\n%s", res.Step, steps[res.Step], res.Error, res.Text)
		if d := os.Getenv("UI_SCREENSHOTS"); d != "" {
			_ = os.CopyFS(d, os.DirFS(shots))
		}
	}
}
