package worker

// Config is the worker process's configuration, read from the environment.
type Config struct {
	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TaskQueue         string `env:"TASK_QUEUE" envDefault:"complaints"`
	DatabaseURL       string `env:"DATABASE_URL" envDefault:"postgres://complaints:complaints@127.0.0.1:55432/complaints?sslmode=disable"`
	HTTPAddr          string `env:"WORKER_HTTP_ADDR" envDefault:"127.0.0.1:9090"`
	LogLevel          string `env:"LOG_LEVEL" envDefault:"info"`
}
