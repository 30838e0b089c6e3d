package deploy

import (
	"encoding"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envVar is one variable a configuration struct reads, as github.com/caarlos0/env
// reads it: from the field's `env:"NAME,opts"` tag, under the envPrefix of the
// structs around it.
type envVar struct {
	Name       string
	Field      string // Go path of the field, for messages
	Default    string
	HasDefault bool
	Required   bool // the tag says required or notEmpty
}

// loopbackDefault reports whether the default only makes sense on the
// developer's machine: inside a container 127.0.0.1 is the container itself.
func (v envVar) loopbackDefault() bool {
	for _, s := range []string{"127.0.0.1", "localhost", "[::1]"} {
		if strings.Contains(v.Default, s) {
			return true
		}
	}
	return false
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// envVarsOf lists the variables the struct type t reads, walking nested and
// pointed-to structs that carry no env tag of their own, as the env library
// does. It fails the test on a tag it cannot read.
func envVarsOf(t testing.TB, typ reflect.Type) []envVar {
	t.Helper()
	var vars []envVar
	seen := map[string]int{}
	var walk func(typ reflect.Type, prefix, path string)
	walk = func(typ reflect.Type, prefix, path string) {
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			fieldPath := path + "." + f.Name
			tag, tagged := f.Tag.Lookup("env")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if name == "" {
				if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() && !reflect.PointerTo(ft).Implements(textUnmarshaler) {
					walk(ft, prefix+f.Tag.Get("envPrefix"), fieldPath)
					continue
				}
				if tagged {
					t.Fatalf("%s: env tag %q names no variable", fieldPath, tag)
				}
				continue
			}
			v := envVar{Name: prefix + name, Field: fieldPath}
			v.Default, v.HasDefault = f.Tag.Lookup("envDefault")
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "required", "notEmpty":
					v.Required = true
				case "", "file", "unset", "expand", "init":
				default:
					t.Fatalf("%s: unknown env tag option %q", fieldPath, o)
				}
			}
			// Two fields may read one variable; it is required if either needs it.
			if i, dup := seen[v.Name]; dup {
				vars[i].Required = vars[i].Required || v.Required
				continue
			}
			seen[v.Name] = len(vars)
			vars = append(vars, v)
		}
	}
	if typ.Kind() != reflect.Struct {
		t.Fatalf("%v is not a struct", typ)
	}
	walk(typ, "", typ.String())
	return vars
}

// envVarsInSource lists the env tags of the fields of struct type typeName
// declared in the Go file path, for configuration held in a main package that
// a test cannot import. Fields of nested struct types are not followed.
func envVarsInSource(t testing.TB, path, typeName string) []envVar {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var st *ast.StructType
	ast.Inspect(file, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == typeName {
			st, _ = ts.Type.(*ast.StructType)
		}
		return st == nil
	})
	if st == nil {
		t.Fatalf("%s: no struct type %s", path, typeName)
	}
	var fields []reflect.StructField
	for _, f := range st.Fields.List {
		if f.Tag == nil || len(f.Names) == 0 {
			continue
		}
		tag, err := strconv.Unquote(f.Tag.Value)
		if err != nil {
			t.Fatalf("%s: tag %s: %v", path, f.Tag.Value, err)
		}
		for _, n := range f.Names {
			// The type does not matter for a tagged leaf; string stands in.
			fields = append(fields, reflect.StructField{Name: n.Name, Type: reflect.TypeFor[string](), Tag: reflect.StructTag(tag)})
		}
	}
	return envVarsOf(t, reflect.StructOf(fields))
}

func envNames(vars []envVar) []string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	slices.Sort(names)
	return names
}

// The walker is what makes the environment checks of compose_test.go bite;
// it must find what the env library would read, nested fields included.
func TestEnvVarsOfWalksLikeTheEnvLibrary(t *testing.T) {
	type inner struct {
		Level string `env:"LEVEL" envDefault:"info"`
	}
	type deep struct {
		Inner inner `envPrefix:"DEEP_"`
	}
	type cfg struct {
		Addr     string        `env:"ADDR" envDefault:"127.0.0.1:80"`
		Token    string        `env:"TOKEN,required"`
		Name     string        `env:"NAME,notEmpty,expand"`
		Timeout  time.Duration `env:"TIMEOUT"`
		Started  time.Time     `env:"STARTED"`
		Skipped  string        `env:"-"`
		Untagged string
		hidden   string `env:"HIDDEN"`
		Inner    inner  `envPrefix:"IN_"`
		Ptr      *deep  `envPrefix:"P_"`
		Plain    inner
		Again    string `env:"ADDR,required"`
	}
	_ = cfg{}.hidden

	got := envVarsOf(t, reflect.TypeFor[cfg]())
	want := []envVar{
		{Name: "ADDR", Field: "deploy.cfg.Addr", Default: "127.0.0.1:80", HasDefault: true, Required: true},
		{Name: "TOKEN", Field: "deploy.cfg.Token", Required: true},
		{Name: "NAME", Field: "deploy.cfg.Name", Required: true},
		{Name: "TIMEOUT", Field: "deploy.cfg.Timeout"},
		{Name: "STARTED", Field: "deploy.cfg.Started"},
		{Name: "IN_LEVEL", Field: "deploy.cfg.Inner.Level", Default: "info", HasDefault: true},
		{Name: "P_DEEP_LEVEL", Field: "deploy.cfg.Ptr.Inner.Level", Default: "info", HasDefault: true},
		{Name: "LEVEL", Field: "deploy.cfg.Plain.Level", Default: "info", HasDefault: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("envVarsOf:\n got %+v\nwant %+v", got, want)
	}
	if !got[0].loopbackDefault() || got[5].loopbackDefault() {
		t.Error("loopbackDefault misjudges 127.0.0.1:80 or info")
	}
}

func TestEnvVarsInSourceReadsTags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "main.go")
	src := "package main\n\nimport \"example.com/other\"\n\n" +
		"type config struct {\n" +
		"\tAddr string `env:\"ADDR\" envDefault:\"127.0.0.1:1\"`\n" +
		"\tURL, Mirror string `env:\"URL,required\"`\n" +
		"\tCases other.Config\n" +
		"\tplain int\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got := envVarsInSource(t, path, "config")
	if names := fmt.Sprint(envNames(got)); names != "[ADDR URL]" {
		t.Fatalf("envVarsInSource found %s, want [ADDR URL]", names)
	}
	if !got[0].loopbackDefault() || got[0].Required || !got[1].Required || got[1].HasDefault {
		t.Errorf("envVarsInSource read %+v", got)
	}
}
