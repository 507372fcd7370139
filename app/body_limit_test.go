package app_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// writeFirst sends one request over a raw TCP connection the way Python's
// urllib and requests (and many SDKs) do: the whole body is written before
// a byte of the answer is read. It returns the answer, or the error that
// stopped the client (a reset when the server hangs up on an unread body).
func writeFirst(t *testing.T, base, head string, body []byte, chunked bool) (*http.Response, string, error) {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	// A small send buffer, as across a network: on loopback the kernel
	// would otherwise take megabytes in at once, and the client would be
	// done writing before the server's choice not to read could matter.
	require.NoError(t, conn.(*net.TCPConn).SetWriteBuffer(32<<10))
	// A bound on the whole exchange, so a server that neither reads nor
	// answers fails the test instead of hanging it.
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	// bufio.Writer keeps its first write error and Flush returns it.
	w := bufio.NewWriterSize(conn, 64<<10)
	_, _ = fmt.Fprintf(w, "%sHost: %s\r\n", head, u.Host)
	if chunked {
		_, _ = fmt.Fprint(w, "Transfer-Encoding: chunked\r\n\r\n")
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			_, _ = fmt.Fprintf(w, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		_, _ = fmt.Fprint(w, "0\r\n\r\n")
	} else {
		_, _ = fmt.Fprintf(w, "Content-Length: %d\r\n\r\n", len(body))
		_, _ = w.Write(body)
	}
	if err := w.Flush(); err != nil {
		return nil, "", fmt.Errorf("writing the body: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, "", fmt.Errorf("reading the answer: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("reading the answer's body: %w", err)
	}
	return resp, string(raw), nil
}

// A client that writes its whole oversized body before reading still gets
// the 413 and its JSON (or page), on every route with a body cap, whether
// the body declares its length (refused before it is read) or comes
// chunked (refused once 1 MiB has been read).
func TestOversizedBodyAnswerReachesWriteFirstClients(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	key := env.IngestKey()
	event := []byte(`{"event": "x", "properties": {"blob": "` + strings.Repeat("a", 2<<20) + `"}}`)
	form := []byte("email=a%40b.com&password=" + strings.Repeat("p", 2<<20))
	for _, tc := range []struct {
		name, head string
		body       []byte
		want       string // a JSON answer's error, or words of the page
	}{
		{"ingest", "POST /v1/webhook/crm HTTP/1.1\r\nAuthorization: Bearer " + key + "\r\nContent-Type: application/json\r\n",
			event, "Payload too large"},
		{"admin API", "POST /api/v1/webhooks HTTP/1.1\r\nAuthorization: Bearer " + env.Token + "\r\nContent-Type: application/json\r\n",
			event, "request body is larger than 1048576 bytes"},
		{"UI form", "POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n",
			form, "larger than 1048576 bytes"},
	} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s chunked=%v", tc.name, chunked), func(t *testing.T) {
				t.Parallel()
				resp, body, err := writeFirst(t, env.URL, tc.head, tc.body, chunked)
				require.NoError(t, err, "the client must get the answer, not a reset")
				require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, body)
				if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
					var got struct{ Error, Detail string }
					require.NoError(t, json.Unmarshal([]byte(body), &got), body)
					require.Contains(t, got.Error, tc.want, body)
					return
				}
				require.Contains(t, body, tc.want)
			})
		}
	}
}

// Past the bound (8 MiB more than the cap) Herald stops reading and hangs
// up: the rest of a huge body is not read.
func TestOversizedBodyBeyondTheBoundIsCutOff(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	huge := []byte(`{"label": "` + strings.Repeat("a", 64<<20) + `"}`)
	head := "POST /api/v1/webhooks HTTP/1.1\r\nAuthorization: Bearer " + env.Token + "\r\nContent-Type: application/json\r\n"
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			t.Parallel()
			_, _, err := writeFirst(t, env.URL, head, huge, chunked)
			require.Error(t, err, "64 MiB cannot all be written to a server that stopped reading")
			require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "the server hangs up rather than leave the client waiting")
		})
	}
}

// A client that stops sending part-way through an oversized body holds
// Herald for 5 s at most: then it gets its 413, and the connection is
// closed.
func TestOversizedBodyOfAStalledClient(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	u, err := url.Parse(env.URL)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = fmt.Fprintf(conn, "POST /api/v1/webhooks HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"label\": \"", u.Host, env.Token, 2<<20)
	require.NoError(t, err)
	start := time.Now()
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(raw))
	require.True(t, resp.Close, "the connection is closed after the answer")
	require.GreaterOrEqual(t, time.Since(start), 4*time.Second, "Herald waited for the body")
	_, err = r.ReadByte()
	require.ErrorIs(t, err, io.EOF, "Herald hung up")
}
