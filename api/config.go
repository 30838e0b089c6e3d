package api

import (
	"time"

	"github.com/complaintdesk/complaintdesk/starter"
)

// Config is the API process's configuration, read from the environment.
type Config struct {
	Addr              string        `env:"API_ADDR" envDefault:"127.0.0.1:8080"`
	TemporalAddress   string        `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace string        `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TaskQueue         string        `env:"TASK_QUEUE" envDefault:"complaints"`
	DatabaseURL       string        `env:"DATABASE_URL" envDefault:"postgres://complaints:complaints@127.0.0.1:55432/complaints?sslmode=disable"`
	RequestTimeout    time.Duration `env:"REQUEST_TIMEOUT" envDefault:"10s"`
	ReferenceTimeZone string        `env:"REFERENCE_TIME_ZONE" envDefault:"Asia/Shanghai"`
	LogLevel          string        `env:"LOG_LEVEL" envDefault:"info"`
	Cases             starter.CaseConfig
}
