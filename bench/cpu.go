package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Where intake's CPU goes: the bench reads, from Linux's /proc, the CPU time
// of its own process and of every process it started (the Temporal
// server, PostgreSQL, and on the production form our workers, APIs and
// nginx), before and after a measurement. On other systems it reads
// nothing and prints nothing.

// clockTicks is the kernel's unit of a process's CPU times in /proc: USER_HZ,
// 100 on every Linux architecture Go runs on.
const clockTicks = 100

// cpuSnapshot is the CPU seconds each kind of process has used so far.
type cpuSnapshot map[string]float64

// takeCPU reads the CPU time of this process and its descendants, by kind.
func takeCPU() cpuSnapshot {
	type proc struct {
		comm    string
		ppid    int
		seconds float64
	}
	procs := map[int]proc{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat") // a pattern that cannot be malformed
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses,
		// so the fields are counted from the last ')'.
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 13 {
			continue
		}
		// fields[0] is the state; ppid, utime and stime are the 4th, 14th
		// and 15th fields of the line.
		ppid, _ := strconv.Atoi(fields[1])
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		procs[pid] = proc{comm: s[open+1 : end], ppid: ppid, seconds: (utime + stime) / clockTicks}
	}
	self := os.Getpid()
	out := cpuSnapshot{}
	for pid, p := range procs {
		// Counted when self is among its ancestors.
		for a, hops := pid, 0; a > 0 && hops < 64; a, hops = procs[a].ppid, hops+1 {
			if a == self {
				out[cpuKind(p.comm, pid == self)] += p.seconds
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
