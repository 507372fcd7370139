package ui

import (
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// listPage is one list: a page of its members and the forms that add,
// remove and import them.
type listPage struct {
	List    *models.List
	Members []models.Contact
	Page    int
	// Newer and Older are the neighbouring pages' URLs, "" at an end.
	Newer, Older string
	// Add is the add-a-member form as refused; Import the outcome of the
	// last CSV import.
	Add    memberForm
	Import *importResult
}

type memberForm struct {
	ExternalID, Email, Phone string
	Errors                   formErrors
}

// listStash is what the list's forms leave for its page.
type listStash struct {
	Add    *memberForm
	Import *importResult
}

func listStashPage(id int64) string { return "list:" + strconv.FormatInt(id, 10) }

// ListShow shows a list's members, latest added first, a page at a time.
func (s *Handlers) ListShow(c *gin.Context) {
	l, err := httpx.LoadList(c, s.store)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	page, err := httpx.PageParam(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	var st listStash
	status := s.takeStash(c, listStashPage(l.ID), &st)
	p := listPage{List: l, Page: page, Add: memberForm{Errors: formErrors{}}, Import: st.Import}
	if st.Add != nil {
		p.Add = *st.Add
	}
	ctx := c.Request.Context()
	if l.Members, err = s.store.ListMemberCount(ctx, l.ID); err != nil {
		s.FailPage(c, err)
		return
	}
	if p.Members, err = s.store.ListMembers(ctx, l.ID, (page-1)*models.MembersPerPage, models.MembersPerPage+1); err != nil {
		s.FailPage(c, err)
		return
	}
	base := fmt.Sprintf("/lists/%d", l.ID)
	if len(p.Members) > models.MembersPerPage {
		p.Members = p.Members[:models.MembersPerPage]
		p.Older = fmt.Sprintf("%s?page=%d", base, page+1)
	}
	if page > 1 {
		p.Newer = fmt.Sprintf("%s?page=%d", base, page-1)
	}
	s.render(c, status, "list", l.Name, "audiences", p)
}
