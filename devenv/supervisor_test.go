package devenv

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// events collects a supervisor's lines.
type events struct {
	mu    sync.Mutex
	lines []string
}

func (e *events) add(line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lines = append(e.lines, line)
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.lines)
}

func (e *events) find(substr string) []string {
	var out []string
	for _, l := range e.all() {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

func command(name string, args ...string) Service {
	return Service{Name: name, Start: func(context.Context) (*Process, error) {
		return start(name, exec.Command(args[0], args[1:]...), nil)
	}}
}

func TestSupervisorRestartsAProcessKilledAndKeepsTheOthers(t *testing.T) {
	var ev events
	sup := &Supervisor{Event: ev.add, FirstBackoff: 10 * time.Millisecond}
	t.Cleanup(func() { sup.Stop(time.Second) })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db, err := sup.Start(ctx, command("db", "sleep", "600"))
	if err != nil {
		t.Fatal(err)
	}
	app, err := sup.Start(ctx, command("app", "sleep", "600"))
	if err != nil {
		t.Fatal(err)
	}
	app.Kill() // SIGKILL, as an operator's kill -9
	again, err := sup.WaitRunning(ctx, "app", app)
	if err != nil {
		t.Fatal(err)
	}
	if again.Pid() == app.Pid() {
		t.Fatal("the same process")
	}
	if exited, _ := db.Exited(); exited || sup.Process("db") != db {
		t.Error("the other service was disturbed")
	}
	if n := sup.Restarts("app"); n != 1 {
		t.Errorf("%d restarts, want 1", n)
	}
	if died := ev.find("app (pid"); len(died) != 1 || !strings.Contains(died[0], "signal: killed") {
		t.Errorf("no line says why app died: %q", ev.all())
	}
	if back := ev.find("app back at"); len(back) != 1 {
		t.Errorf("no line says app came back: %q", ev.all())
	}
}

func TestSupervisorLeavesAServiceThatKeepsDyingStopped(t *testing.T) {
	var ev events
	sup := &Supervisor{Event: ev.add, FirstBackoff: time.Millisecond, MaxCrashes: 3, CrashWindow: time.Minute}
	t.Cleanup(func() { sup.Stop(time.Second) })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	steady, err := sup.Start(ctx, command("steady", "sleep", "600"))
	if err != nil {
		t.Fatal(err)
	}
	flaky, err := sup.Start(ctx, command("flaky", "sh", "-c", "sleep 0.05; exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	// Each restart runs briefly and dies again, until the supervisor gives up.
	for p := flaky; ; {
		next, err := sup.WaitRunning(ctx, "flaky", p)
		if errors.Is(err, ErrGaveUp) {
			break
		}
		if err != nil {
			t.Fatalf("WaitRunning: %v, want ErrGaveUp in the end", err)
		}
		p = next
	}
	if n := sup.Restarts("flaky"); n != 2 {
		t.Errorf("%d restarts before giving up, want 2 (3 crashes)", n)
	}
	if loud := ev.find("left STOPPED"); len(loud) != 1 || !strings.Contains(loud[0], "flaky") {
		t.Errorf("giving up was not reported: %q", ev.all())
	}
	if died := ev.find("exit status 3"); len(died) != 3 {
		t.Errorf("want 3 lines with the exit status: %q", ev.all())
	}
	if exited, _ := steady.Exited(); exited {
		t.Error("the steady service stopped with the flaky one")
	}
}

func TestSupervisorStopsEverythingLastStartedFirst(t *testing.T) {
	var ev events
	sup := &Supervisor{Event: ev.add}
	ctx := t.Context()
	var procs []*Process
	for _, name := range []string{"first", "second", "third"} {
		p, err := sup.Start(ctx, command(name, "sleep", "600"))
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	if err := sup.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		if exited, _ := p.Exited(); !exited {
			t.Errorf("%s still runs", p.Name)
		}
	}
	want := []string{"stopping third", "stopping second", "stopping first"}
	if got := ev.find("stopping"); !slices.Equal(got, want) {
		t.Errorf("stopped %q, want %q", got, want)
	}
	if len(ev.find("died")) != 0 {
		t.Errorf("a stop was taken for a crash: %q", ev.all())
	}
	if _, err := sup.Start(ctx, command("late", "sleep", "600")); err == nil {
		t.Error("a service started after Stop")
	}
}

// Renew starts a service again at once with its Start, reading what Start
// reads now (a renewed credential), without counting a crash.
func TestSupervisorRenewsAServiceWithItsNewSettings(t *testing.T) {
	var ev events
	sup := &Supervisor{Event: ev.add, FirstBackoff: time.Hour} // a crash would wait an hour
	t.Cleanup(func() { sup.Stop(time.Second) })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	arg := "600"
	old, err := sup.Start(ctx, Service{Name: "ui", Start: func(context.Context) (*Process, error) {
		mu.Lock()
		defer mu.Unlock()
		return start("ui", exec.Command("sleep", arg), nil)
	}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	arg = "601"
	mu.Unlock()
	if err := sup.Renew("ui", time.Second); err != nil {
		t.Fatal(err)
	}
	renewed, err := sup.WaitRunning(ctx, "ui", old)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Pid() == old.Pid() || !slices.Contains(renewed.cmd.Args, "601") {
		t.Fatalf("renewed process %d %v, want a new one started with the new settings", renewed.Pid(), renewed.cmd.Args)
	}
	if n := sup.Restarts("ui"); n != 0 || len(ev.find("died")) != 0 {
		t.Fatalf("a renewal counted as a crash: %d restarts, events %v", n, ev.all())
	}
}
