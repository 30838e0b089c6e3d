package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The business metrics, as OpenTelemetry names them; Prometheus shows them
// with underscores and counters with _total (complaints_cases_opened_total).
const (
	MetricCasesOpened    = "complaints.cases.opened"    // counter: category, channel
	MetricSLABreaches    = "complaints.sla.breaches"    // counter: clock, department
	MetricSLAEscalations = "complaints.sla.escalations" // counter: clock, department, level
	MetricCasesByStatus  = "complaints.cases"           // gauge: status
	MetricMessages       = "complaints.messages"        // counter: channel, kind, outcome (sent, failed)
	// The task queue as Temporal sees it, for an alert on "no worker
	// polling" (pollers of type workflow at 0) and on a growing backlog.
	MetricQueuePollers = "complaints.task_queue.pollers" // gauge: type (workflow, activity)
	MetricQueueBacklog = "complaints.task_queue.backlog" // gauge: type
	// MetricCalendarCoveredUntil is the moment (Unix seconds) the working-day
	// calendar's holiday table stops covering; absent for a calendar that
	// knows every year.
	MetricCalendarCoveredUntil = "complaints.calendar.covered_until" // gauge
)

// ObserveCalendarCoverage registers the gauge of how far the holiday table
// reaches, so an alert can fire before it ends. A zero until registers
// nothing: the calendar knows every year.
func ObserveCalendarCoverage(mp metric.MeterProvider, until time.Time) error {
	if until.IsZero() {
		return nil
	}
	meter := mp.Meter("github.com/complaintdesk/complaintdesk")
	_, err := meter.Int64ObservableGauge(MetricCalendarCoveredUntil,
		metric.WithDescription("Unix time at which the working-day calendar's holiday table ends (add the next year before)."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(until.Unix())
			return nil
		}))
	if err != nil {
		return fmt.Errorf("metric %s: %w", MetricCalendarCoveredUntil, err)
	}
	return nil
}

// CaseMetrics counts what happens to cases. A nil *CaseMetrics counts nothing.
type CaseMetrics struct {
	opened, breaches, escalations, messages metric.Int64Counter
}

// NewCaseMetrics creates the counters on mp.
func NewCaseMetrics(mp metric.MeterProvider) (*CaseMetrics, error) {
	meter := mp.Meter("github.com/complaintdesk/complaintdesk")
	var m CaseMetrics
	var err error
	if m.opened, err = meter.Int64Counter(MetricCasesOpened, metric.WithUnit("{case}"),
		metric.WithDescription("Cases opened by a submission, by category and channel.")); err != nil {
		return nil, fmt.Errorf("metric %s: %w", MetricCasesOpened, err)
	}
	if m.breaches, err = meter.Int64Counter(MetricSLABreaches, metric.WithUnit("{breach}"),
		metric.WithDescription("Deadline clocks that passed their due time, by clock and department.")); err != nil {
		return nil, fmt.Errorf("metric %s: %w", MetricSLABreaches, err)
	}
	if m.escalations, err = meter.Int64Counter(MetricSLAEscalations, metric.WithUnit("{escalation}"),
		metric.WithDescription("Escalations of breached deadlines up the ladder, by clock, department and level.")); err != nil {
		return nil, fmt.Errorf("metric %s: %w", MetricSLAEscalations, err)
	}
	if m.messages, err = meter.Int64Counter(MetricMessages, metric.WithUnit("{message}"),
		metric.WithDescription("Messages to customers, staff and upstream systems, by channel, kind and outcome: "+
			"sent, or failed for good and left for an operator.")); err != nil {
		return nil, fmt.Errorf("metric %s: %w", MetricMessages, err)
	}
	return &m, nil
}

// MessageSent counts one message delivered.
func (m *CaseMetrics) MessageSent(ctx context.Context, channel, kind string) {
	m.message(ctx, channel, kind, "sent")
}

// MessageFailed counts one message given up.
func (m *CaseMetrics) MessageFailed(ctx context.Context, channel, kind string) {
	m.message(ctx, channel, kind, "failed")
}

func (m *CaseMetrics) message(ctx context.Context, channel, kind, outcome string) {
	if m == nil {
		return
	}
	m.messages.Add(ctx, 1, metric.WithAttributes(attribute.String("channel", channel),
		attribute.String("kind", kind), attribute.String("outcome", outcome)))
}

// CaseOpened counts one new case.
func (m *CaseMetrics) CaseOpened(ctx context.Context, category, channel string) {
	if m == nil {
		return
	}
	m.opened.Add(ctx, 1, metric.WithAttributes(attribute.String("category", category), attribute.String("channel", channel)))
}

// SLAEvent counts one event of a deadline clock when it is a breach or an
// escalation; other events (started, met ...) are not counted.
func (m *CaseMetrics) SLAEvent(ctx context.Context, clock, department, event string, level int) {
	if m == nil {
		return
	}
	attrs := []attribute.KeyValue{attribute.String("clock", clock), attribute.String("department", department)}
	switch event {
	case "breached":
		m.breaches.Add(ctx, 1, metric.WithAttributes(attrs...))
	case "escalated":
		attrs = append(attrs, attribute.String("level", strconv.Itoa(level)))
		m.escalations.Add(ctx, 1, metric.WithAttributes(attrs...))
	}
}

// CaseCounter counts the cases by status (the database's view).
type CaseCounter func(ctx context.Context) (map[string]int64, error)

// ObserveCasesByStatus registers the gauge complaints.cases{status} on mp. Its
// values come from count, called at most once per interval however often the
// metrics are scraped; between two calls the last answer is reported.
func ObserveCasesByStatus(mp metric.MeterProvider, count CaseCounter, interval time.Duration, logger *slog.Logger) error {
	meter := mp.Meter("github.com/complaintdesk/complaintdesk")
	gauge, err := meter.Int64ObservableGauge(MetricCasesByStatus, metric.WithUnit("{case}"),
		metric.WithDescription("Cases in the database by status, read at most every "+interval.String()+"."))
	if err != nil {
		return fmt.Errorf("metric %s: %w", MetricCasesByStatus, err)
	}
	var (
		mu     sync.Mutex
		last   map[string]int64
		readAt time.Time
	)
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		mu.Lock()
		defer mu.Unlock()
		if readAt.IsZero() || time.Since(readAt) >= interval {
			readAt = time.Now() // a failing database is asked again only after the interval too
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			counts, err := count(qctx)
			cancel()
			if err != nil {
				logger.Warn("count cases by status", "error", err)
			} else {
				last = counts
			}
		}
		for status, n := range last {
			o.ObserveInt64(gauge, n, metric.WithAttributes(attribute.String("status", status)))
		}
		return nil
	}, gauge)
	if err != nil {
		return fmt.Errorf("metric %s: %w", MetricCasesByStatus, err)
	}
	return nil
}

// QueueReader reads the task queue's pollers and backlog by kind of task.
type QueueReader func(ctx context.Context) (pollers map[string]int, backlog map[string]int64, err error)

// ObserveTaskQueue exports the task queue's pollers and backlog as gauges,
// read from Temporal at most every interval. While Temporal cannot be read
// the gauges are absent rather than stale: an alert on "no pollers" should
// pair with one on the series' absence.
func ObserveTaskQueue(mp metric.MeterProvider, read QueueReader, interval time.Duration, logger *slog.Logger) error {
	meter := mp.Meter("github.com/complaintdesk/complaintdesk")
	pollers, err := meter.Int64ObservableGauge(MetricQueuePollers, metric.WithUnit("{poller}"),
		metric.WithDescription("Workers' pollers on the cases' task queue seen in the last two minutes, by type of task."))
	if err != nil {
		return fmt.Errorf("metric %s: %w", MetricQueuePollers, err)
	}
	backlog, err := meter.Int64ObservableGauge(MetricQueueBacklog, metric.WithUnit("{task}"),
		metric.WithDescription("Tasks waiting on the cases' task queue for a worker, by type of task (approximate)."))
	if err != nil {
		return fmt.Errorf("metric %s: %w", MetricQueueBacklog, err)
	}
	var (
		mu       sync.Mutex
		lastP    map[string]int
		lastB    map[string]int64
		readAt   time.Time
		readable bool
	)
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		mu.Lock()
		defer mu.Unlock()
		if readAt.IsZero() || time.Since(readAt) >= interval {
			readAt = time.Now()
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			p, b, err := read(qctx)
			cancel()
			readable = err == nil
			if err != nil {
				logger.Warn("describe the task queue", "error", err)
			} else {
				lastP, lastB = p, b
			}
		}
		if !readable {
			return nil
		}
		for kind, n := range lastP {
			o.ObserveInt64(pollers, int64(n), metric.WithAttributes(attribute.String("type", kind)))
		}
		for kind, n := range lastB {
			o.ObserveInt64(backlog, n, metric.WithAttributes(attribute.String("type", kind)))
		}
		return nil
	}, pollers, backlog)
	if err != nil {
		return fmt.Errorf("metric %s: %w", MetricQueuePollers, err)
	}
	return nil
}
