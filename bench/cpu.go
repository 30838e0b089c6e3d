package bench

import (
	"os"
	"runtime/pprof"
	"strings"

	"github.com/prometheus/procfs"
)

// Where intake's and a burst's CPU goes: the bench reads, from Linux's /proc, the CPU time
// of its own process and of every process it started (the Temporal
// server, PostgreSQL, and on the production form our workers, APIs and
// nginx), before and after a measurement. On other systems it reads
// nothing and prints nothing.

// cpuSnapshot is the CPU seconds each kind of process has used so far.
type cpuSnapshot map[string]float64

// takeCPU reads the CPU time of this process and its descendants, by kind;
// nothing where /proc cannot be read.
func takeCPU() cpuSnapshot {
	all, err := procfs.AllProcs()
	if err != nil {
		return nil
	}
	procs := make(map[int]procfs.ProcStat, len(all))
	for _, p := range all {
		if st, err := p.Stat(); err == nil { // an error: the process ended meanwhile
			procs[p.PID] = st
		}
	}
	self := os.Getpid()
	out := cpuSnapshot{}
	for pid, st := range procs {
		// Counted when self is among its ancestors.
		for a, hops := pid, 0; a > 0 && hops < 64; a, hops = procs[a].PPID, hops+1 {
			if a == self {
				out[cpuKind(st.Comm, pid == self)] += st.CPUTime()
				break
			}
		}
	}
	return out
}

// cpuKind names a process by what it is in the system.
func cpuKind(comm string, self bool) string {
	switch {
	case self:
		return "bench process"
	case strings.HasPrefix(comm, "temporal"), comm == "ui-server":
		return "Temporal"
	case comm == "postgres":
		return "PostgreSQL"
	case comm == "worker", comm == "api", comm == "nginx":
		return comm
	default:
		return "other"
	}
}

// cpuPer is the CPU seconds each kind used between before and after, per
// n calls.
func cpuPer(before, after cpuSnapshot, n int) map[string]float64 {
	if len(after) == 0 || n == 0 {
		return nil
	}
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d / float64(n)
		}
	}
	return out
}

// burstWindow is what the machine spends on one deadline burst, from its
// due time until the last deadline is seen: the CPU of every process the
// bench started and, when asked for, a CPU profile of the bench's own
// process (on the dev server, the worker that runs the burst).
type burstWindow struct {
	before  cpuSnapshot
	profile *os.File
}

// openBurst starts a window; profile is the file to write the profile to
// ("": none). A profile that cannot be started is left out, not an error:
// the burst's figures matter more than its profile.
func openBurst(profile string) *burstWindow {
	b := &burstWindow{before: takeCPU()}
	if profile == "" {
		return b
	}
	f, err := os.Create(profile)
	if err != nil {
		return b
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return b
	}
	b.profile = f
	return b
}

// close ends the window: the CPU seconds each kind of process used per
// deadline of the n.
func (b *burstWindow) close(n int) map[string]float64 {
	if b.profile != nil {
		pprof.StopCPUProfile()
		b.profile.Close()
	}
	return cpuPer(b.before, takeCPU(), n)
}
