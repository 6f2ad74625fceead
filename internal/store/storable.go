package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL refuses some strings Go holds happily: text cannot contain a
// NUL byte and must be valid UTF-8; jsonb also refuses the escape \u0000 and
// lone surrogate escapes (half of a cut emoji). One such value in one
// customer's message would fail the whole transaction, and every other
// message stored with it. So every string argument reaches PostgreSQL made
// storable: NUL removed, invalid sequences replaced with U+FFFD. What
// arrived exactly is kept where it matters: raw webhook bodies are bytea,
// which takes any byte.

// StorableText returns s as PostgreSQL's text accepts it: NUL bytes removed
// and invalid UTF-8 replaced with U+FFFD. Valid text is returned unchanged,
// without a copy.
func StorableText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// IsStorableText reports whether s is stored unchanged (see StorableText).
func IsStorableText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// storableJSON returns JSON text as jsonb accepts it: \u0000 escapes and
// NUL bytes removed, lone surrogate escapes and invalid UTF-8 replaced with
// U+FFFD. Escapes are read as escapes, so an escaped backslash followed by
// "u0000" is left alone. It does not validate the JSON otherwise.
func storableJSON(b []byte) []byte {
	if !needsJSONFix(b) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\' && i+1 < len(b) && b[i+1] == 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				out = append(out, b[i:i+2]...)
				i += 2
				continue
			}
			switch {
			case r == 0:
				// dropped
			case r >= 0xD800 && r < 0xDC00:
				if lowSurrogateAt(b, i+6) {
					out = append(out, b[i:i+12]...)
					i += 12
					continue
				}
				out = append(out, `\ufffd`...)
			case r >= 0xDC00 && r < 0xE000:
				out = append(out, `\ufffd`...)
			default:
				out = append(out, b[i:i+6]...)
			}
			i += 6
		case c == '\\' && i+1 < len(b):
			out = append(out, b[i:i+2]...)
			i += 2
		case c == 0:
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				out = append(out, "\uFFFD"...)
			} else {
				out = append(out, b[i:i+n]...)
			}
			i += n
		}
	}
	return out
}

// needsJSONFix is storableJSON's fast path: most JSON has no NUL, no
// invalid UTF-8 and no \u escape at all.
func needsJSONFix(b []byte) bool {
	if !utf8.Valid(b) || strings.IndexByte(string(b), 0) >= 0 {
		return true
	}
	return strings.Contains(string(b), `\u`)
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// lowSurrogateAt reports whether a \u escape of a low surrogate starts at b[i:].
func lowSurrogateAt(b []byte, i int) bool {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return false
	}
	r, ok := hex4(b, i+2)
	return ok && r >= 0xDC00 && r < 0xE000
}

// storableArg makes one query argument storable: strings as text,
// json.RawMessage as JSON; it reports whether it changed anything. Other
// values (bytea []byte, numbers, times, typed ids) pass unchanged.
func storableArg(a any) (any, bool) {
	switch v := a.(type) {
	case string:
		if !IsStorableText(v) {
			return StorableText(v), true
		}
	case *string:
		if v != nil && !IsStorableText(*v) {
			s := StorableText(*v)
			return &s, true
		}
	case []string:
		if !slices.ContainsFunc(v, func(s string) bool { return !IsStorableText(s) }) {
			return v, false
		}
		c := make([]string, len(v))
		for i, s := range v {
			c[i] = StorableText(s)
		}
		return c, true
	case []*string:
		if !slices.ContainsFunc(v, func(s *string) bool { return s != nil && !IsStorableText(*s) }) {
			return v, false
		}
		c := make([]*string, len(v))
		for i, s := range v {
			a, _ := storableArg(s)
			c[i] = a.(*string)
		}
		return c, true
	case json.RawMessage:
		if needsJSONFix(v) {
			return json.RawMessage(storableJSON(v)), true
		}
	}
	return a, false
}

// storableArgs returns args made storable, copied only when one changed.
func storableArgs(args []any) []any {
	var out []any
	for i, a := range args {
		c, changed := storableArg(a)
		if !changed {
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = c
	}
	if out == nil {
		return args
	}
	return out
}

// storableDB runs every query with its arguments made storable.
type storableDB struct{ db DBTX }

func (s storableDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return s.db.Exec(ctx, sql, storableArgs(args)...)
}

func (s storableDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return s.db.Query(ctx, sql, storableArgs(args)...)
}

func (s storableDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return s.db.QueryRow(ctx, sql, storableArgs(args)...)
}

func (s storableDB) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	for _, qq := range b.QueuedQueries {
		qq.Arguments = storableArgs(qq.Arguments)
	}
	return s.db.SendBatch(ctx, b)
}

func (s storableDB) Begin(ctx context.Context) (pgx.Tx, error) { return s.db.Begin(ctx) }

// IsStorableJSON reports whether jsonb would take JSON text b as it is: no
// \u0000, no lone surrogate escape, valid UTF-8.
func IsStorableJSON(b []byte) bool { return !needsJSONFix(b) || bytes.Equal(storableJSON(b), b) }

// Savepoint runs fn in a savepoint of the transaction: when fn fails, what
// it wrote is undone and the transaction goes on, so one message PostgreSQL
// refuses (an id too long for its index, say) does not cost the others of
// its delivery.
func (t *Tx) Savepoint(ctx context.Context, fn func(tx *Tx) error) error {
	return pgx.BeginFunc(ctx, t.tx, func(sp pgx.Tx) error {
		return fn(&Tx{Queries: Queries{db: storableDB{sp}, keys: t.keys}, tx: sp})
	})
}

// IsRefusedValue reports whether err is PostgreSQL refusing a value itself
// (a data exception, class 22, or a size limit, class 54) rather than a
// failure a retry could cure (a lost connection, a deadlock).
func IsRefusedValue(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "54"))
}
