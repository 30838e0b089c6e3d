package bench

import (
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// The CPU this process and a process it started burn is counted, each
// under its kind; a process the bench did not start is not.
func TestCPUIsCountedForThisProcessAndItsChildren(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	before := takeCPU()
	// The child counts (CPU alone, no process forked), then waits.
	child := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	for spin := time.Now(); time.Since(spin) < 1500*time.Millisecond; { // this process burns too
	}
	per := cpuPer(before, takeCPU(), 1)
	for until := time.Now().Add(20 * time.Second); per["other"] < 0.2 && time.Now().Before(until); {
		time.Sleep(100 * time.Millisecond)
		per = cpuPer(before, takeCPU(), 1)
	}
	if per["bench process"] < 0.5 {
		t.Errorf("this process: %.2f s of CPU counted, want about 1.5", per["bench process"])
	}
	if per["other"] <= 0 {
		t.Errorf("the child shell's CPU was not counted: %v", per)
	}
	if _, ok := per["PostgreSQL"]; ok {
		t.Errorf("a process this one did not start was counted: %v", per)
	}
}
