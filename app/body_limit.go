package app

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// A 413 is sent only once the rest of the oversized body has been read and
// thrown away, as nginx's lingering close does. Many clients (Python's
// urllib and requests, most SDKs) write the whole body before they read a
// byte of the answer: a server that answers and hangs up on a body it did
// not read makes the kernel reset the connection, and such a client sees
// "connection reset" or "broken pipe" instead of the 413. Reading is
// bounded, so that a huge or endless body costs little: past the bound
// Herald answers anyway and closes the connection.
const (
	// lingerMaxBytes is how much of an oversized body is read past what
	// the handler read: 8 MiB, a few times the cap, covers the bodies
	// clients send by mistake (a whole export, a base64 file) without
	// letting one request make Herald read without end.
	lingerMaxBytes = 8 << 20
	// lingerMaxTime bounds the reading, for a client that sends slowly.
	lingerMaxTime = 5 * time.Second
)

// lingerWriter is the response writer of a request with a capped body:
// before the headers of a 413 go out, it reads the rest of the body (see
// lingerMaxBytes). Every 413 is covered, whichever handler answers it.
type lingerWriter struct {
	gin.ResponseWriter
	req *http.Request
	// raw is the body as the connection delivers it, under the cap, which
	// refuses every read once it has been reached.
	raw      io.Reader
	lingered bool
}

// linger reads what is left of the body when the answer about to be
// written is a 413, and asks for the connection to be closed after the
// answer when it could not read it all.
func (w *lingerWriter) linger() {
	if w.lingered || w.Written() || w.Status() != http.StatusRequestEntityTooLarge {
		return
	}
	w.lingered = true
	if !w.discardBody() {
		w.Header().Set("Connection", "close")
	}
}

// discardBody reads the rest of the body within the bounds and reports
// whether it reached its end.
func (w *lingerWriter) discardBody() bool {
	switch {
	case w.req.ContentLength == 0:
		return true
	case w.req.ContentLength > lingerMaxBytes:
		return false // its length says it is past the bound: no use reading
	case strings.EqualFold(w.req.Header.Get("Expect"), "100-continue") && w.req.ContentLength > 0:
		// Refused on its declared length before anything was read: the
		// client waits for "100 Continue" before it sends the body, and
		// reading now would ask for it. Without it, nothing is sent.
		return false
	}
	rc := http.NewResponseController(w.ResponseWriter)
	if rc.SetReadDeadline(time.Now().Add(lingerMaxTime)) != nil {
		return false // no way to bound the time (not a network connection)
	}
	n, err := io.CopyN(io.Discard, w.raw, lingerMaxBytes+1)
	// The connection's later reads (the next request) set their own
	// deadlines; none must be left to cut them short meanwhile.
	_ = rc.SetReadDeadline(time.Time{})
	return errors.Is(err, io.EOF) && n <= lingerMaxBytes
}

// WriteHeaderNow sends the headers, after lingering on a 413.
func (w *lingerWriter) WriteHeaderNow() {
	w.linger()
	w.ResponseWriter.WriteHeaderNow()
}

// Write writes body bytes, after lingering on a 413.
func (w *lingerWriter) Write(b []byte) (int, error) {
	w.linger()
	return w.ResponseWriter.Write(b)
}

// WriteString writes body text, after lingering on a 413.
func (w *lingerWriter) WriteString(s string) (int, error) {
	w.linger()
	return w.ResponseWriter.WriteString(s)
}

// Flush sends what is written, after lingering on a 413.
func (w *lingerWriter) Flush() {
	w.linger()
	w.ResponseWriter.Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *lingerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// lingerOn413 makes a 413 of this request wait for the rest of its body;
// limitBody calls it before it caps the body.
func lingerOn413(c *gin.Context) {
	c.Writer = &lingerWriter{ResponseWriter: c.Writer, req: c.Request, raw: c.Request.Body}
}
