package mail

import (
	"bufio"
	"bytes"
	"context"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
)

// A server that accepts a copy (250 to the final dot) and then drops the
// connection: the copy reached its recipient, so it counts as sent, not
// missed (which a later try would send again). (Found by review.)
func TestACopyTheServerTookCountsAsSent(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	delivered := make(chan string, 4)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		r := bufio.NewReader(c)
		w := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
		w("220 ESMTP")
		inData, rcpt := false, ""
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if inData {
				if line == "." {
					w("250 ok: queued")
					delivered <- rcpt
					return // the connection drops after the message was taken
				}
				continue
			}
			switch strings.ToUpper(strings.SplitN(line, " ", 2)[0]) {
			case "RCPT":
				rcpt = line
				w("250 ok")
			case "DATA":
				inData = true
				w("354 go on")
			default:
				w("250 ok")
			}
		}
	}()
	m, err := New(Config{URL: "smtp://" + l.Addr().String() + "?starttls=none", From: "herald@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	sent, missed, err := m.SendEachWith(context.Background(), []string{"a@example.com", "b@example.com"}, "s",
		func(string) Copy { return Copy{Text: "t", HTML: "<p>t</p>"} })
	t.Logf("server took: %v", <-delivered)
	for _, x := range missed {
		t.Logf("missed %s: %v (refused for good: %v)", x.To, x.Err, Refused(x.Err))
	}
	if len(sent) != 1 || sent[0] != "a@example.com" {
		t.Fatalf("a@example.com got the copy, yet SendEachWith says sent=%v err=%v: the alert sends it again", sent, err)
	}
	if len(missed) != 1 || missed[0].To != "b@example.com" || Refused(missed[0].Err) {
		t.Fatalf("b@example.com, never tried on the dropped session, is missed for a later try: %v", missed)
	}
}

// A copy with an unsubscribe link carries it as List-Unsubscribe, and as
// one-click (List-Unsubscribe-Post, RFC 8058) only when it is https, as
// one-click requires; a copy without one has neither header.
func TestACopyCarriesItsUnsubscribeLink(t *testing.T) {
	t.Parallel()
	m, err := New(Config{URL: "smtp://127.0.0.1:25", From: "herald@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ link, header, post string }{
		{"https://herald.example/alert-recipients/stop/abc", "<https://herald.example/alert-recipients/stop/abc>", "List-Unsubscribe=One-Click"},
		{"http://127.0.0.1:8080/alert-recipients/stop/abc", "<http://127.0.0.1:8080/alert-recipients/stop/abc>", ""},
		{"", "", ""},
	} {
		msg, err := m.message([]string{"ops@example.com"}, "s", Copy{Text: "t", HTML: "<p>t</p>", Unsubscribe: tc.link})
		if err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		if _, err := msg.WriteTo(&raw); err != nil {
			t.Fatal(err)
		}
		parsed, err := netmail.ReadMessage(&raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := parsed.Header.Get("List-Unsubscribe"); got != tc.header {
			t.Errorf("%q: List-Unsubscribe %q, want %q", tc.link, got, tc.header)
		}
		if got := parsed.Header.Get("List-Unsubscribe-Post"); got != tc.post {
			t.Errorf("%q: List-Unsubscribe-Post %q, want %q", tc.link, got, tc.post)
		}
	}
}
