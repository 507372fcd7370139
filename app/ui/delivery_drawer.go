package ui

import (
	"errors"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// The delivery log's drawer: the log's page with ?delivery=dlv_… shows
// that delivery and its attempt timeline beside the log, rendered by the
// server (no script), the log's filter, search and page kept in its links.

// drawerHeading is the fragment the drawer's links target: its heading,
// so the browser brings it into view and moves focus there.
const drawerHeading = "delivery-h"

// deliveryDrawer is the drawer of the log's page.
type deliveryDrawer struct {
	// Detail is the delivery; nil when this webhook has no such delivery
	// (another panel's or webhook's, or not an id), which the drawer says.
	Detail *deliveryPage
	// Close is the log as it was, without the drawer, back at the row.
	Close string
	// Self is the log with this drawer open, for a replay to return to.
	Self string
}

// openDrawer fills the drawer the page's URL asks for (?delivery=), if
// any, and says whether it found the delivery.
func (s *Handlers) openDrawer(c *gin.Context, p *webhookPage) (found bool, err error) {
	asked := c.Query("delivery")
	if asked == "" {
		return true, nil
	}
	p.Drawer = &deliveryDrawer{Close: p.pageURL(p.pageQuery(), "logs")}
	id, err := models.ParseDeliveryID(asked)
	if err != nil {
		return false, nil
	}
	d, err := s.deliveryDetail(c, p.Webhook, id)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	public := d.Delivery.PublicID()
	if slices.ContainsFunc(p.Deliveries, func(r deliveryRow) bool { return r.ID == id }) {
		p.Drawer.Close = p.pageURL(p.pageQuery(), rowAnchor(public))
	}
	p.Drawer.Detail, p.Drawer.Self = d, p.DrawerURL(public)
	return true, nil
}

// DrawerURL is the log as it is (filter, search, page) with delivery
// public's drawer open.
func (p *webhookPage) DrawerURL(public string) string {
	q := p.pageQuery()
	q.Set("tab", "deliveries")
	q.Set("delivery", public)
	return p.pageURL(q, drawerHeading)
}

// pageQuery is the log's URL query as shown: tab, range, filter and page.
func (p *webhookPage) pageQuery() url.Values {
	q := p.logQuery()
	q.Set("tab", p.Tab)
	q.Set("range", p.Range.Key)
	if p.cursor != "" {
		q.Set("cursor", p.cursor)
	}
	return q
}

// rowAnchor is the element id of a delivery's row in the log.
func rowAnchor(public string) string { return "row-" + public }
