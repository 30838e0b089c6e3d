package codec

import (
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// Payload metadata of an encrypted payload.
const (
	MetadataEncoding  = converter.MetadataEncoding
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
	// DefaultScope is the key of payloads that belong to no case.
	DefaultScope = "default"
)

// ScopeOf is the key scope of a workflow's payloads: the case's for the
// case and its department children (complaint-<ref>, complaint-<ref>/dept-x).
func ScopeOf(workflowID string) string {
	ref, ok := strings.CutPrefix(workflowID, "complaint-")
	if !ok {
		return DefaultScope
	}
	ref, _, _ = strings.Cut(ref, "/")
	if !complaint.ValidReference(ref) {
		return DefaultScope
	}
	return CaseScope(ref)
}

// CaseScope is the key scope of a case.
func CaseScope(reference string) string { return "case:" + reference }

// Codec encrypts payloads with the key of the case they belong to. The SDK
// tells it the workflow through the serialization context; payloads without
// one use the default key.
type Codec struct {
	ring  *Keyring
	scope string
	// failTask makes a workflow's payload that cannot be encrypted or
	// decrypted because the key store does not answer panic, in the
	// worker: the SDK fails the workflow task, which the server retries,
	// where an error would fail the case itself (an undecodable input, or a
	// local activity's result decoded in the workflow, is the workflow's
	// own error to the SDK). Payloads the worker reads outside the
	// workflow's code (a query's) are recovered by the SDK as a task it
	// drops: the query waits for its deadline.
	failTask bool
}

// New returns a codec over ring.
func New(ring *Keyring) *Codec { return &Codec{ring: ring, scope: DefaultScope} }

// WithSerializationContext picks the case's key for the workflow or activity
// being serialized.
func (c *Codec) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	var (
		id       string
		failTask bool
	)
	switch v := sc.(type) {
	case converter.WorkflowSerializationContext:
		id, failTask = v.WorkflowID, c.failTask
	case converter.ActivitySerializationContext:
		// An activity's own error is retried as it is; a local activity's
		// result is read in the workflow task.
		id, failTask = v.WorkflowID, c.failTask && v.IsLocal
	}
	return &Codec{ring: c.ring, scope: ScopeOf(id), failTask: failTask}
}

// KeyStoreUnavailable is the panic of a worker's workflow payload whose key
// cannot be read now.
type KeyStoreUnavailable struct{ Err error }

func (p KeyStoreUnavailable) Error() string {
	return "the workflow task is retried: " + p.Err.Error()
}

// keyError returns err, or in a worker's workflow panics when the key store
// did not answer (see failTask).
func (c *Codec) keyError(err error) error {
	if c.failTask && errors.Is(err, ErrKeyStore) {
		panic(KeyStoreUnavailable{err})
	}
	return err
}

// Encode encrypts each payload, metadata and all, with the scope's newest key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) == EncodingEncrypted {
			out[i] = p
			continue
		}
		version, key, err := c.ring.Current(c.scope)
		if err != nil {
			return nil, c.keyError(err)
		}
		plain, err := p.Marshal()
		if err != nil {
			return nil, err
		}
		id := KeyID(c.scope, version)
		sealed, err := seal(key, plain, []byte(id))
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{
			MetadataEncoding: []byte(EncodingEncrypted), MetadataKeyID: []byte(id),
		}, Data: sealed}
	}
	return out, nil
}

// Decode decrypts each encrypted payload with the key its metadata names;
// others (a signal sent by the Temporal CLI) pass as they are.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		scope, version, err := ParseKeyID(id)
		if err != nil {
			return nil, err
		}
		key, err := c.ring.Key(scope, version)
		if err != nil {
			return nil, c.keyError(err)
		}
		plain, err := open(key, p.GetData(), []byte(id))
		if err != nil {
			return nil, fmt.Errorf("decrypt payload with %s: %w", id, err)
		}
		out[i] = &commonpb.Payload{}
		if err := out[i].Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
	}
	return out, nil
}

// DataConverter is the converter every process of the system uses with
// Temporal: the worker, the API's starter, the CLI and the codec server.
func DataConverter(ring *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), New(ring))
}

// ClientOptions sets the encrypting data converter on opts, and a failure
// converter that encrypts error messages and stack traces too: an error
// about a case can quote its customer.
func ClientOptions(opts client.Options, ring *Keyring) client.Options {
	dc := DataConverter(ring)
	opts.DataConverter = dc
	opts.FailureConverter = FailureConverter(dc)
	return opts
}

// WorkerClientOptions are ClientOptions for the worker: a key store that
// does not answer while a workflow task encodes or decodes a payload fails
// that task, which the server retries, never the case (a case whose input
// could not be read in its first task failed for good when PostgreSQL
// restarted at that moment). Failures are still encoded as ClientOptions
// does, their words withheld rather than the task failed. The codec reads
// keys while workflow code runs: see KeyStoreTimeout.
func WorkerClientOptions(opts client.Options, ring *Keyring) client.Options {
	opts = ClientOptions(opts, ring)
	opts.DataConverter = converter.NewCodecDataConverter(converter.GetDefaultDataConverter(),
		&Codec{ring: ring, scope: DefaultScope, failTask: true})
	return opts
}

// FailureConverter encodes failures (messages, stack traces, details) with
// dc, and takes the SDK's serialization context like the payload codec: a
// case's failures are encrypted under the case's key and erased with it,
// not under the shared default key.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return failureConverter{
		// Builds the failure; its message and stack trace are encoded below.
		build: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc}),
		// Reads failures back, their encoded message and stack included.
		DefaultFailureConverter: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: dc, EncodeCommonAttributes: true,
		}),
		dc: dc,
	}
}

type failureConverter struct {
	*temporal.DefaultFailureConverter
	build *temporal.DefaultFailureConverter
	dc    converter.DataConverter
}

// WithheldMessage stands for a failure's words when they could not be
// encrypted (the keys unreadable: the database away, the worker stopping).
const WithheldMessage = "failure text withheld: its encryption key could not be read"

// ErrorToFailure encodes the message and stack trace of err and of each of
// its causes under the context's key. The SDK's converter panics when that
// fails, which takes an activity's completion (or the worker) down with it;
// here the words are withheld instead, never written in clear, and the
// failure keeps its type and retry policy.
func (f failureConverter) ErrorToFailure(err error) *failurepb.Failure {
	failure := f.build.ErrorToFailure(err)
	for fl := failure; fl != nil; fl = fl.GetCause() {
		if converter.EncodeCommonFailureAttributes(f.dc, fl) != nil {
			// A failed encoding can leave the plain payload behind: drop it.
			fl.Message, fl.StackTrace, fl.EncodedAttributes = WithheldMessage, "", nil
		}
	}
	return failure
}

// WithSerializationContext is the converter for one workflow's or
// activity's failures.
func (f failureConverter) WithSerializationContext(sc converter.SerializationContext) converter.FailureConverter {
	return FailureConverter(converter.WithDataConverterSerializationContext(f.dc, sc))
}
