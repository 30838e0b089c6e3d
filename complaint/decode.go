package complaint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeTask reads a human task's JSON payload strictly: unknown fields,
// trailing data and a wrong shape are errors, and so is a payload that breaks
// the task's own rules. The update validator, the signal handler and the CLI
// all decode through here.
func DecodeTask[T Task](raw []byte) (T, error) {
	var t T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, ValidationErrors{{Field: "body", Message: decodeMessage(err)}}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return t, ValidationErrors{{Field: "body", Message: "has data after the JSON value"}}
	}
	return t, t.Validate()
}

func decodeMessage(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q must be %s", typeErr.Field, typeErr.Type)
	}
	return err.Error()
}
