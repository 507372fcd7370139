package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// A contact's data tables are rows loaded through the admin API (one list
// of rows per contact and table); webhook nodes send them as udt_params.
const (
	MaxContactDataRows  = 100
	MaxContactDataBytes = 64 << 10 // one table of one contact, as JSON
)

// DataTablePattern is what a data table's name may be.
var DataTablePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ContactData is one contact's rows of one data table.
type ContactData struct {
	Table     string          `json:"table"`
	Rows      json.RawMessage `json:"rows"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// PutContactData replaces a contact's rows of a table (rows is a JSON
// array the caller checked). A contact of another panel is ErrNotFound.
func (s *Store) PutContactData(ctx context.Context, panelID, contactID int64, table string, rows json.RawMessage) (*ContactData, error) {
	now := s.Now()
	res, err := s.sql.ExecContext(ctx, `INSERT INTO contact_data (panel_id, contact_id, table_name, rows, updated_at)
		SELECT c.panel_id, c.id, $3, $4::jsonb, $5 FROM contacts c WHERE c.panel_id = $1 AND c.id = $2
		ON CONFLICT (panel_id, contact_id, table_name) DO UPDATE SET rows = EXCLUDED.rows, updated_at = EXCLUDED.updated_at`,
		panelID, contactID, table, string(rows), now)
	if err != nil {
		return nil, fmt.Errorf("models: put contact data: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("models: contact %d: %w", contactID, ErrNotFound)
	}
	return &ContactData{Table: table, Rows: rows, UpdatedAt: now}, nil
}

// ContactDataTable loads a contact's rows of one table; ErrNotFound when
// none were loaded (or the contact is another panel's).
func (s *Store) ContactDataTable(ctx context.Context, panelID, contactID int64, table string) (*ContactData, error) {
	d := ContactData{Table: table}
	var rows []byte
	err := s.sql.QueryRowContext(ctx, `SELECT rows, updated_at FROM contact_data
		WHERE panel_id = $1 AND contact_id = $2 AND table_name = $3`, panelID, contactID, table).Scan(&rows, &d.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: contact %d data %s: %w", contactID, table, err)
	}
	d.Rows = rows
	return &d, nil
}

// DeleteContactData removes a contact's rows of a table; ErrNotFound when
// there were none.
func (s *Store) DeleteContactData(ctx context.Context, panelID, contactID int64, table string) error {
	res, err := s.sql.ExecContext(ctx, `DELETE FROM contact_data WHERE panel_id = $1 AND contact_id = $2 AND table_name = $3`,
		panelID, contactID, table)
	if err != nil {
		return fmt.Errorf("models: delete contact data: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("models: contact %d data %s: %w", contactID, table, ErrNotFound)
	}
	return nil
}

// ContactDataIn loads the named tables' rows of a contact in transaction
// q, by table; tables without rows are absent.
func (s *Store) ContactDataIn(ctx context.Context, q Querier, panelID, contactID int64, tables []string) (map[string]json.RawMessage, error) {
	rows, err := q.QueryContext(ctx, `SELECT table_name, rows FROM contact_data
		WHERE panel_id = $1 AND contact_id = $2 AND table_name = ANY($3)`, panelID, contactID, tables)
	if err != nil {
		return nil, fmt.Errorf("models: contact data: %w", err)
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var name string
		var raw []byte
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, fmt.Errorf("models: contact data: %w", err)
		}
		out[name] = raw
	}
	return out, rows.Err()
}
