package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// CatalogueTemplate is a stored template of a number's catalogue.
type CatalogueTemplate struct {
	AccountID AccountID
	whatsapp.TemplateInfo
	FetchedAt time.Time
}

const catalogueColumns = `account_id, name, language, template_id, status, category, parameter_format, components, fetched_at`

func scanCatalogueTemplate(row scanner) (CatalogueTemplate, error) {
	var t CatalogueTemplate
	var components []byte
	err := row.Scan(&t.AccountID, &t.Name, &t.Language, &t.ID, &t.Status, &t.Category, &t.ParameterFormat, &components, &t.FetchedAt)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(components, &t.Components); err != nil {
		return t, err
	}
	return t, nil
}

// ReplaceTemplates stores a number's whole catalogue as just read from
// Graph: templates no longer listed are removed.
func (s *Store) ReplaceTemplates(ctx context.Context, accountID AccountID, templates []whatsapp.TemplateInfo, at time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.db.Exec(ctx, `DELETE FROM message_templates WHERE account_id = $1`, accountID); err != nil {
			return wrap(err, "clear templates of account %d", accountID)
		}
		rows := make([][]any, 0, len(templates))
		seen := map[[2]string]bool{}
		for _, t := range templates {
			key := [2]string{t.Name, t.Language}
			if seen[key] {
				continue // a catalogue lists each name and language once; keep the first
			}
			seen[key] = true
			components, err := json.Marshal(t.Components)
			if err != nil {
				return err
			}
			format := t.ParameterFormat
			if format != whatsapp.FormatNamed {
				format = whatsapp.FormatPositional
			}
			rows = append(rows, []any{accountID, t.Name, t.Language, t.ID, t.Status, t.Category, format, components, at})
		}
		_, err := tx.tx.CopyFrom(ctx, pgx.Identifier{"message_templates"},
			[]string{"account_id", "name", "language", "template_id", "status", "category", "parameter_format", "components", "fetched_at"},
			pgx.CopyFromRows(rows))
		return wrap(err, "store templates of account %d", accountID)
	})
}

// TemplatesOf lists a number's catalogue by name and language.
func (q *Queries) TemplatesOf(ctx context.Context, accountID AccountID) ([]CatalogueTemplate, error) {
	out, err := list(ctx, q.db, scanCatalogueTemplate, `SELECT `+catalogueColumns+` FROM message_templates
		WHERE account_id = $1 ORDER BY name, language`, accountID)
	return out, wrap(err, "templates of account %d", accountID)
}

// TemplateOf is one template of a number's catalogue, or ErrNotFound.
func (q *Queries) TemplateOf(ctx context.Context, accountID AccountID, name, language string) (CatalogueTemplate, error) {
	t, err := scanCatalogueTemplate(q.db.QueryRow(ctx, `SELECT `+catalogueColumns+` FROM message_templates
		WHERE account_id = $1 AND name = $2 AND language = $3`, accountID, name, language))
	return t, wrap(err, "template %s (%s) of account %d", name, language, accountID)
}
