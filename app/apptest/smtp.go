package apptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/heraldhq/herald/jobs/mail"
)

// Mail is a message the SMTP server accepted.
type Mail struct {
	From    string
	To      []string
	Subject string
	Text    string
	HTML    string
	// ListUnsubscribe and ListUnsubscribePost are the message's headers
	// of those names (RFC 2369, RFC 8058).
	ListUnsubscribe, ListUnsubscribePost string
}

// SMTP is a real SMTP server in the test process: STARTTLS with a
// certificate of its own, PLAIN auth required, messages kept in memory. It
// can be stopped and started again on the same port to play an outage.
type SMTP struct {
	Addr string
	// Config is the MailConfig that reaches this server, insisting on
	// STARTTLS and trusting its certificate.
	Config mail.Config

	t       testing.TB
	tls     *tls.Config
	mu      sync.Mutex
	server  *smtp.Server
	mails   []Mail
	arrived chan struct{}
	refuse  map[string]bool
	policy  map[string]bool
	defer_  map[string]int
}

// Refuse makes the server refuse a recipient (550), as a mail server
// refuses an address it does not know or will not relay to.
func (s *SMTP) Refuse(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse == nil {
		s.refuse = map[string]bool{}
	}
	s.refuse[strings.ToLower(addr)] = true
}

// RefuseByPolicy makes the server refuse a recipient as a policy check
// does (553 5.7.1, sender rejected): some servers answer a mistake in the
// sender's settings at RCPT TO.
func (s *SMTP) RefuseByPolicy(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.policy == nil {
		s.policy = map[string]bool{}
	}
	s.policy[strings.ToLower(addr)] = true
}

// Greylist makes the server put a recipient off (451, "try again later")
// the next times it is named, as a greylisting server does with a sender
// it has not seen.
func (s *SMTP) Greylist(addr string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.defer_ == nil {
		s.defer_ = map[string]int{}
	}
	s.defer_[strings.ToLower(addr)] = times
}

// StartSMTP starts the server; it stops when the test ends.
func StartSMTP(t testing.TB) *SMTP {
	t.Helper()
	cert, pool := selfSigned(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTP{Addr: l.Addr().String(), t: t, arrived: make(chan struct{}, 100),
		tls: &tls.Config{Certificates: []tls.Certificate{cert}}}
	s.Config = mail.Config{URL: "smtp://alerts:s3cret@" + s.Addr + "?starttls=required", From: "Herald <herald@test.example>",
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	s.serve(l)
	t.Cleanup(s.Stop)
	return s
}

func (s *SMTP) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain, srv.TLSConfig = "127.0.0.1", s.tls
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.mu.Lock()
	s.server = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Stop shuts the server down: connections are refused.
func (s *SMTP) Stop() {
	s.mu.Lock()
	srv := s.server
	s.server = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Start starts it again on the same port.
func (s *SMTP) Start() {
	var l net.Listener
	var err error
	for range 50 { // the old socket may linger for a moment
		if l, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("smtp: restart: %v", err)
	}
	s.serve(l)
}

// Mails returns the messages accepted so far.
func (s *SMTP) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// WaitFor waits until n messages have arrived.
func (s *SMTP) WaitFor(t testing.TB, timeout time.Duration, n int) []Mail {
	t.Helper()
	deadline := time.After(timeout)
	for len(s.Mails()) < n {
		select {
		case <-s.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %d e-mails; got %d", n, len(s.Mails()))
		}
	}
	return s.Mails()
}

type session struct {
	s      *SMTP
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "alerts" || pass != "s3cret" {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	refused := ss.s.refuse[strings.ToLower(to)]
	byPolicy := ss.s.policy[strings.ToLower(to)]
	deferred := ss.s.defer_[strings.ToLower(to)] > 0
	if deferred {
		ss.s.defer_[strings.ToLower(to)]--
	}
	ss.s.mu.Unlock()
	if refused {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	if byPolicy {
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address rejected: not owned by user"}
	}
	if deferred {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again later"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parseMail(raw)
	if err != nil {
		return err
	}
	m.From, m.To = ss.from, ss.to
	ss.s.mu.Lock()
	ss.s.mails = append(ss.s.mails, m)
	ss.s.mu.Unlock()
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parseMail reads the subject and the text and HTML parts of a message.
func parseMail(raw []byte) (Mail, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	var m Mail
	m.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	m.ListUnsubscribe, m.ListUnsubscribePost = msg.Header.Get("List-Unsubscribe"), msg.Header.Get("List-Unsubscribe-Post")
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		return m, fmt.Errorf("want a multipart message, got %q", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return m, err
		}
		var body io.Reader = part
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(part)
		}
		b, _ := io.ReadAll(body)
		switch ct := part.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			m.Text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			m.HTML = string(b)
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
