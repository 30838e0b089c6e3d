package devenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Databases left at the schema versions of server 1.29.1 (temporal 1.18,
// visibility 1.9) are brought to the installed release's, and a second
// migration changes nothing: raising TEMPORAL_VERSION upgrades .prod/ in place.
func TestMigrateUpgradesAnOlderSchemaAndIsIdempotent(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL and temporal-sql-tool (make prod-tools)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	tools, err := ProdToolsIn(filepath.Join("..", "bin"), filepath.Join("..", "deploy", "versions.env"))
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: the postgres account must reach the data folder.
	dir, err := os.MkdirTemp("", "complaints-migrate-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	db := Postgres{Name: "temporal-db", Dir: filepath.Join(dir, "pg"), Port: port, User: "temporal", Password: "temporal", Ephemeral: true}
	proc, err := db.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := proc.Stop(15 * time.Second); err != nil {
			t.Error(err)
		}
	})
	srv := TemporalServer{SQLTool: tools.SQLTool, SchemaDir: tools.SchemaDir, DB: db}

	for _, old := range []struct{ db, schema, version string }{
		{TemporalDatabase, "temporal", "1.18"}, {VisibilityDatabase, "visibility", "1.9"},
	} {
		for _, args := range [][]string{
			{"create-database"}, {"setup-schema", "-v", "0.0"},
			{"update-schema", "-d", filepath.Join(tools.SchemaDir, old.schema, "versioned"), "-v", old.version},
		} {
			if err := srv.sqlTool(ctx, old.db, args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	versions := func() [2]string {
		var v [2]string
		for i, name := range []string{TemporalDatabase, VisibilityDatabase} {
			conn, err := pgx.Connect(ctx, db.dsn(name))
			if err != nil {
				t.Fatal(err)
			}
			err = conn.QueryRow(ctx, "SELECT curr_version FROM schema_version").Scan(&v[i])
			if cerr := conn.Close(ctx); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return v
	}
	before := versions()
	if err := srv.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	upgraded := versions()
	if upgraded == before {
		t.Fatalf("schemas still at %v after the upgrade", upgraded)
	}
	if err := srv.Migrate(ctx); err != nil {
		t.Fatalf("second migration: %v", err)
	}
	if again := versions(); again != upgraded {
		t.Fatalf("second migration moved the schemas from %v to %v", upgraded, again)
	}
	t.Logf("temporal %s → %s, visibility %s → %s", before[0], upgraded[0], before[1], upgraded[1])
}
