// Package migrations embeds relaydesk's numbered SQL migrations.
//
// Files are named NNN_description.sql and applied in order by tern
// (github.com/jackc/tern/v2/migrate). The part of a file above the line
// "---- create above / drop below ----" migrates up; the part below migrates
// down. River's own tables are not here: internal/migrate applies them through
// rivermigrate.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
