package models

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotFound is returned when a row does not exist or belongs to another panel;
// callers cannot tell the two apart, so one panel never learns about another's data.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a change clashes with the current state of a row
// (a duplicate label, activating an untested webhook, ...).
var ErrConflict = errors.New("conflict")

// ValidationError says which input field is wrong and why. The admin API
// renders it as {"error": Message, "field": Field}.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// invalid builds a ValidationError with a formatted message.
func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundError is an ErrNotFound with a message meant for the user, when
// saying which thing is missing helps ("the contact is not on this list").
type NotFoundError struct {
	Message string
}

func (e *NotFoundError) Error() string { return e.Message }

// Unwrap lets errors.Is(err, ErrNotFound) match.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ConflictError is an ErrConflict with a message meant for the user and,
// when one field is at fault, its name.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Message }

// Unwrap lets errors.Is(err, ErrConflict) match.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Unavailable reports whether err says PostgreSQL could not be reached or
// went away mid-statement (a restart, a failover, the network) rather than
// that the statement was wrong: the same request will likely work shortly.
func Unavailable(err error) bool {
	var connect *pgconn.ConnectError
	var pg *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.As(err, &pg):
		// The server answered. Class 08 is "connection exception";
		// 57P01-57P03 are the server shutting down, crashing, or not
		// accepting connections yet. Anything else (a wrong password, a
		// missing database, a bad statement) will not pass by itself.
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	case errors.As(err, &connect), errors.As(err, &netErr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, driver.ErrBadConn):
		return true
	}
	return false
}

// DataError reports whether err is PostgreSQL refusing a value it was
// given rather than failing (class 22, data exception: text it cannot
// store, malformed JSON for jsonb, a number or a date out of range), or a
// row breaking a NOT NULL or CHECK constraint; reason is PostgreSQL's
// words for it. Such an error is the data's fault: the same statement
// fails again with the same data, and other rows are not to blame.
func DataError(err error) (reason string, ok bool) {
	return refusal(err, func(code string) bool {
		return strings.HasPrefix(code, "22") || code == "23502" || code == "23514"
	})
}

// RefusedByData reports whether err is PostgreSQL refusing the data it
// was given: a DataError, a row breaking any integrity constraint (class
// 23: unique, foreign key, check, not null), or a value past one of its
// limits (class 54: an index entry over its row size, a jsonb value over
// 256 MB); reason is PostgreSQL's words for it. The same statement fails
// again with the same data, unless a concurrent writer caused it (a unique
// violation of a row committed meanwhile), which a retry tells apart.
func RefusedByData(err error) (reason string, ok bool) {
	return refusal(err, func(code string) bool {
		return strings.HasPrefix(code, "22") || strings.HasPrefix(code, "23") || strings.HasPrefix(code, "54")
	})
}

// RefusalLogAttrs describes a refusal (RefusedByData) for a log line by
// what it names in the schema alone: the SQLSTATE, the table, the column
// and the constraint. PostgreSQL's message and detail may quote the value
// or the whole row refused (a contact's e-mail address and phone), which
// the panel's own pages may show but the shared log must not keep.
func RefusalLogAttrs(err error) []any {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return nil
	}
	return []any{"sqlstate", pg.Code, "table", pg.TableName, "column", pg.ColumnName, "constraint", pg.ConstraintName}
}

// refusal is PostgreSQL's words for err when err is its error with a code
// that refused says is a refusal.
func refusal(err error, refused func(code string) bool) (reason string, ok bool) {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || !refused(pg.Code) {
		return "", false
	}
	reason = pg.Message
	if pg.Detail != "" {
		reason += ": " + pg.Detail
	}
	return reason, true
}
