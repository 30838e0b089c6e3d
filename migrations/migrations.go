// Package migrations embeds the application's SQL schema migrations, applied
// in order by goose (see store.Migrate).
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
