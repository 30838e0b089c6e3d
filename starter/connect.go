package starter

import (
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/complaintdesk/complaintdesk/codec"
)

// Connection is how the API reaches Temporal: the frontend, the namespace,
// the keys that encrypt every payload, and the process's tracing and
// metrics, which it adds to the client's options.
type Connection struct {
	HostPort  string
	Namespace string
	Logger    *slog.Logger
	Keys      *codec.Keyring
	// Instrument adds interceptors and a metrics handler; nil adds none.
	Instrument func(client.Options) (client.Options, error)
}

// Open makes a Starter over a lazy client: it connects on first use, so a
// process starts while Temporal is away and answers 503s until it is back.
// Close ends the client.
func Open(conn Connection, opts Options) (*Starter, error) {
	copts := codec.ClientOptions(client.Options{
		HostPort: conn.HostPort, Namespace: conn.Namespace, Logger: sdklog.NewStructuredLogger(conn.Logger),
	}, conn.Keys)
	if conn.Instrument != nil {
		var err error
		if copts, err = conn.Instrument(copts); err != nil {
			return nil, err
		}
	}
	c, err := client.NewLazyClient(copts)
	if err != nil {
		return nil, fmt.Errorf("temporal client: %w", err)
	}
	opts.DataConverter = copts.DataConverter
	return New(c, opts), nil
}

// Close ends the Starter's client.
func (s *Starter) Close() { s.client.Close() }
