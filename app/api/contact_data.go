package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// contactDataInput is the body of PUT /contacts/{id}/data/{table}.
type contactDataInput struct {
	Rows []json.RawMessage `json:"rows"`
}

// contactTable reads the contact id and the table name of a data route.
func contactTable(c *gin.Context) (int64, string, error) {
	id, err := httpx.IDParam(c, "contact")
	if err != nil {
		return 0, "", err
	}
	table := c.Param("table")
	if !models.DataTablePattern.MatchString(table) {
		return 0, "", httpx.BadRequest("table", "must be 1-64 letters, digits, '_' or '-'")
	}
	return id, table, nil
}

// checkContactRows checks a table's rows: a list of up to
// models.MaxContactDataRows objects, models.MaxContactDataBytes at most as
// JSON. It returns the list as stored.
func checkContactRows(rows []json.RawMessage) (json.RawMessage, error) {
	if rows == nil {
		return nil, httpx.BadRequest("rows", "is required: a list of objects ([] to empty the table)")
	}
	if len(rows) > models.MaxContactDataRows {
		return nil, httpx.BadRequest("rows", fmt.Sprintf("at most %d rows, not %d", models.MaxContactDataRows, len(rows)))
	}
	size := 0
	for _, r := range rows {
		size += len(r)
	}
	// The table is one jsonb value, which writes numbers out in full on
	// every read: its rows share one budget.
	numbers := models.NewNumberBudget(size)
	for i, r := range rows {
		var obj map[string]any
		if models.DecodeExact(r, &obj) != nil || obj == nil {
			return nil, httpx.BadRequest(fmt.Sprintf("rows[%d]", i), "must be an object")
		}
		if bad := numbers.Check(obj); bad != nil {
			return nil, httpx.BadRequest(fmt.Sprintf("rows[%d]", i), bad.Error())
		}
	}
	raw, _ := json.Marshal(rows)
	if len(raw) > models.MaxContactDataBytes {
		return nil, httpx.BadRequest("rows", fmt.Sprintf("are %d bytes as JSON, more than the %d a table of a contact may hold",
			len(raw), models.MaxContactDataBytes))
	}
	return raw, nil
}

// ContactDataPut replaces a contact's rows of a data table, which webhook
// nodes send as udt_params.
func (s *Handlers) ContactDataPut(c *gin.Context) {
	id, table, err := contactTable(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in contactDataInput
	if err := httpx.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	rows, err := checkContactRows(in.Rows)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.store.PutContactData(c.Request.Context(), httpx.PanelOf(c).ID, id, table, rows)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "contact not found"))
		return
	}
	c.JSON(http.StatusOK, d)
}

// ContactDataGet shows a contact's rows of a data table.
func (s *Handlers) ContactDataGet(c *gin.Context) {
	id, table, err := contactTable(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.store.ContactDataTable(c.Request.Context(), httpx.PanelOf(c).ID, id, table)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "no rows of this table for this contact"))
		return
	}
	c.JSON(http.StatusOK, d)
}

// ContactDataDelete removes a contact's rows of a data table.
func (s *Handlers) ContactDataDelete(c *gin.Context) {
	id, table, err := contactTable(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.DeleteContactData(c.Request.Context(), httpx.PanelOf(c).ID, id, table); err != nil {
		s.fail(c, httpx.NotFoundAs(err, "no rows of this table for this contact"))
		return
	}
	c.Status(http.StatusNoContent)
}
