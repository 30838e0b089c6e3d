package devenv

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"time"
)

// Service is one long-running process a Supervisor keeps up.
type Service struct {
	Name string
	// Start runs the process and returns once it is healthy; it kills what
	// it started when it fails. It is called again after each crash.
	Start func(ctx context.Context) (*Process, error)
}

// Supervisor keeps services running, as an init system would: one that
// exits without being asked is started again after a backoff, while the
// others keep running; one that dies too often (MaxCrashes within
// CrashWindow) is reported and left stopped. Only Stop ends them, last
// started first, so that each is stopped before what it depends on.
//
// Both launchers (`make dev`, `make prod`) and the production form's tests
// share it: a crash under test meets the same supervision as on an
// operator's machine.
type Supervisor struct {
	// Event receives a line for each crash, restart and stop; nil drops them.
	Event func(line string)
	// MaxCrashes within CrashWindow leave a service stopped (5 in a minute
	// when zero).
	MaxCrashes  int
	CrashWindow time.Duration
	// FirstBackoff is the wait before the first restart (1 s when zero); it
	// doubles with each crash in a row, up to MaxBackoff (15 s when zero).
	FirstBackoff, MaxBackoff time.Duration
	// StartTimeout bounds each restart's wait for health (3 min when zero).
	StartTimeout time.Duration

	mu       sync.Mutex
	services []*supervised
	ctx      context.Context
	cancel   context.CancelFunc
	watchers sync.WaitGroup
	stopping bool
}

type supervised struct {
	Service
	proc     *Process
	restarts int
	gaveUp   bool
	retired  bool // stopped on purpose: not started again
	renewing bool // stopped to be started again at once (Renew), not a crash
	// back is closed and replaced each time the service is up again.
	back chan struct{}
}

// ErrGaveUp is returned by WaitRunning for a service left stopped.
var ErrGaveUp = errors.New("left stopped after crashing too often")

func (s *Supervisor) init() {
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
}

// Start starts a service for the first time and supervises it from then on.
// A service that fails its first start is not supervised: the caller decides.
func (s *Supervisor) Start(ctx context.Context, svc Service) (*Process, error) {
	s.mu.Lock()
	s.init()
	if s.stopping {
		s.mu.Unlock()
		return nil, fmt.Errorf("start %s: stopping", svc.Name)
	}
	s.mu.Unlock()
	proc, err := svc.Start(ctx)
	if err != nil {
		return nil, err
	}
	sv := &supervised{Service: svc, proc: proc, back: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		proc.Kill()
		return nil, fmt.Errorf("start %s: stopping", svc.Name)
	}
	s.services = append(s.services, sv)
	s.watchers.Add(1)
	go s.watch(sv)
	return proc, nil
}

// Process is the service's current process (nil for no such service).
func (s *Supervisor) Process(name string) *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sv := s.find(name); sv != nil {
		return sv.proc
	}
	return nil
}

// Processes are the services' current processes, in start order.
func (s *Supervisor) Processes() []*Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	var procs []*Process
	for _, sv := range s.services {
		procs = append(procs, sv.proc)
	}
	return procs
}

// Restarts is how often the service was started again after a crash.
func (s *Supervisor) Restarts(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sv := s.find(name); sv != nil {
		return sv.restarts
	}
	return 0
}

// WaitRunning waits until the service runs a process other than old
// (healthy: Start has returned it), ctx ends or the supervisor gave up on it.
func (s *Supervisor) WaitRunning(ctx context.Context, name string, old *Process) (*Process, error) {
	for {
		s.mu.Lock()
		sv := s.find(name)
		if sv == nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("no service %q", name)
		}
		proc, gaveUp, back := sv.proc, sv.gaveUp, sv.back
		s.mu.Unlock()
		if gaveUp {
			return nil, fmt.Errorf("%s: %w", name, ErrGaveUp)
		}
		if exited, _ := proc.Exited(); proc != old && !exited {
			return proc, nil
		}
		select {
		case <-back:
		case <-ctx.Done():
			return nil, fmt.Errorf("%s not back: %w", name, ctx.Err())
		}
	}
}

func (s *Supervisor) find(name string) *supervised {
	for _, sv := range s.services {
		if sv.Name == name {
			return sv
		}
	}
	return nil
}

func (s *Supervisor) event(format string, args ...any) {
	if s.Event != nil {
		s.Event(fmt.Sprintf(format, args...))
	}
}

// watch restarts the service each time its process exits unasked.
func (s *Supervisor) watch(sv *supervised) {
	defer s.watchers.Done()
	maxCrashes, window := s.MaxCrashes, s.CrashWindow
	if maxCrashes == 0 {
		maxCrashes = 5
	}
	if window == 0 {
		window = time.Minute
	}
	first, most := s.FirstBackoff, s.MaxBackoff
	if first == 0 {
		first = time.Second
	}
	if most == 0 {
		most = 15 * time.Second
	}
	timeout := s.StartTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	var crashes []time.Time
	s.mu.Lock()
	proc := sv.proc
	s.mu.Unlock()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-proc.Done():
		}
		s.mu.Lock()
		retired := sv.retired
		s.mu.Unlock()
		if s.ctx.Err() != nil || retired {
			return // asked to stop
		}
		died := time.Now()
		s.mu.Lock()
		renewing := sv.renewing
		sv.renewing = false
		s.mu.Unlock()
		if renewing {
			s.event("%s (pid %d) stopped to be started again", sv.Name, proc.Pid())
		} else {
			_, err := proc.Exited()
			s.event("%s (pid %d) died at %s: %s", sv.Name, proc.Pid(), died.Format(time.TimeOnly), exitReason(err))
		}
		for attempt := 0; ; attempt++ {
			if renewing && attempt == 0 { // asked for: no backoff, and no crash counted
				startCtx, cancel := context.WithTimeout(s.ctx, timeout)
				next, err := sv.Start(startCtx)
				cancel()
				if err == nil {
					proc = next
					break
				}
				if s.ctx.Err() != nil {
					return
				}
				s.event("%s did not come back: %v", sv.Name, err)
			}
			crashes = append(crashes, time.Now())
			crashes = slices.DeleteFunc(crashes, func(t time.Time) bool { return time.Since(t) > window })
			if len(crashes) >= maxCrashes {
				// Said before it is known: whoever waits on the service finds the line already written.
				s.event("!!! %s crashed %d times within %s: left STOPPED; the other services keep running. "+
					"Its log says why; restart the stack once it is fixed.", sv.Name, len(crashes), window)
				s.mu.Lock()
				sv.gaveUp = true
				close(sv.back)
				s.mu.Unlock()
				return
			}
			wait := min(first<<(len(crashes)-1), most)
			s.event("%s: restarting in %s", sv.Name, wait)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(wait):
			}
			startCtx, cancel := context.WithTimeout(s.ctx, timeout)
			next, err := sv.Start(startCtx)
			cancel()
			if err == nil {
				proc = next
				break
			}
			if s.ctx.Err() != nil {
				return
			}
			s.event("%s did not come back: %v", sv.Name, err)
		}
		// As above: the line comes before the waiters are woken.
		if renewing {
			s.event("%s started again (pid %d)", sv.Name, proc.Pid())
		} else {
			s.event("%s back at %s (pid %d), %s after it died", sv.Name, time.Now().Format(time.TimeOnly), proc.Pid(),
				time.Since(died).Round(100*time.Millisecond))
		}
		s.mu.Lock()
		sv.proc = proc
		if !renewing {
			sv.restarts++
		}
		close(sv.back)
		sv.back = make(chan struct{})
		s.mu.Unlock()
	}
}

// exitReason says how a process ended: its exit code or the signal.
func exitReason(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ProcessState.String() // "exit status 1", "signal: killed"
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Renew stops a service's process, giving it grace to finish its work in
// hand, and starts it again at once with its Start (which may read new
// settings: a renewed credential, say). It is not counted as a crash.
func (s *Supervisor) Renew(name string, grace time.Duration) error {
	s.mu.Lock()
	sv := s.find(name)
	if sv == nil || sv.gaveUp || sv.retired {
		s.mu.Unlock()
		return fmt.Errorf("no running service %q", name)
	}
	sv.renewing = true
	proc := sv.proc
	s.mu.Unlock()
	return proc.Stop(grace)
}

// Retire stops one service for good, giving it grace to finish its work
// in hand: it is not started again.
func (s *Supervisor) Retire(name string, grace time.Duration) error {
	s.mu.Lock()
	sv := s.find(name)
	if sv == nil {
		s.mu.Unlock()
		return fmt.Errorf("no service %q", name)
	}
	sv.retired = true
	proc := sv.proc
	s.mu.Unlock()
	s.event("retiring %s", name)
	return proc.Stop(grace)
}

// Stop stops supervising and then stops every service, last started first,
// each given grace to finish its work in hand before it is killed.
func (s *Supervisor) Stop(grace time.Duration) error {
	s.mu.Lock()
	s.init()
	s.stopping = true
	s.mu.Unlock()
	s.cancel()
	s.watchers.Wait()
	var errs []error
	procs := s.Processes()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if exited, _ := p.Exited(); exited {
			continue
		}
		s.event("stopping %s", p.Name)
		if err := p.Stop(grace); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
