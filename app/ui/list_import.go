package ui

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/app/textrule"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// Bounds of a CSV import. The request body is capped too (the server's
// MaxBodyBytes, 1 MiB: a 413 page past it).
const (
	maxImportBytes = 512 << 10
	maxImportRows  = 5000
	// importChunk is how many members one transaction adds: each chunk is
	// in, or not, as a whole.
	importChunk = 500
	// maxRefusedShown bounds the refused lines the page lists.
	maxRefusedShown = 100
)

// importResult is what an import did: how many rows it added (and how
// many of them were new members), each refused line and why, and, when the
// import stopped part way, from which line on nothing was imported.
type importResult struct {
	File     string
	Rows     int
	Imported int
	Added    int
	Refused  []refusedLine
	// MoreRefused counts the refused lines past those listed.
	MoreRefused int
	// StoppedAt is the first line not imported after a failure, with why.
	StoppedAt   int
	StoppedWhy  string
	FileProblem string
}

type refusedLine struct {
	Line   int
	Reason string
}

// importRow is a row that passed its checks, with its line in the file.
type importRow struct {
	line   int
	member journey.Member
}

// ListImport adds the contacts of an uploaded CSV file to a list. The first
// line names the columns: at least one of email (or e-mail), phone (or
// mobile) and external_id; other columns become contact attributes (names
// upper-cased). Every row is checked first, as the API checks a member;
// the rows that pass go in, in chunks, and the page lists the refused lines
// with their numbers and how many went in.
func (s *Handlers) ListImport(c *gin.Context) {
	l, err := httpx.LoadList(c, s.store)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	target := "/lists/" + strconv.FormatInt(l.ID, 10)
	res := &importResult{}
	rows, err := readImport(c, res)
	if err != nil {
		res.FileProblem = sentence(err.Error()) + "."
		s.redirectWith(c, listStashPage(l.ID), http.StatusBadRequest, listStash{Import: res}, target+"#import")
		return
	}
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		members := make([]journey.Member, len(chunk))
		for i, r := range chunk {
			members[i] = r.member
		}
		added, err := s.engine.AddToList(c.Request.Context(), httpx.PanelOf(c), l.ID, members)
		if err != nil {
			s.log.ErrorContext(c.Request.Context(), "list import stopped", "list", l.ID, "line", chunk[0].line, "error", err)
			res.StoppedAt, res.StoppedWhy = chunk[0].line, "Herald could not store them; import the file again (rows already in are not added twice)."
			break
		}
		res.Imported += len(chunk)
		res.Added += added
	}
	status := http.StatusOK
	switch {
	case res.StoppedAt != 0:
		status = http.StatusServiceUnavailable
	case res.Imported == 0:
		status = http.StatusBadRequest
	}
	s.redirectWith(c, listStashPage(l.ID), status, listStash{Import: res}, target+"#import")
}

// readImport reads and checks the uploaded file, filling res with its
// name, row count and refused lines. An error is about the file as a whole
// (none uploaded, too large, no usable header).
func readImport(c *gin.Context, res *importResult) ([]importRow, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, errors.New("choose a CSV file to import")
	}
	res.File = fh.Filename
	if fh.Size > maxImportBytes {
		return nil, fmt.Errorf("the file is %d KiB; import at most %d KiB at a time", fh.Size>>10, maxImportBytes>>10)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("the file could not be read: %w", err)
	}
	defer func() { _ = f.Close() }()
	r := csv.NewReader(io.LimitReader(f, maxImportBytes))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, errors.New("the file is empty or not CSV: its first line must name the columns (email, phone, external_id)")
	}
	cols, err := importColumns(header)
	if err != nil {
		return nil, err
	}
	var rows []importRow
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if res.Rows++; res.Rows > maxImportRows {
			return nil, fmt.Errorf("the file has more than %d rows; split it", maxImportRows)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// The reader goes on after the line it could not read.
			res.refuse(pe.StartLine, "not valid CSV: "+pe.Err.Error())
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("the file could not be read: %w", err)
		}
		line, _ := r.FieldPos(0)
		m, why := cols.member(record)
		if why != "" {
			res.refuse(line, why)
			continue
		}
		rows = append(rows, importRow{line: line, member: m})
	}
	if len(rows) == 0 && len(res.Refused) == 0 {
		return nil, errors.New("the file has no rows under its header")
	}
	return rows, nil
}

// RefusedCount counts the refused lines, listed or not.
func (res *importResult) RefusedCount() int { return len(res.Refused) + res.MoreRefused }

func (res *importResult) refuse(line int, why string) {
	if len(res.Refused) < maxRefusedShown {
		res.Refused = append(res.Refused, refusedLine{Line: line, Reason: why})
	} else {
		res.MoreRefused++
	}
}

// importCols are the places of a CSV file's columns.
type importCols struct {
	email, phone, externalID int // -1 when absent
	attrs                    map[int]string
	width                    int
}

func importColumns(header []string) (importCols, error) {
	cols := importCols{email: -1, phone: -1, externalID: -1, attrs: map[int]string{}, width: len(header)}
	for i, name := range header {
		if p := textrule.Problem(name); p != "" {
			return cols, fmt.Errorf("the header's column %d %s", i+1, p)
		}
		key := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
		switch key {
		case "email", "e-mail":
			cols.email = i
		case "phone", "mobile":
			cols.phone = i
		case "external_id", "external id":
			cols.externalID = i
		case "":
		default:
			cols.attrs[i] = strings.ToUpper(key)
		}
	}
	if cols.email < 0 && cols.phone < 0 && cols.externalID < 0 {
		return cols, errors.New("the first line must name the columns, among them email, phone or external_id")
	}
	return cols, nil
}

// member reads one row as the API reads a member, or says why not.
func (cols importCols) member(record []string) (journey.Member, string) {
	for i, v := range record {
		if p := textrule.Problem(v); p != "" {
			return journey.Member{}, fmt.Sprintf("column %d %s", i+1, p)
		}
	}
	if len(record) != cols.width {
		return journey.Member{}, fmt.Sprintf("has %d columns; the header has %d", len(record), cols.width)
	}
	at := func(i int) string {
		if i < 0 {
			return ""
		}
		return record[i]
	}
	m, err := journey.MemberInput{ExternalID: at(cols.externalID), Email: at(cols.email), Phone: at(cols.phone)}.Member("")
	if err != nil {
		var ve *models.ValidationError
		if errors.As(err, &ve) && ve.Field != "" {
			return m, ve.Field + " " + ve.Message
		}
		return m, err.Error()
	}
	for i, key := range cols.attrs {
		if v := strings.TrimSpace(record[i]); v != "" {
			m.Attributes[key] = v
		}
	}
	return m, ""
}
