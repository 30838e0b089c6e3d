// Package architecture holds no code: its test checks the arrows between the
// project's folders that ARCHITECTURE.md forbids, on the real import graph.
package architecture

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/complaintdesk/complaintdesk"

// list runs go list on pkg with a template, one line per package.
func list(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

func TestForbiddenArrows(t *testing.T) {
	for _, c := range []struct {
		from      string
		forbidden []string
		why       string
	}{
		{"./workflows", []string{"github.com/jackc/pgx/v5", module + "/store", module + "/activities"},
			"the workflow calls its activities by name; no database driver in its build"},
		{"./starter", []string{module + "/workflows", module + "/activities"}, "the client side never runs a workflow"},
		{"./codec", []string{module + "/store"}, "the codec owns its key type; the store implements its storage"},
		{"./complaint", []string{module + "/"}, "the domain imports nothing of ours"},
		{"./visibility", []string{module + "/workflows", module + "/store"}, "pure: what the UI shows of a case"},
		{"./api", []string{module + "/activities", module + "/workflows"}, "HTTP only, through the starter"},
		{"./inbound", []string{module + "/activities", module + "/workflows", module + "/api"},
			"the customer's mail reaches a case through the starter, like the API"},
	} {
		self := module + strings.TrimPrefix(c.from, ".")
		for _, dep := range list(t, "-deps", c.from) {
			for _, f := range c.forbidden {
				hit := dep == f || strings.HasPrefix(dep, f+"/") || strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f)
				if hit && dep != self {
					t.Errorf("%s depends on %s: %s", c.from, dep, c.why)
				}
			}
		}
	}
}

// The API reaches Temporal only through the starter: no package under api/
// imports the Temporal client.
func TestTheAPIReachesTemporalOnlyThroughTheStarter(t *testing.T) {
	for _, line := range list(t, "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", "./api/...") {
		pkg, imports, _ := strings.Cut(line, "|")
		if slices.Contains(strings.Split(imports, ","), "go.temporal.io/sdk/client") {
			t.Errorf("%s imports go.temporal.io/sdk/client; go through the starter", pkg)
		}
	}
}
