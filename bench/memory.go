package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/procfs"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// MemoryResult is the resident memory of one worker process holding open
// cases that wait on their timers.
type MemoryResult struct {
	OpenCases  int     `json:"openCases"`
	BaselineMB float64 `json:"baselineMB"`
	RSSMB      float64 `json:"rssMB"`
}

func measureMemory(ctx context.Context, sys *systemtest.System, n int, run string) (MemoryResult, error) {
	res := MemoryResult{OpenCases: n}
	if err := sys.StopWorker(); err != nil {
		return res, err
	}
	port, err := devenv.FreePort()
	if err != nil {
		return res, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(filepath.Join(systemtest.RepoRoot(), "bin", "worker"))
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+sys.Temporal.Address(), "TEMPORAL_NAMESPACE=default",
		"TASK_QUEUE="+complaint.TaskQueue, "DATABASE_URL="+sys.Postgres.DSN(), "WORKER_HTTP_ADDR="+addr, "LOG_LEVEL=error")
	cmd.Env = append(cmd.Env, sys.Secrets.Env()...)
	proc, err := devenv.StartProcess("worker", cmd, nil)
	if err != nil {
		return res, fmt.Errorf("%w (make build puts the worker in bin/)", err)
	}
	defer func() {
		if err := proc.Stop(30 * time.Second); err != nil {
			sys.Logger.Error("stop bench worker", "error", err)
		}
	}()
	if err := devenv.WaitHTTP(ctx, proc, "http://"+addr+"/healthz"); err != nil {
		return res, err
	}
	if res.BaselineMB, err = rssMB(proc.Pid()); err != nil {
		return res, err
	}
	refs, err := startCases(ctx, devServers(sys), complaint.DefaultRules(), time.Time{}, n)
	if err != nil {
		return res, err
	}
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		return res, err
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(30 * time.Minute); ; time.Sleep(2 * time.Second) {
		var acked int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM cases WHERE reference = ANY($1) AND status = 'acknowledged'`,
			refs).Scan(&acked); err != nil {
			return res, err
		}
		if acked == len(refs) {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("only %d of %d cases were acknowledged", acked, len(refs))
		}
	}
	time.Sleep(5 * time.Second) // let the worker settle with every case parked on its timers
	res.RSSMB, err = rssMB(proc.Pid())
	return res, err
}

// rssMB reads a process's resident set size from /proc.
func rssMB(pid int) (float64, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0, err
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, err
	}
	return float64(st.VmRSS) / (1 << 20), nil
}
