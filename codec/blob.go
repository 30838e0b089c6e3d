package codec

import "fmt"

// Sealed is data encrypted with a case's data key outside Temporal: a
// customer's attachment kept in PostgreSQL. KeyID names the key version, so
// a rotated key still opens it; once the case's keys are destroyed
// (erasure) it opens no more.
type Sealed struct {
	KeyID string
	Data  []byte
}

// SealFor encrypts plain with the newest key of the case, bound to label
// (the attachment's id), so that a sealed blob moved to another row does
// not open there.
func (r *Keyring) SealFor(reference, label string, plain []byte) (Sealed, error) {
	scope := CaseScope(reference)
	version, key, err := r.Current(scope)
	if err != nil {
		return Sealed{}, err
	}
	id := KeyID(scope, version)
	data, err := seal(key, plain, []byte(id+"|"+label))
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: id, Data: data}, nil
}

// OpenFor decrypts what SealFor sealed for the case under label.
func (r *Keyring) OpenFor(reference, label string, s Sealed) ([]byte, error) {
	scope, version, err := ParseKeyID(s.KeyID)
	if err != nil {
		return nil, err
	}
	if scope != CaseScope(reference) {
		return nil, fmt.Errorf("sealed with the key of %s, not of case %s", scope, reference)
	}
	key, err := r.Key(scope, version)
	if err != nil {
		return nil, err
	}
	plain, err := open(key, s.Data, []byte(s.KeyID+"|"+label))
	if err != nil {
		return nil, fmt.Errorf("decrypt with %s: %w", s.KeyID, err)
	}
	return plain, nil
}
