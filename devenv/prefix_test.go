package devenv

import (
	"bytes"
	"testing"
)

func TestPrefixedNamesEveryWholeLine(t *testing.T) {
	var out bytes.Buffer
	w := Prefixed("api", 6, &out)
	for _, part := range []string{"first li", "ne\nsecond\nthi", "rd\n"} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	want := "api    | first line\napi    | second\napi    | third\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
