package codec

import (
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
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
}

// New returns a codec over ring.
func New(ring *Keyring) *Codec { return &Codec{ring: ring, scope: DefaultScope} }

// WithSerializationContext picks the case's key for the workflow or activity
// being serialized.
func (c *Codec) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	var id string
	switch v := sc.(type) {
	case converter.WorkflowSerializationContext:
		id = v.WorkflowID
	case converter.ActivitySerializationContext:
		id = v.WorkflowID
	}
	return &Codec{ring: c.ring, scope: ScopeOf(id)}
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
			return nil, err
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
			return nil, err
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

// FailureConverter encodes failures (messages, stack traces, details) with
// dc, and takes the SDK's serialization context like the payload codec: a
// case's failures are encrypted under the case's key and erased with it,
// not under the shared default key.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return failureConverter{
		DefaultFailureConverter: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: dc, EncodeCommonAttributes: true,
		}),
		dc: dc,
	}
}

type failureConverter struct {
	*temporal.DefaultFailureConverter
	dc converter.DataConverter
}

// WithSerializationContext is the converter for one workflow's or
// activity's failures.
func (f failureConverter) WithSerializationContext(sc converter.SerializationContext) converter.FailureConverter {
	return FailureConverter(converter.WithDataConverterSerializationContext(f.dc, sc))
}
