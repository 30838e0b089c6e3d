// Package browser drives headless Chromium for the tests through the
// scripts in systemtest/ui (playwright-core): Walk walks pages as people
// do, each actor in a browser context of their own (their own cookies),
// the steps in order (systemtest/ui/desk-flow.mjs says which there are).
// `make test` installs Chromium and playwright-core first.
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
	var res struct {
		OK    bool   `json:"ok"`
		Step  int    `json:"step"`
		Error string `json:"error"`
		Text  string `json:"text"`
	}
	shots := Run(t, "desk-flow.mjs", "FLOW", map[string]any{"steps": steps}, &res)
	if !res.OK {
		t.Errorf("step %d %v: %s\n%s", res.Step, steps[res.Step], res.Error, res.Text)
		KeepScreenshots(t, shots)
	}
}

// Run runs one of systemtest/ui's scripts with input (a JSON object, to
// which the screenshots' folder is added) in the environment variable env,
// and decodes what it prints into out; it returns the screenshots' folder.
func Run(t testing.TB, script, env string, input map[string]any, out any) (screenshots string) {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(self), "..", "ui")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed in %s (make test runs npm ci there): %v", dir, err)
	}
	screenshots = t.TempDir()
	input["screenshots"] = screenshots
	data, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	// The scripts bound each step; this bounds a browser that stops
	// answering altogether.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env+"="+string(data))
	cmd.Stderr = os.Stderr
	printed, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser (%s): %v", script, err)
	}
	if err := json.Unmarshal(printed, out); err != nil {
		t.Fatalf("browser output (%s): %v\n%s", script, err, printed)
	}
	return screenshots
}

// KeepScreenshots copies a failed run's screenshots to $UI_SCREENSHOTS
// when it is set.
func KeepScreenshots(t testing.TB, dir string) {
	if d := os.Getenv("UI_SCREENSHOTS"); d != "" {
		if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
			t.Log(err)
		}
	}
}
