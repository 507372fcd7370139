package models

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerTypes teaches a new connection to send uuid.UUID and *uuid.UUID
// (and slices of them) as PostgreSQL's binary uuid. Left to pgx, a uuid.UUID is a
// driver.Valuer whose value is a string, which the binary uuid format
// refuses: pgx then built an error message quoting the whole argument
// (fmt's %#v of a batch's ids) and encoded it again as text, for every
// uuid argument of every statement, about 4 % of Herald's CPU when
// processing events in batches.
func registerTypes(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUIDEncodePlan}, m.TryWrapEncodePlanFuncs...)
	return nil
}

func tryWrapUUIDEncodePlan(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch u := value.(type) {
	case uuid.UUID, *uuid.UUID:
		return &wrapUUIDEncodePlan{}, asPgUUID(u), true
	}
	return nil, nil, false
}

// asPgUUID is a uuid.UUID, or a *uuid.UUID (nil is NULL), as pgx's uuid
// codec takes it.
func asPgUUID(value any) pgtype.UUID {
	switch u := value.(type) {
	case uuid.UUID:
		return pgtype.UUID{Bytes: u, Valid: true}
	case *uuid.UUID:
		if u != nil {
			return pgtype.UUID{Bytes: *u, Valid: true}
		}
	}
	return pgtype.UUID{}
}

type wrapUUIDEncodePlan struct{ next pgtype.EncodePlan }

func (p *wrapUUIDEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *wrapUUIDEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(asPgUUID(value), buf)
}
