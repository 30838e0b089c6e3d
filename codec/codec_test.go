package codec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// memKeys is a KeyStore in memory.
type memKeys struct {
	mu   sync.Mutex
	keys map[string]map[int]DataKey
}

func (m *memKeys) DataKeys(_ context.Context, scope string) ([]DataKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DataKey
	for _, k := range m.keys[scope] {
		out = append(out, k)
	}
	return out, nil
}

func (m *memKeys) AddDataKey(_ context.Context, k DataKey) (DataKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string]map[int]DataKey{}
	}
	if m.keys[k.Scope] == nil {
		m.keys[k.Scope] = map[int]DataKey{}
	}
	if old, ok := m.keys[k.Scope][k.Version]; ok {
		return old, nil
	}
	m.keys[k.Scope][k.Version] = k
	return k, nil
}

func (m *memKeys) AllDataKeys(context.Context) ([]DataKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DataKey
	for _, vs := range m.keys {
		for _, k := range vs {
			if k.Wrapped != nil {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

func (m *memKeys) ReplaceWrapping(_ context.Context, k DataKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[k.Scope][k.Version] = k
	return nil
}

func (m *memKeys) destroy(scope string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for v, k := range m.keys[scope] {
		k.Wrapped = nil
		m.keys[scope][v] = k
	}
}

func masters(t *testing.T, ids ...string) MasterKeys {
	t.Helper()
	var entries []string
	for _, id := range ids {
		e, err := NewMasterKey(id)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	m, err := ParseMasterKeys(joinComma(entries))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, e := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e)
	}
	return b.String()
}

const ref = "CMP-20261123-4F7K2Q"

var secret = map[string]string{"name": "Liu Yang", "email": "liu.yang@example.com", "description": "It does not turn on."}

func caseConverter(ring *Keyring) converter.DataConverter {
	return converter.WithDataConverterSerializationContext(DataConverter(ring),
		converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: "complaint-" + ref + "/dept-product"})
}

func TestRoundTripUnderTheCaseKeyWithNoPlaintext(t *testing.T) {
	ring := NewKeyring(t.Context(), masters(t, "m1"), &memKeys{})
	dc := caseConverter(ring)
	p, err := dc.ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "case:"+ref+"/v1" {
		t.Fatalf("key id %q", got)
	}
	if string(p.Metadata[MetadataEncoding]) != EncodingEncrypted {
		t.Fatalf("encoding %q", p.Metadata[MetadataEncoding])
	}
	for _, v := range secret {
		if bytes.Contains(p.Data, []byte(v)) {
			t.Fatalf("payload shows %q", v)
		}
	}
	// Decoding needs no context: the codec server knows no workflow.
	var back map[string]string
	if err := DataConverter(ring).FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back["name"] != secret["name"] {
		t.Fatalf("round trip gave %v", back)
	}
	// Without context: the default key.
	q, err := DataConverter(ring).ToPayload("x")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(q.Metadata[MetadataKeyID]); got != "default/v1" {
		t.Fatalf("key id without context %q", got)
	}
}

func TestWrongKeyAndTamperingFail(t *testing.T) {
	keys := &memKeys{}
	ring := NewKeyring(t.Context(), masters(t, "m1"), keys)
	p, err := caseConverter(ring).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	// Another installation's master key cannot unwrap this one's data keys.
	other := NewKeyring(t.Context(), masters(t, "m1"), keys)
	var v map[string]string
	if err := DataConverter(other).FromPayload(p, &v); err == nil {
		t.Fatal("decoded with the wrong master key")
	}
	// A payload relabelled with another key id does not decrypt.
	if _, err := caseConverter(ring).ToPayload("other"); err != nil {
		t.Fatal(err)
	}
	moved := &commonpb.Payload{Metadata: map[string][]byte{MetadataEncoding: []byte(EncodingEncrypted),
		MetadataKeyID: []byte("default/v1")}, Data: p.Data}
	if _, err := DataConverter(ring).ToPayload("make the default key"); err != nil {
		t.Fatal(err)
	}
	if err := DataConverter(ring).FromPayload(moved, &v); err == nil {
		t.Fatal("decoded a payload under another key id")
	}
	flipped := &commonpb.Payload{Metadata: p.Metadata, Data: bytes.Clone(p.Data)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	if err := DataConverter(ring).FromPayload(flipped, &v); err == nil {
		t.Fatal("decoded a tampered payload")
	}
}

func TestRotationKeepsOldPayloadsReadable(t *testing.T) {
	keys := &memKeys{}
	m := masters(t, "m1")
	ring := NewKeyring(t.Context(), m, keys)
	old, err := caseConverter(ring).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := ring.Rotate(CaseScope(ref)); err != nil || v != 2 {
		t.Fatalf("rotate: %d %v", v, err)
	}
	fresh, err := caseConverter(ring).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(fresh.Metadata[MetadataKeyID]); got != "case:"+ref+"/v2" {
		t.Fatalf("after rotation key id %q", got)
	}
	// Master key rotation: a new current master key re-wraps every data
	// key; the old master key can then go.
	m2 := masters(t, "m2")
	m2.Keys["m1"] = m.Keys["m1"]
	rotated := NewKeyring(t.Context(), m2, keys)
	if n, err := rotated.Rewrap(t.Context()); err != nil || n != 2 {
		t.Fatalf("rewrap: %d %v", n, err)
	}
	delete(m2.Keys, "m1")
	onlyNew := NewKeyring(t.Context(), m2, keys)
	for _, p := range []*commonpb.Payload{old, fresh} {
		var v map[string]string
		if err := DataConverter(onlyNew).FromPayload(p, &v); err != nil || v["email"] != secret["email"] {
			t.Fatalf("after master rotation %s: %v %v", p.Metadata[MetadataKeyID], v, err)
		}
	}
}

func TestDestroyedKeyCannotDecode(t *testing.T) {
	keys := &memKeys{}
	ring := NewKeyring(t.Context(), masters(t, "m1"), keys)
	p, err := caseConverter(ring).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	keys.destroy(CaseScope(ref))
	ring.Forget(CaseScope(ref))
	var v map[string]string
	if err := DataConverter(ring).FromPayload(p, &v); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("decoding after destruction: %v", err)
	}
	if _, err := caseConverter(ring).ToPayload(secret); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("encoding after destruction: %v", err)
	}
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	ring := NewKeyring(t.Context(), masters(t, "m1"), &memKeys{})
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"reason": "signal from the CLI"})
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]string
	if err := DataConverter(ring).FromPayload(plain, &v); err != nil || v["reason"] != "signal from the CLI" {
		t.Fatalf("plain payload: %v %v", v, err)
	}
}

func TestScopeOf(t *testing.T) {
	for id, want := range map[string]string{
		"complaint-" + ref:                 "case:" + ref,
		"complaint-" + ref + "/dept-legal": "case:" + ref,
		"complaint-nonsense":               DefaultScope,
		"other":                            DefaultScope,
	} {
		if got := ScopeOf(id); got != want {
			t.Errorf("ScopeOf(%q) = %q, want %q", id, got, want)
		}
	}
}

// A case's failures (an activity's error quoting the customer) are
// encrypted under the case's key, and unreadable once it is destroyed.
func TestFailuresAreEncryptedUnderTheCaseKey(t *testing.T) {
	keys := &memKeys{}
	ring := NewKeyring(t.Context(), masters(t, "m1"), keys)
	fc := converter.WithFailureConverterSerializationContext(ClientOptions(client.Options{}, ring).FailureConverter,
		converter.ActivitySerializationContext{Namespace: "default", WorkflowID: "complaint-" + ref, ActivityType: "Record"})
	f := fc.ErrorToFailure(errors.New("cannot mail " + secret["email"]))
	attrs := f.GetEncodedAttributes()
	if attrs == nil || strings.Contains(f.GetMessage(), secret["email"]) {
		t.Fatalf("failure message not encoded: %q", f.GetMessage())
	}
	if got := string(attrs.Metadata[MetadataKeyID]); got != "case:"+ref+"/v1" {
		t.Fatalf("failure encrypted under %q, want the case's key", got)
	}
	plain := ClientOptions(client.Options{}, ring).FailureConverter
	// FailureToError decodes in place: each read gets its own copy.
	if err := plain.FailureToError(proto.Clone(f).(*failurepb.Failure)); !strings.Contains(err.Error(), secret["email"]) {
		t.Fatalf("decoded failure: %v", err)
	}
	keys.destroy(CaseScope(ref))
	ring.Forget(CaseScope(ref))
	if err := plain.FailureToError(proto.Clone(f).(*failurepb.Failure)); strings.Contains(err.Error(), secret["email"]) {
		t.Fatalf("the failure is still readable after erasure: %v", err)
	}
}

// countingKeys counts the store's reads.
type countingKeys struct {
	memKeys
	mu    sync.Mutex
	reads int
}

func (c *countingKeys) DataKeys(ctx context.Context, scope string) ([]DataKey, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.memKeys.DataKeys(ctx, scope)
}

// Payloads naming keys nobody made cost no query (a scope of no case), or
// one per scope within the cache's time (a version that does not exist);
// only scopes with keys are cached.
func TestMadeUpKeyIDsCostNoQueriesAndNoCache(t *testing.T) {
	keys := &countingKeys{}
	ring := NewKeyring(t.Context(), masters(t, "m1"), keys)
	p, err := caseConverter(ring).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	forged := func(id string) *commonpb.Payload {
		return &commonpb.Payload{Metadata: map[string][]byte{MetadataEncoding: []byte(EncodingEncrypted),
			MetadataKeyID: []byte(id)}, Data: p.Data}
	}
	before := keys.reads
	var batch []*commonpb.Payload
	for i := range 2000 {
		batch = append(batch, forged(fmt.Sprintf("random-%d/v1", i)), forged(fmt.Sprintf("case:%s/v%d", ref, 2+i%5)))
	}
	c := New(ring)
	for _, b := range batch {
		if _, err := c.Decode([]*commonpb.Payload{b}); err == nil {
			t.Fatalf("a made-up key %s decoded", b.Metadata[MetadataKeyID])
		}
	}
	if n := keys.reads - before; n > 5 {
		t.Fatalf("%d store reads for 4,000 payloads of made-up keys; want at most one per missing version", n)
	}
	if n := ring.cache.Len(); n != 1 {
		t.Fatalf("%d scopes cached, want only the case's", n)
	}
	// The genuine payload still decodes.
	if _, err := c.Decode([]*commonpb.Payload{p}); err != nil {
		t.Fatal(err)
	}
}

// unavailableKeys is a key store that cannot be reached (the database away,
// the worker stopping).
type unavailableKeys struct{ memKeys }

func (*unavailableKeys) DataKeys(context.Context, string) ([]DataKey, error) {
	return nil, errors.New("the data key store is unavailable")
}

func (*unavailableKeys) AddDataKey(context.Context, DataKey) (DataKey, error) {
	return DataKey{}, errors.New("the data key store is unavailable")
}

// A failure whose key cannot be read goes out without its words, never in
// clear, and keeps its type and retry policy; the SDK's converter would
// panic and take the activity's completion down with it.
func TestFailureWhoseKeyCannotBeReadIsWithheldNotPanicked(t *testing.T) {
	ring := NewKeyring(t.Context(), masters(t, "m1"), &unavailableKeys{})
	fc := converter.WithFailureConverterSerializationContext(ClientOptions(client.Options{}, ring).FailureConverter,
		converter.ActivitySerializationContext{Namespace: "default", WorkflowID: "complaint-" + ref, ActivityType: "Record"})
	cause := errors.New("cannot mail " + secret["email"])
	err := temporal.NewNonRetryableApplicationError("giving up on "+secret["email"], "Permanent", cause)
	var f *failurepb.Failure
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("the failure converter panicked: %v", r)
			}
		}()
		f = fc.ErrorToFailure(err)
	}()
	for fl := f; fl != nil; fl = fl.GetCause() {
		if fl.GetMessage() != WithheldMessage || strings.Contains(fl.String(), secret["email"]) {
			t.Fatalf("failure %v: want its words withheld", fl)
		}
	}
	info := f.GetApplicationFailureInfo()
	if info.GetType() != "Permanent" || !info.GetNonRetryable() {
		t.Fatalf("failure info %v: want its type and retry policy kept", info)
	}
}

// In the worker, a workflow's payload whose key cannot be read because the
// key store does not answer fails the workflow task (a panic the SDK turns
// into a failed task the server retries), never the case: an error there
// would fail a case whose first task ran while PostgreSQL restarted. An
// activity's payload, the API's and a destroyed key stay errors.
func TestAKeyStoreAwayFailsTheWorkflowTaskNotTheCase(t *testing.T) {
	up := &memKeys{}
	p, err := caseConverter(NewKeyring(t.Context(), masters(t, "m1"), up)).ToPayload(secret)
	if err != nil {
		t.Fatal(err)
	}
	down := &unavailableKeys{}
	inWorkflow := converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: "complaint-" + ref}
	inActivity := converter.ActivitySerializationContext{Namespace: "default", WorkflowID: "complaint-" + ref, ActivityType: "RecordStep"}
	decode := func(dc converter.DataConverter, sc converter.SerializationContext) (err error, panicked any) {
		defer func() { panicked = recover() }()
		var out map[string]string
		return converter.WithDataConverterSerializationContext(dc, sc).FromPayload(p, &out), nil
	}
	worker := WorkerClientOptions(client.Options{}, NewKeyring(t.Context(), masters(t, "m1"), down))
	err, panicked := decode(worker.DataConverter, inWorkflow)
	if ku, ok := panicked.(KeyStoreUnavailable); !ok || !errors.Is(ku.Err, ErrKeyStore) {
		t.Fatalf("worker, workflow payload: error %v, panic %v; want a KeyStoreUnavailable panic", err, panicked)
	}
	if _, panicked := func() (v *commonpb.Payload, panicked any) {
		defer func() { panicked = recover() }()
		v, _ = converter.WithDataConverterSerializationContext(worker.DataConverter, inWorkflow).ToPayload(secret)
		return v, nil
	}(); panicked == nil {
		t.Fatal("worker, encoding a workflow payload with the key store away: no panic")
	}
	if err, panicked := decode(worker.DataConverter, inActivity); panicked != nil || !errors.Is(err, ErrKeyStore) {
		t.Fatalf("worker, activity payload: error %v, panic %v; want the error", err, panicked)
	}
	local := inActivity
	local.IsLocal = true
	if _, panicked := decode(worker.DataConverter, local); panicked == nil {
		t.Fatal("worker, a local activity's payload (its result is read in the workflow task): no panic")
	}
	api := ClientOptions(client.Options{}, NewKeyring(t.Context(), masters(t, "m1"), down))
	if err, panicked := decode(api.DataConverter, inWorkflow); panicked != nil || !errors.Is(err, ErrKeyStore) {
		t.Fatalf("API, workflow payload: error %v, panic %v; want the error", err, panicked)
	}
	// Erased is for good: the case's own error, not a retry.
	up.destroy("case:" + ref)
	erased := WorkerClientOptions(client.Options{}, NewKeyring(t.Context(), masters(t, "m1"), up))
	if err, panicked := decode(erased.DataConverter, inWorkflow); panicked != nil || !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("worker, erased key: error %v, panic %v; want ErrKeyDestroyed", err, panicked)
	}
}
