// Package codec keeps customer data unreadable in Temporal: every payload
// the system writes to Temporal is encrypted (AES-256-GCM) with a data key of
// its case, and a case's keys can be destroyed (crypto-shredding) when its
// customer's personal data is erased.
package codec

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// Errors of key lookup.
var (
	ErrKeyDestroyed = errors.New("the data key was destroyed (personal data erased)")
	ErrUnknownKey   = errors.New("unknown data key")
	// ErrKeyStore is the key store (PostgreSQL) not answering: a retry
	// later may succeed.
	ErrKeyStore = errors.New("the data key store is unavailable")
)

// DataKey is one version of a wrapped data key. Wrapped is nil once the key
// has been destroyed.
type DataKey struct {
	Scope       string
	Version     int
	MasterKeyID string
	Wrapped     []byte
}

// KeyStore keeps the wrapped data keys; the application's store
// (store.Store, in PostgreSQL) is one.
type KeyStore interface {
	DataKeys(ctx context.Context, scope string) ([]DataKey, error)
	AddDataKey(ctx context.Context, k DataKey) (DataKey, error)
	AllDataKeys(ctx context.Context) ([]DataKey, error)
	ReplaceWrapping(ctx context.Context, k DataKey) error
}

// MasterKeys are the keys that wrap the data keys, by id; Current wraps new
// ones, the others still unwrap the keys they wrapped.
type MasterKeys struct {
	Current string
	Keys    map[string][]byte
}

// ParseMasterKeys reads CODEC_MASTER_KEYS: "id:base64key,id:base64key", the
// first being the current one; each key has 32 bytes.
func ParseMasterKeys(s string) (MasterKeys, error) {
	m := MasterKeys{Keys: map[string][]byte{}}
	for i, part := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" {
			return m, fmt.Errorf("CODEC_MASTER_KEYS: entry %d is not id:base64key", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return m, fmt.Errorf("CODEC_MASTER_KEYS: key %s is not 32 bytes in base64", id)
		}
		if _, dup := m.Keys[id]; dup {
			return m, fmt.Errorf("CODEC_MASTER_KEYS: key %s appears twice", id)
		}
		if i == 0 {
			m.Current = id
		}
		m.Keys[id] = key
	}
	return m, nil
}

// NewMasterKey makes a master key entry for CODEC_MASTER_KEYS.
func NewMasterKey(id string) (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// Keyring hands out data keys: it creates a scope's first key on first use,
// unwraps stored keys with the master keys and caches them for a short
// while, so a key destroyed by another process stops working within TTL.
type Keyring struct {
	masters MasterKeys
	store   KeyStore
	// ctx bounds the store calls the codec makes: the SDK's codec interface
	// carries no context of its own.
	ctx     context.Context
	ttl     time.Duration
	timeout time.Duration

	// cache holds the keys of scopes that have some, a bounded number of
	// them; misses remembers, for as long, the scopes and versions the store
	// did not have, so that payloads naming made-up keys cost one query per
	// scope and TTL, not one each.
	cache  *lru.Cache[string, scopeKeys]
	misses *lru.Cache[string, time.Time]
}

// cacheSize bounds the scopes whose keys a process keeps, and the misses it
// remembers.
const cacheSize = 10_000

type scopeKeys struct {
	loaded time.Time
	newest int
	keys   map[int][]byte // nil value: destroyed
}

// KeyStoreTimeout bounds each read or write of the key store. In a worker
// such a call runs inside workflow code (a payload whose key is not cached:
// a case idle past the cache's minute, an update's arguments), where the
// SDK's deadlock detector would fail the workflow task after one second:
// the worker sets the detector's limit above this.
const KeyStoreTimeout = 10 * time.Second

// NewKeyring returns a keyring over st. ctx is the process's lifetime.
func NewKeyring(ctx context.Context, masters MasterKeys, st KeyStore) *Keyring {
	cache, _ := lru.New[string, scopeKeys](cacheSize)
	misses, _ := lru.New[string, time.Time](cacheSize)
	return &Keyring{masters: masters, store: st, ctx: ctx, ttl: time.Minute, timeout: KeyStoreTimeout,
		cache: cache, misses: misses}
}

// SetTTL changes how long unwrapped keys are kept in memory (tests).
func (r *Keyring) SetTTL(d time.Duration) { r.ttl = d }

// KeyID names one version of a scope's key in a payload's metadata.
func KeyID(scope string, version int) string { return scope + "/v" + strconv.Itoa(version) }

// ParseKeyID is KeyID's inverse.
func ParseKeyID(id string) (scope string, version int, err error) {
	i := strings.LastIndex(id, "/v")
	if i <= 0 {
		return "", 0, fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	version, err = strconv.Atoi(id[i+2:])
	if err != nil || version < 1 {
		return "", 0, fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	return id[:i], version, nil
}

// Current returns the newest version of scope's key, creating the first.
func (r *Keyring) Current(scope string) (int, []byte, error) {
	sk, err := r.load(scope, 0)
	if err != nil {
		return 0, nil, err
	}
	if sk.newest == 0 {
		if sk, err = r.add(scope, 1); err != nil {
			return 0, nil, err
		}
	}
	key := sk.keys[sk.newest]
	if key == nil {
		return 0, nil, fmt.Errorf("%s: %w", KeyID(scope, sk.newest), ErrKeyDestroyed)
	}
	return sk.newest, key, nil
}

// Key returns one version of scope's key.
func (r *Keyring) Key(scope string, version int) ([]byte, error) {
	sk, err := r.load(scope, version)
	if err != nil {
		return nil, err
	}
	key, ok := sk.keys[version]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %s", ErrUnknownKey, KeyID(scope, version))
	case key == nil:
		return nil, fmt.Errorf("%s: %w", KeyID(scope, version), ErrKeyDestroyed)
	}
	return key, nil
}

// Rotate adds a new version of scope's key: new payloads use it, the older
// versions still decrypt what they encrypted.
func (r *Keyring) Rotate(scope string) (int, error) {
	sk, err := r.load(scope, -1)
	if err != nil {
		return 0, err
	}
	sk, err = r.add(scope, sk.newest+1)
	return sk.newest, err
}

// Forget drops scope from the cache: its keys were just destroyed.
func (r *Keyring) Forget(scope string) {
	r.cache.Remove(scope)
}

// knownScope reports whether scope is one the system makes keys for: the
// default scope or a case's. Any other is refused without a query.
func knownScope(scope string) bool {
	ref, ok := strings.CutPrefix(scope, "case:")
	return scope == DefaultScope || ok && complaint.ValidReference(ref)
}

// Rewrap wraps every live data key with the current master key, so that an
// old master key can be retired; it returns how many it re-wrapped.
func (r *Keyring) Rewrap(ctx context.Context) (int, error) {
	keys, err := r.store.AllDataKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		if k.MasterKeyID == r.masters.Current {
			continue
		}
		plain, err := r.unwrap(k)
		if err != nil {
			return n, err
		}
		if k.Wrapped, err = r.wrap(k.Scope, k.Version, plain); err != nil {
			return n, err
		}
		k.MasterKeyID = r.masters.Current
		if err := r.store.ReplaceWrapping(ctx, k); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// load returns scope's keys, from the cache while fresh and while it holds
// version (0: any; -1: always reload). A version the store did not have a
// moment ago is not asked for again within the TTL.
func (r *Keyring) load(scope string, version int) (scopeKeys, error) {
	if !knownScope(scope) {
		return scopeKeys{}, fmt.Errorf("%w: scope %q", ErrUnknownKey, scope)
	}
	sk, ok := r.cache.Get(scope)
	fresh := ok && time.Since(sk.loaded) < r.ttl
	if fresh && version >= 0 {
		if _, has := sk.keys[version]; version == 0 && sk.newest > 0 || has {
			return sk, nil
		}
	}
	missKey := KeyID(scope, max(version, 0))
	if version > 0 {
		if at, missed := r.misses.Get(missKey); missed && time.Since(at) < r.ttl {
			return sk, nil // Key reports the version unknown
		}
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	rows, err := r.store.DataKeys(ctx, scope)
	if err != nil {
		return sk, fmt.Errorf("read data keys of %s: %w: %w", scope, ErrKeyStore, err)
	}
	sk = scopeKeys{loaded: time.Now(), keys: map[int][]byte{}}
	for _, row := range rows {
		sk.newest = max(sk.newest, row.Version)
		if row.Wrapped == nil {
			sk.keys[row.Version] = nil
			continue
		}
		if sk.keys[row.Version], err = r.unwrap(row); err != nil {
			return sk, err
		}
	}
	if _, has := sk.keys[version]; version > 0 && !has {
		r.misses.Add(missKey, sk.loaded)
	}
	if sk.newest > 0 {
		r.cache.Add(scope, sk)
	}
	return sk, nil
}

func (r *Keyring) add(scope string, version int) (scopeKeys, error) {
	plain := make([]byte, 32)
	if _, err := rand.Read(plain); err != nil {
		return scopeKeys{}, err
	}
	wrapped, err := r.wrap(scope, version, plain)
	if err != nil {
		return scopeKeys{}, err
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	// Another process may have made this version first: AddDataKey returns
	// the stored one, and every process then uses the same key.
	stored, err := r.store.AddDataKey(ctx, DataKey{Scope: scope, Version: version,
		MasterKeyID: r.masters.Current, Wrapped: wrapped})
	if err != nil {
		return scopeKeys{}, fmt.Errorf("store data key %s: %w: %w", KeyID(scope, version), ErrKeyStore, err)
	}
	if version > 1 {
		return r.load(scope, -1) // the older versions stay readable
	}
	// A new case's first key is all its scope has: no need to read it back.
	sk := scopeKeys{loaded: time.Now(), newest: 1, keys: map[int][]byte{1: nil}}
	if stored.Wrapped != nil { // nil: erased in the meantime
		if sk.keys[1], err = r.unwrap(stored); err != nil {
			return scopeKeys{}, err
		}
	}
	r.cache.Add(scope, sk)
	return sk, nil
}

func (r *Keyring) wrap(scope string, version int, plain []byte) ([]byte, error) {
	master, ok := r.masters.Keys[r.masters.Current]
	if !ok {
		return nil, fmt.Errorf("no current master key")
	}
	return seal(master, plain, []byte(KeyID(scope, version)))
}

func (r *Keyring) unwrap(k DataKey) ([]byte, error) {
	master, ok := r.masters.Keys[k.MasterKeyID]
	if !ok {
		return nil, fmt.Errorf("data key %s is wrapped by master key %q, which is not configured",
			KeyID(k.Scope, k.Version), k.MasterKeyID)
	}
	plain, err := open(master, k.Wrapped, []byte(KeyID(k.Scope, k.Version)))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key %s: %w", KeyID(k.Scope, k.Version), err)
	}
	return plain, nil
}

// seal encrypts with AES-256-GCM: a random nonce, then the ciphertext; aad
// binds the ciphertext to its key id, so a payload cannot be passed off as
// another key's.
func seal(key, plain, aad []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, aad), nil
}

func open(key, sealed, aad []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("ciphertext too short")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Config is how a process reads the master keys from the environment.
type Config struct {
	// MasterKeys is "id:base64key,..." (32-byte keys), the current one first.
	MasterKeys string `env:"CODEC_MASTER_KEYS"`
}

// Open checks the master keys and returns a keyring over st.
func Open(ctx context.Context, cfg Config, st KeyStore) (*Keyring, error) {
	if cfg.MasterKeys == "" {
		return nil, errors.New("CODEC_MASTER_KEYS is not set: customer data would reach Temporal unencrypted")
	}
	m, err := ParseMasterKeys(cfg.MasterKeys)
	if err != nil {
		return nil, err
	}
	return NewKeyring(ctx, m, st), nil
}
