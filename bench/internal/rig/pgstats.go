package rig

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// TableWrites is what PostgreSQL counted of one table's row writes
// (pg_stat_user_tables): a figure the machine's load does not move, unlike
// CPU time or events/s.
type TableWrites struct {
	Inserted, Updated, HOTUpdated, Deleted int64
}

// Total is every row version written or removed: inserts, updates and
// deletes.
func (w TableWrites) Total() int64 { return w.Inserted + w.Updated + w.Deleted }

// Transactions is the key under which RowWrites reports the database's
// transactions (committed or rolled back) as Inserted: most of Herald's
// statements are transactions of their own, so this counts round trips.
const Transactions = "(transactions)"

// WALPosition is how many bytes of WAL the PostgreSQL at dbURL has written
// since it was created (pg_current_wal_lsn): the difference of two readings
// is what every write in between cost in the log, whatever the machine's
// load, though other databases' writes on the same server count too.
func WALPosition(ctx context.Context, dbURL string) (int64, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return 0, err
	}
	defer func() { _ = db.Close() }() // a read only: nothing to lose
	var pos int64
	if err := db.QueryRowContext(ctx, `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint`).Scan(&pos); err != nil {
		return 0, fmt.Errorf("rig: read the WAL position: %w", err)
	}
	return pos, nil
}

// RowWrites reads the row-write counters of every table of the database at
// dbURL. The counters lag a backend's commits by up to a second (a backend
// reports them when it goes idle), so read them after a pause.
func RowWrites(ctx context.Context, dbURL string) (map[string]TableWrites, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }() // a read only: nothing to lose
	rows, err := db.QueryContext(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables`)
	if err != nil {
		return nil, fmt.Errorf("rig: read pg_stat_user_tables: %w", err)
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	out := map[string]TableWrites{}
	var xacts int64
	if err := db.QueryRowContext(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).
		Scan(&xacts); err != nil {
		return nil, fmt.Errorf("rig: read pg_stat_database: %w", err)
	}
	out[Transactions] = TableWrites{Inserted: xacts}
	for rows.Next() {
		var name string
		var w TableWrites
		if err := rows.Scan(&name, &w.Inserted, &w.Updated, &w.HOTUpdated, &w.Deleted); err != nil {
			return nil, fmt.Errorf("rig: scan pg_stat_user_tables: %w", err)
		}
		out[name] = w
	}
	return out, rows.Err()
}

// WritesSince is after minus before, table by table, leaving out tables
// nothing was written to.
func WritesSince(before, after map[string]TableWrites) map[string]TableWrites {
	out := map[string]TableWrites{}
	for name, a := range after {
		b := before[name]
		d := TableWrites{a.Inserted - b.Inserted, a.Updated - b.Updated, a.HOTUpdated - b.HOTUpdated, a.Deleted - b.Deleted}
		if d.Total() > 0 {
			out[name] = d
		}
	}
	return out
}

// FormatWrites lists the tables' writes per event, most written first:
// "deliveries ins 1.00 upd 2.00 (hot 2.00) del 0.00; ...".
func FormatWrites(w map[string]TableWrites, events int64) string {
	names := make([]string, 0, len(w))
	for name := range w {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return w[names[i]].Total() > w[names[j]].Total() })
	per := func(n int64) float64 { return float64(n) / float64(max(events, 1)) }
	parts := make([]string, 0, len(names))
	for _, name := range names {
		t := w[name]
		if name == Transactions {
			parts = append(parts, fmt.Sprintf("%s %.2f", name, per(t.Inserted)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s ins %.2f upd %.2f (hot %.2f) del %.2f",
			name, per(t.Inserted), per(t.Updated), per(t.HOTUpdated), per(t.Deleted)))
	}
	return strings.Join(parts, "; ")
}
