package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/osteele/liquid"
	"github.com/osteele/liquid/parser"
	"github.com/osteele/liquid/render"
)

// Body formats of a webhook asset (body_format).
const (
	// BodyForm is data=<url-encoded JSON> of {"<panel>": [items]}, the
	// format of the journey product Herald replaces. The default.
	BodyForm = "form"
	// BodyJSON is application/json: the item itself when batch_size is 1,
	// else a JSON array of the batch's items.
	BodyJSON = "json"
	// BodyTemplate is a Liquid template the marketer wrote, rendered per
	// event (or per batch when it mentions events).
	BodyTemplate = "template"
)

// Content types a template may declare (template_content_type).
const (
	ContentTypeJSON = "application/json"
	ContentTypeForm = "application/x-www-form-urlencoded"
)

// Signature schemes (signature_scheme) and their headers.
const (
	// SignatureStandard is Standard Webhooks: webhook-id, webhook-timestamp,
	// webhook-signature: v1,<base64>.
	SignatureStandard = "standard-webhooks"
	// SignatureHMAC puts sha256=<hex of HMAC-SHA256(key, "<ts>.<body>")> in
	// SignatureHeader and the timestamp in TimestampHeader.
	SignatureHMAC          = "hmac-sha256"
	DefaultSignatureHeader = "X-Webhook-Signature"
	TimestampHeader        = "X-Webhook-Timestamp"
)

// maxTemplateBytes bounds a body template; bodies are capped by
// max_body_bytes anyway, and a template is typed by hand.
const maxTemplateBytes = 64 << 10

// SignatureHeaderName is the header of an hmac-sha256 signature.
func (s *WebhookSpec) SignatureHeaderName() string {
	if s.SignatureHeader == "" {
		return DefaultSignatureHeader
	}
	return s.SignatureHeader
}

// TemplateType is the Content-Type of a rendered template.
func (s *WebhookSpec) TemplateType() string {
	if s.TemplateContentType == "" {
		return ContentTypeJSON
	}
	return s.TemplateContentType
}

// sendsAsJSONBody reports the formats whose body is not the data= form.
func (s *WebhookSpec) sendsAsJSONBody() bool {
	return s.BodyFormat == BodyJSON || s.BodyFormat == BodyTemplate
}

// PerEventTemplate reports a template that renders one event per request:
// one that never mentions events. Such an asset is sent one event at a time
// whatever its batch_size.
func (s *WebhookSpec) PerEventTemplate() bool {
	return s.BodyFormat == BodyTemplate && !IteratesEvents(s.BodyTemplate)
}

// SendBatchSize is how many events go in one request at most.
func (s *WebhookSpec) SendBatchSize() int {
	if s.PerEventTemplate() {
		return 1
	}
	return s.BatchSize
}

var eventsWord = regexp.MustCompile(`\bevents\b`)

// IteratesEvents reports whether a template refers to events (the whole
// batch) in any tag or output the engine parses, e.g. {% for e in events %}.
// The worker asks for every batch it claims and sends, and the answer takes
// a scan of the template: it is kept for the templates seen last.
func IteratesEvents(src string) bool {
	iterating.Lock()
	known, ok := iterating.of[src]
	iterating.Unlock()
	if ok {
		return known
	}
	answer := false
	if checkMarkupClosed(src) == nil { // else it cannot render at all: one event a request, each failing alone
		for _, tok := range parsedMarkup(src) {
			if eventsWord.MatchString(tok.Args) {
				answer = true
				break
			}
		}
	}
	iterating.Lock()
	if len(iterating.of) >= maxIteratingKept {
		clear(iterating.of)
	}
	iterating.of[src] = answer
	iterating.Unlock()
	return answer
}

// iterating keeps IteratesEvents' answers, for at most maxIteratingKept
// templates (64 KiB each at most) before it starts again.
var iterating = struct {
	sync.Mutex
	of map[string]bool
}{of: map[string]bool{}}

const maxIteratingKept = 1024

// parsedMarkup is the outputs and tags of src as Liquid's own scanner
// reads them, without those in comment and raw bodies, which its parser
// skips (up to any tag named endcomment or endraw, as its parser does).
// checkMarkupClosed first: it bounds what the scanner reads in vain.
func parsedMarkup(src string) []parser.Token {
	var out []parser.Token
	inert := ""
	for _, tok := range parser.Scan(src, parser.SourceLoc{LineNo: 1}, nil) {
		switch {
		case tok.Type != parser.ObjTokenType && tok.Type != parser.TagTokenType:
		case inert != "":
			if tok.Type == parser.TagTokenType && tok.Name == "end"+inert {
				inert = ""
			}
		case tok.Type == parser.TagTokenType && (tok.Name == "comment" || tok.Name == "raw"):
			inert = tok.Name
		default:
			out = append(out, tok)
		}
	}
	return out
}

// TemplateVars are the Liquid variables of a batch (README, "Body
// formats"): contact, event, journey, webhook, params, delivery_id, panel
// and item of its first item, and events with the same for each item. Items
// are the stored batch items; numbers keep their exact text. contacts, when
// not nil, holds for each item the contact it is about as TemplateContacts
// loads it (nil for an item about none): its attributes and identity are
// the item's contact, over what the item itself says.
func TemplateVars(panel, webhookName string, items [][]byte, contacts []map[string]any) map[string]any {
	events := make([]any, 0, len(items))
	for i, it := range items {
		var c map[string]any
		if i < len(contacts) {
			c = contacts[i]
		}
		events = append(events, itemVars(panel, webhookName, it, c))
	}
	vars := map[string]any{"panel": panel, "webhook": map[string]any{"name": webhookName}}
	if len(events) > 0 {
		for k, v := range events[0].(map[string]any) {
			vars[k] = v
		}
	}
	vars["events"] = events
	return vars
}

// itemVars maps one stored item onto the variables. Items written by a
// journey carry the payload format's keys; items given to the deliveries
// API may carry anything, and are all there under item. loaded is the
// item's contact (TemplateContacts), or nil.
func itemVars(panel, webhookName string, raw []byte, loaded map[string]any) map[string]any {
	var it map[string]any
	_ = DecodeExact(raw, &it) // items are JSON objects written by Herald
	obj := func(key string) map[string]any {
		if m, ok := it[key].(map[string]any); ok {
			return m
		}
		return map[string]any{}
	}
	eventParams, attParams := obj("event_params"), obj("att_params")
	contact := make(map[string]any, len(attParams)+len(loaded)+3)
	for k, v := range attParams {
		contact[strings.ToUpper(k)] = v
	}
	for k, v := range loaded {
		contact[k] = v
	}
	first := func(vals ...any) any {
		for _, v := range vals {
			if s, ok := v.(string); ok && s != "" {
				return s
			}
		}
		return nil
	}
	contact["email"] = first(loaded["email"], attParams["EMAIL"], eventParams["email"], it["email"])
	contact["phone"] = first(loaded["phone"], attParams["PHONE"], attParams["MOBILE"], eventParams["phone"], it["phone"])
	contact["external_id"] = first(loaded["external_id"], attParams["EXTERNAL_ID"], eventParams["external_id"], it["external_id"])
	return map[string]any{
		"delivery_id": it["delivery_id"],
		"panel":       panel,
		"webhook":     map[string]any{"name": webhookName},
		"journey":     map[string]any{"name": it["journey_name"]},
		"contact":     contact,
		"event": map[string]any{
			"name": it["event"], "properties": obj("payload_params"), "timestamp": eventParams["timestamp"],
			"msgid": it["msgid"], "channel": it["channel"],
		},
		"params": map[string]any{"event_params": eventParams, "att_params": attParams, "custom_params": obj("custom_params")},
		"item":   it,
	}
}

// RenderBodyTemplate renders a body template. For a JSON content type the
// result must be valid JSON. Errors are ValidationErrors of body_template
// naming the line and column.
func RenderBodyTemplate(src, contentType string, vars map[string]any) ([]byte, error) {
	return renderBodyTemplate(src, contentType, vars, newRenderBudget())
}

// renderBodyTemplate is RenderBodyTemplate within budget b.
func renderBodyTemplate(src, contentType string, vars map[string]any, b *renderBudget) ([]byte, error) {
	// Liquid has no I/O, include is replaced by an error, and loops,
	// filters and time are bounded (webhook_template_budget.go), so a
	// template can neither reach outside its variables nor run without end.
	r := renderers.Get().(*liquidRenderer)
	defer renderers.Put(r)
	if err := checkMarkupClosed(src); err != nil {
		return nil, err
	}
	if err := checkMarkup(src); err != nil {
		return nil, err
	}
	tpl, perr := parseTemplate(r.engine, src)
	if perr != nil {
		return nil, templateError(src, perr)
	}
	if err := checkNoCapture(src, tpl.GetRoot()); err != nil {
		return nil, err
	}
	if err := checkAssignedNames(src, tpl.GetRoot()); err != nil {
		return nil, err
	}
	if err := checkTrimRuns(tpl.GetRoot()); err != nil {
		return nil, err
	}
	if err := checkBlockComparisons(tpl.GetRoot()); err != nil {
		return nil, err
	}
	r.instrumentLoops(tpl.GetRoot())
	r.budget = b
	out, rerr := renderCapped(tpl, vars)
	r.budget = nil
	if rerr != nil {
		return nil, templateError(src, rerr)
	}
	if contentType == ContentTypeJSON {
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			return nil, renderedJSONError(out, err)
		}
	}
	return out, nil
}

// maxRenderBytes bounds what a template may write: no body may be larger
// (max_body_bytes is at most 10 MiB), and a loop must not fill the memory.
const maxRenderBytes = maxMaxBody

var errRenderTooLarge = fmt.Errorf("renders more than %d bytes", maxRenderBytes)

// cappedWriter refuses to grow past maxRenderBytes.
type cappedWriter struct{ buf bytes.Buffer }

func (c *cappedWriter) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > maxRenderBytes {
		return 0, errRenderTooLarge
	}
	return c.buf.Write(p)
}

// parseTemplate parses src, lines counted from 1. The parser panics on
// some templates it cannot read ({{ 9999999999999999999999 }}: a number
// past int64); that is an error of the template, not a 500.
func parseTemplate(e *liquid.Engine, src string) (tpl *liquid.Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			tpl, err = nil, fmt.Errorf("cannot parse: %s", panicMessage(r))
		}
	}()
	t, perr := e.ParseTemplateLocation([]byte(src), "", 1)
	if perr != nil {
		return nil, perr
	}
	return t, nil
}

// panicMessage is the first line of what a panic carried: the engine's
// recovered panics quote a Go stack trace after it, which is no business
// of the template's author.
func panicMessage(r any) string {
	msg, _, _ := strings.Cut(fmt.Sprint(r), "\n")
	return msg
}

// renderCapped renders into a cappedWriter. The engine panics when a
// write fails at the end of a block; that, and any other panic of the
// engine on a template it accepted, is an error of the template.
func renderCapped(tpl *liquid.Template, vars map[string]any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("cannot render: %s", panicMessage(r))
		}
	}()
	var w cappedWriter
	if rerr := tpl.FRender(&w, vars); rerr != nil {
		return nil, rerr
	}
	return w.buf.Bytes(), nil
}

// maxScanCost bounds the bytes Liquid's scanner reads in vain: for each
// {{ whose }} it cannot reach it reads on to the end of the line, and for
// each {% with arguments that no %} closes, to the end of the template,
// before it takes the opener as text. 64 KiB of "{{{%-%}" cost half a
// minute to parse, on every save and every batch (4 MiB of such reading:
// a second); a stray opener or two (a {{ in a comment) costs next to
// nothing and is let be.
const maxScanCost = 256 << 10

// checkMarkupClosed refuses a template whose openers Liquid's scanner
// would read past in vain for more than
// maxScanCost bytes in all, naming the first such opener. An output's
// expression stays on one line, the white space around it may span lines;
// a tag closes at a %} whose % does not close a pair ("%%"). Two passes
// from the end tell it for every opener.
func checkMarkupClosed(src string) error {
	n := len(src)
	nonSpace := make([]int, n+1) // the first byte at or after j that is not white space
	nonSpace[n] = n
	for j := n - 1; j >= 0; j-- {
		if isRegexpSpace(src[j]) {
			nonSpace[j] = nonSpace[j+1]
		} else {
			nonSpace[j] = j
		}
	}
	// reaches[j]: an expression going on from j reaches a }}: later on its
	// line, or after the line's end through white space alone.
	reaches := make([]bool, n+1)
	for j := n - 1; j >= 0; j-- {
		switch rest := src[nonSpace[j]:]; {
		case strings.HasPrefix(src[j:], "}}"):
			reaches[j] = true
		case src[j] == '\n':
			reaches[j] = strings.HasPrefix(rest, "}}") || strings.HasPrefix(rest, "-}}")
		default:
			reaches[j] = reaches[j+1]
		}
	}
	tagClosed := false // a %} that closes a tag follows
	lineEnd := n       // where the line ends
	cost, bad, msg := 0, -1, ""
	for i := n - 2; i >= 0; i-- {
		switch a, b := src[i], src[i+1]; {
		case a == '\n':
			lineEnd = i
		case a == '%' && b == '}':
			run := 0
			for j := i; j >= 0 && src[j] == '%'; j-- {
				run++
			}
			if run%2 == 1 {
				tagClosed = true
			}
		case a == '{' && b == '{':
			p := i + 2
			if p < n && src[p] == '-' {
				p++
			}
			if p = nonSpace[p]; p >= n || !reaches[p] {
				cost += lineEnd - i
				bad, msg = i, "{{ is not closed by }} (its expression stays on one line)"
			}
		case a == '{' && b == '%' && !tagClosed && takesArguments(src, i+2):
			cost += n - i
			bad, msg = i, "{% is not closed by %}"
		}
	}
	if cost > maxScanCost {
		return markupError(src, bad, msg)
	}
	return nil
}

// takesArguments reports whether the tag opened before p reads as a name
// and then white space, where Liquid's scanner reads arguments up to a %}:
// any other opener it gives up at once.
func takesArguments(src string, p int) bool {
	if p < len(src) && src[p] == '-' {
		p++
	}
	for p < len(src) && isRegexpSpace(src[p]) {
		p++
	}
	word := p
	for p < len(src) && (src[p] == '_' || src[p] >= '0' && src[p] <= '9' || src[p]|0x20 >= 'a' && src[p]|0x20 <= 'z') {
		p++
	}
	return p > word && p < len(src) && isRegexpSpace(src[p])
}

// markupError is a ValidationError of body_template at byte i of src.
func markupError(src string, i int, msg string) error {
	before := src[:i]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return invalid("body_template", "line %d, column %d: %s", line, col, msg)
}

// maxComparisons bounds the costly comparisons in one output or tag, and
// maxBlockComparisons in one if, unless or case with all its clauses (a
// when value is one). The engine compares lists element by element and
// reads no clock meanwhile (Herald reads it between nodes, and so not
// between the clauses of one block): a 90,000-item list compared with
// itself costs 11 ms, and one condition, or chain of elsif, could hold
// thousands. A comparison with a literal ("open", 3, true) costs no more
// than reading the other side once, and is not counted.
const (
	maxComparisons      = 16
	maxBlockComparisons = 64
)

// maxListedValues bounds the values of a when or cycle tag: the engine's
// parser copies the list at each value, so n values held n²/2 words
// (32,000 of them: 8 GB).
const maxListedValues = 64

var (
	comparison = regexp.MustCompile(`==|!=|<>|<=|>=|<|>|\bcontains\b`)
	andOr      = regexp.MustCompile(`\b(?:and|or)\b`)
	// cheapComparison is a comparison of a variable with a literal, with
	// strings blanked out (withoutStrings): it costs no more than reading
	// the variable once. contains is never cheap: it reads a list whole.
	cheapComparison = regexp.MustCompile(`^\s*(?:` + liquidPath + `\s*(?:==|!=|<>|<=|>=|<|>)\s*` + liquidLiteral + `|` +
		liquidLiteral + `\s*(?:==|!=|<>|<=|>=|<|>)\s*` + liquidPath + `)\s*$`)
	literalValue = regexp.MustCompile(`^\s*` + liquidLiteral + `\s*$`)
	// nilLiteral is a literal the engine writes as nothing.
	nilLiteral = regexp.MustCompile(`^\s*nil\s*$`)
)

const (
	// The engine's literals: strings, numbers, true, false and nil.
	// empty, blank and null are plain variables to it, which a template
	// may assign a large list to (found by review: taken for literals,
	// they hid comparisons of such lists, 42 s in one if).
	liquidLiteral = `(?:"[^"]*"|'[^']*'|-?[0-9]+(?:\.[0-9]+)?|true|false|nil)`
	liquidPath    = `[A-Za-z_][\w.-]*`
)

// costlyComparisons counts the comparisons of Liquid code (its strings
// blanked out) other than a variable against a literal.
func costlyComparisons(code string) int {
	n := 0
	for _, part := range andOr.Split(code, -1) {
		ops := len(comparison.FindAllStringIndex(part, -1))
		if ops == 1 && cheapComparison.MatchString(part) {
			continue
		}
		n += ops
	}
	return n
}

// isLiteral reports a Liquid literal, whole: a string, a number or a
// constant (strings blanked out).
func isLiteral(x string) bool { return literalValue.MatchString(x) }

// checkMarkup checks each output and tag the engine parses
// (parsedMarkup): at most maxComparisons costly comparisons, at most
// maxListedValues values in a when or cycle, and no range (1..n), whose
// list the engine builds whole before any filter sees it.
func checkMarkup(src string) error {
	for _, tok := range parsedMarkup(src) {
		code := withoutStrings(tok.Args)
		if costlyComparisons(code) > maxComparisons {
			return tokenError(src, tok, fmt.Sprintf("more than %d comparisons of two values that are not literals in one output or tag: split the condition", maxComparisons))
		}
		if strings.Contains(code, "..") {
			return tokenError(src, tok, "ranges such as (1..n) are not supported; loop over events or a list of the event")
		}
		if (tok.Name == "when" || tok.Name == "cycle") && strings.Count(code, ",") >= maxListedValues {
			return tokenError(src, tok, fmt.Sprintf("more than %d values in one %s", maxListedValues, tok.Name))
		}
	}
	return nil
}

// tokenError is a ValidationError of body_template at a token.
func tokenError(src string, tok parser.Token, msg string) error {
	line, col := markupPlace(src, tok.SourceLoc.LineNo, tok.Source)
	return invalid("body_template", "line %d, column %d: %s in %s", line, col, msg, tok.Source)
}

// markupPlace is the line of markup in src (1 when line is not one of
// src's) and the column where markup starts on it (1 when it does not
// start there: it spans lines, or is not known).
func markupPlace(src string, line int, markup string) (int, int) {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) {
		return 1, 1
	}
	if at := strings.Index(lines[line-1], markup); markup != "" && at >= 0 {
		return line, utf8.RuneCountInString(lines[line-1][:at]) + 1
	}
	return line, 1
}

// withoutStrings is Liquid code with what its string literals hold blanked
// out, byte for byte, so that offsets stay.
func withoutStrings(code string) string {
	b := []byte(code)
	var quote byte
	for i, c := range b {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			b[i] = ' '
		case c == '"' || c == '\'':
			quote = c
		}
	}
	return string(b)
}

// checkBlockComparisons refuses an if, unless or case whose clauses hold
// more than maxBlockComparisons costly comparisons together (a when value
// that is not a literal is one, plus the comparisons it holds).
func checkBlockComparisons(root render.Node) error {
	return walkTemplate(root, func(n render.Node) error {
		b, ok := n.(*render.BlockNode)
		if !ok || (b.Name != "if" && b.Name != "unless" && b.Name != "case") {
			return nil
		}
		count := costlyComparisons(withoutStrings(b.Args))
		for _, c := range b.Clauses {
			args := withoutStrings(c.Args)
			if c.Name != "when" {
				count += costlyComparisons(args)
				continue
			}
			// Each value is compared with the case's subject, and a
			// value in parentheses may hold comparisons of its own
			// ({% when (l == l and l == l) %}: found by review, 64
			// such whens ran 1,024 comparisons with no clock read).
			for _, v := range strings.Split(args, ",") {
				count += costlyComparisons(v)
				if !isLiteral(v) {
					count++
				}
			}
		}
		if count > maxBlockComparisons {
			return invalid("body_template", "line %d: this %s holds %d comparisons of two values that are not literals "+
				"across its clauses (a when value counts as one, plus those it holds); at most %d: split it", b.SourceLoc.LineNo, b.Name, count, maxBlockComparisons)
		}
		return nil
	})
}

// walkTemplate calls visit on every node of a parsed template, a block
// before its body and then its clauses (each a block), stopping at the
// first error.
func walkTemplate(n render.Node, visit func(render.Node) error) error {
	if err := visit(n); err != nil {
		return err
	}
	var children []render.Node
	switch n := n.(type) {
	case *render.SeqNode:
		children = n.Children
	case *render.BlockNode:
		children = n.Body
		for _, c := range n.Clauses {
			children = append(children[:len(children):len(children)], c)
		}
	}
	for _, c := range children {
		if err := walkTemplate(c, visit); err != nil {
			return err
		}
	}
	return nil
}

// maxTrimmedRun bounds the outputs of values the engine holds back in a
// row. After a right trim ({{ a -}}) the engine keeps what is written next
// in memory, to trim it, and with another right trim right after that,
// keeps on keeping: a thousand {{ a -}} of a 1 MB value held 2.8 GB before
// the bound on output saw any of it. Text, tags and outputs of a literal
// ({{ "." -}}) are held too but are no larger than the template: they go
// on with a run without counting.
const maxTrimmedRun = 4

// checkTrimRuns refuses a template that may have the engine hold more than
// maxTrimmedRun outputs of values at once, or hold more with every pass of
// a loop, following the order the engine renders in. How the engine's trim
// writer holds: after a right trim ({{ a -}}), the next write is kept in
// memory (to trim it) and the trim is taken up; a write with no trim
// pending writes out what was held; a value may be nil, which writes
// nothing and so neither takes up the trim nor writes out; a left trim
// writes out what was held; and each block body, and each pass of a loop,
// writes out what was held at its end, unless a break or continue leaves
// it early. (Found by reviews: a nil value taken for a write, and
// continue's skipped write-out, let {{ v -}}{{ x }}{{ "." -}} and
// {% for %}{{ v -}}{% continue %} hold gigabytes; so did text held at
// every continue.)
func checkTrimRuns(root render.Node) error {
	w := &trimWalk{visits: maxTrimVisits}
	_, _, err := w.run(root, trimState{p: noHeld, n: heldNothing})
	return err
}

// maxTrimVisits bounds the nodes checkTrimRuns visits: a loop's body is
// followed until what it holds stops growing, so nested loops multiply.
const maxTrimVisits = 1_000_000

// maxTrimTexts bounds the writes of text or tags a loop may hold from
// pass to pass before it is taken to hold more with every pass.
const maxTrimTexts = 16

// held is what the trim writer may hold: outputs of values, and writes of
// text, literals or tags; vals -1 when the case cannot arise.
type held struct{ vals, texts int }

var (
	noHeld      = held{-1, -1}
	heldNothing = held{0, 0}
)

func (h held) ok() bool { return h.vals >= 0 }

func (h held) or(o held) held {
	if !h.ok() {
		return o
	}
	if !o.ok() {
		return h
	}
	return held{max(h.vals, o.vals), max(h.texts, o.texts)}
}

// trimState is where a rendering may stand: what is held when a right
// trim may still be pending (p), and when none is (n).
type trimState struct{ p, n held }

var noTrimState = trimState{noHeld, noHeld}

func (s trimState) merge(o trimState) trimState { return trimState{s.p.or(o.p), s.n.or(o.n)} }

// wroteOut is s after what was held is written out.
func (s trimState) wroteOut() trimState {
	out := noTrimState
	if s.p.ok() {
		out.p = heldNothing
	}
	if s.n.ok() {
		out.n = heldNothing
	}
	return out
}

// after is s after a write that may also be nothing (a nil value, an
// empty raw, a tag): one more value held when value, else a text.
func (s trimState) after(value bool) trimState {
	one := held{0, 1}
	if value {
		one = held{1, 0}
	}
	out := trimState{p: s.p, n: noHeld} // nothing written: as it was
	if s.n.ok() {
		out.n = s.n.or(one) // written after what was held went out, or nothing
	}
	if s.p.ok() {
		out.n = out.n.or(held{s.p.vals + one.vals, s.p.texts + one.texts}) // kept with what was held
	}
	return out
}

// written is s after a write of text or a literal: kept when a trim was
// pending, else written after what was held went out.
func (s trimState) written() trimState {
	out := noTrimState
	if s.n.ok() {
		out.n = held{0, 1}
	}
	if s.p.ok() {
		out.n = out.n.or(held{s.p.vals, s.p.texts + 1})
	}
	return out
}

// trimExits are the states in which break and continue leave a body.
type trimExits struct{ brk, cont trimState }

var noTrimExits = trimExits{noTrimState, noTrimState}

func (x trimExits) merge(o trimExits) trimExits {
	return trimExits{x.brk.merge(o.brk), x.cont.merge(o.cont)}
}

// trimWalk follows a template through checkTrimRuns, visits bounded.
type trimWalk struct{ visits int }

var errTrimTooComplex = invalid("body_template", "the template's loops nest too deep to check: nest fewer")

func (w *trimWalk) run(n render.Node, st trimState) (trimState, trimExits, error) {
	if w.visits--; w.visits < 0 {
		return st, noTrimExits, errTrimTooComplex
	}
	switch n := n.(type) {
	case *render.SeqNode:
		end, exits, err := w.runAll(n.Children, st)
		return end.wroteOut(), exits, err
	case *render.TrimNode:
		if n.TrimDirection == parser.Right {
			return trimState{p: st.p.or(st.n), n: noHeld}, noTrimExits, nil
		}
		return st.wroteOut(), noTrimExits, nil // a left trim writes out what was held
	case *render.BlockNode:
		return w.block(n, st)
	case *render.ObjectNode:
		if isLiteral(withoutStrings(n.Args)) && !strings.Contains(n.Args, "|") {
			if nilLiteral.MatchString(n.Args) {
				return st, noTrimExits, nil // writes nothing
			}
			return st.written(), noTrimExits, nil
		}
		st = st.after(true)
		if max(st.p.vals, st.n.vals) > maxTrimmedRun {
			return st, noTrimExits, invalid("body_template", "line %d: more than %d outputs of values in a row, each right after a right trim "+
				"({{ x -}}{{ y -}}…), in %s: the engine holds them in memory; put text or a left trim ({{- y }}) between them",
				n.SourceLoc.LineNo, maxTrimmedRun, n.Source)
		}
		return st, noTrimExits, nil
	case *render.TagNode:
		switch n.Name {
		case "assign":
			return st, noTrimExits, nil // writes nothing
		case "break":
			return noTrimState, trimExits{brk: st, cont: noTrimState}, nil // leaves the loop without writing out
		case "continue":
			return noTrimState, trimExits{brk: noTrimState, cont: st}, nil // leaves the pass without writing out
		}
		return st.after(false), noTrimExits, nil // a tag may write a little, or nothing
	case *render.TextNode:
		if strings.TrimSpace(n.Source) == "" {
			// White space written after a right trim is trimmed away
			// whole, and written with none pending writes out what was
			// held: it holds nothing.
			return st.written().wroteOut(), noTrimExits, nil
		}
		return st.written(), noTrimExits, nil
	case *render.RawNode:
		return st.after(false), noTrimExits, nil // an empty raw writes nothing
	}
	return st, noTrimExits, nil
}

// block follows a block: one of its ways through renders, the worst
// counts (none, when a condition holds for no branch or a loop has no
// pass). A body that renders to its end writes out what it held.
func (w *trimWalk) block(n *render.BlockNode, st trimState) (trimState, trimExits, error) {
	end, exits := st, noTrimExits
	if n.Name == "for" || n.Name == "tablerow" {
		// A pass left by continue does not write out: the next pass goes
		// on from it, so passes are followed until what a pass starts
		// with stops growing. A pass left by break, or the last, does not
		// write out either: what follows the loop goes on from it.
		entry := st
		for round := 0; ; round++ {
			e, x, err := w.runAll(n.Body, entry)
			if err != nil {
				return e, exits, err
			}
			next := entry.merge(e.wroteOut()).merge(x.cont)
			if next == entry {
				end = end.merge(e.wroteOut()).merge(x.cont).merge(x.brk)
				break
			}
			if round >= 8 || max(next.p.texts, next.n.texts) > maxTrimTexts {
				return next, exits, invalid("body_template", "line %d: a loop that continues right after a right trim "+
					"holds what each pass wrote, in %s: put text or a left trim ({{- y }}) before the continue",
					n.SourceLoc.LineNo, n.Source)
			}
			entry = next
		}
	} else if n.Name != "case" { // a case's body before its first when never renders
		e, x, err := w.runAll(n.Body, st)
		if err != nil {
			return e, exits, err
		}
		end, exits = end.merge(e.wroteOut()), exits.merge(x)
	}
	for _, c := range n.Clauses {
		e, x, err := w.runAll(c.Body, st) // a loop's else runs once, outside it
		if err != nil {
			return e, exits, err
		}
		end, exits = end.merge(e.wroteOut()), exits.merge(x)
	}
	return end, exits, nil
}

func (w *trimWalk) runAll(nodes []render.Node, st trimState) (trimState, trimExits, error) {
	exits := noTrimExits
	for _, c := range nodes {
		var x trimExits
		var err error
		if st, x, err = w.run(c, st); err != nil {
			return st, exits, err
		}
		exits = exits.merge(x)
	}
	return st, exits, nil
}

// templateError places a Liquid error. Liquid reports the line and the
// markup at fault ("... in {{ x | nope }}"); the column is where that markup
// starts on the line.
func templateError(src string, err error) *ValidationError {
	msg := err.Error()
	line := 0
	var se liquid.SourceError
	if errors.As(err, &se) {
		line = se.LineNumber()
	}
	if i := strings.Index(msg, "): "); strings.HasPrefix(msg, "Liquid error") && i > 0 {
		msg = msg[i+3:]
	}
	msg = heraldFilterError.ReplaceAllString(msg, "$1") // the step and check nodes are Herald's, not the template's
	// The markup is one of the template's own (the caller checked its
	// markup closed, so scanning it is cheap), named at the end of the
	// message's first line; the message may quote a value of megabytes
	// (a filter's argument it could not convert), so it is looked for
	// among the template's markup, not at every " in " of the message.
	first, _, _ := strings.Cut(msg, "\n")
	markup := ""
	for _, tok := range parsedMarkup(src) {
		if len(tok.Source) > len(markup) && strings.HasSuffix(first, " in "+tok.Source) {
			markup = tok.Source
		}
	}
	line, col := markupPlace(src, line, markup)
	if len(msg) > maxTemplateErrorBytes {
		// The value a message quotes can be megabytes: the head says what
		// went wrong, the markup where.
		head := msg[:maxTemplateErrorBytes/2]
		for !utf8.ValidString(head) {
			head = head[:len(head)-1]
		}
		msg = head + " … (cut)"
		if markup != "" {
			msg += " in " + markup
		}
	}
	return invalid("body_template", "line %d, column %d: %s", line, col, msg)
}

// maxTemplateErrorBytes bounds a template error's message, which is
// answered and kept with a failed attempt.
const maxTemplateErrorBytes = 2048

// heraldFilterError is how Liquid reports an error of Herald's step or
// check filter.
var heraldFilterError = regexp.MustCompile(`error applying filter "(?:` + stepFilter + `|` + checkFilter + `)" \("(.*?)"\)`)

// renderedJSONError places invalid JSON in the rendered body.
func renderedJSONError(out []byte, err error) *ValidationError {
	offset := len(out)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = int(se.Offset)
	}
	offset = max(0, min(offset, len(out)))
	before := out[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col := utf8.RuneCount(before[lineStart:])
	lineEnd := bytes.IndexByte(out[lineStart:], '\n')
	if lineEnd < 0 {
		lineEnd = len(out) - lineStart
	}
	shown := string(out[lineStart : lineStart+lineEnd])
	if len(shown) > 120 {
		shown = shown[:120] + "…"
	}
	return invalid("body_template", "renders invalid JSON at line %d, column %d of the rendered body (%v): %s "+
		"(output strings with the json filter, e.g. {{ contact.email | json }})", line, max(col, 1), err, shown)
}

// sampleItem is the event a test request sends and a template is checked
// against when saved: realistic, marked "test": true. Field order is the
// payload format's.
type sampleItem struct {
	DeliveryID    string         `json:"delivery_id"`
	Test          bool           `json:"test"`
	WebhookName   string         `json:"webhook_name"`
	MsgID         string         `json:"msgid"`
	Channel       string         `json:"channel"`
	Event         string         `json:"event"`
	JourneyName   string         `json:"journey_name"`
	EventParams   map[string]any `json:"event_params"`
	CustomParams  map[string]any `json:"custom_params"`
	AttParams     map[string]any `json:"att_params"`
	PayloadParams map[string]any `json:"payload_params"`
}

// SampleItem is the sample event of a test request, at now.
func SampleItem(webhookName string, now time.Time) []byte {
	if webhookName == "" {
		webhookName = "Untitled webhook"
	}
	now = now.UTC()
	t := now.Year()%100*10000 + int(now.Month())*100 + now.Day()
	c := now.Hour()*10000 + now.Minute()*100 + now.Second()
	it := sampleItem{
		DeliveryID: "dlv_test_" + NewULID(now).String(), Test: true, WebhookName: webhookName,
		MsgID: "546", Channel: "email", Event: "open", JourneyName: "Herald test",
		EventParams: map[string]any{
			"ip_addr":    "106.51.148.72",
			"email":      "test.user@example.com",
			"timestamp":  now.Format("2006-01-02T15:04:05"),
			"ts":         int64(t)*1_000_000 + int64(c), // yyMMddHHmmss
			"foreignkey": "test.user@example.com",
		},
		CustomParams:  map[string]any{"Action": "Herald test"},
		AttParams:     map[string]any{"EMAIL": "test.user@example.com", "FIRSTNAME": "Test", "CITY": "Pune"},
		PayloadParams: map[string]any{},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(it)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// SampleContact is the contact of the sample event, as TemplateContacts
// loads one: the sample's attributes and a few more, and its identity.
func SampleContact() map[string]any {
	return map[string]any{
		"EMAIL": "test.user@example.com", "FIRSTNAME": "Test", "LASTNAME": "User", "CITY": "Pune", "COUNTRY": "India",
		"MOBILE": "+919800000000", "SCORE": json.Number("42"), "PLAN": "gold",
		"email": "test.user@example.com", "phone": "+919800000000", "external_id": "test-user-1",
	}
}

// checkTemplate refuses a template that cannot render the sample event, or
// renders invalid JSON for a JSON content type.
func (s *WebhookSpec) checkTemplate() error {
	if strings.TrimSpace(s.BodyTemplate) == "" {
		return invalid("body_template", "is required when body_format is template")
	}
	if len(s.BodyTemplate) > maxTemplateBytes {
		return invalid("body_template", "is longer than %d bytes", maxTemplateBytes)
	}
	vars := TemplateVars("sample_panel", s.Label, [][]byte{SampleItem(s.Label, time.Now())}, []map[string]any{SampleContact()})
	_, err := RenderBodyTemplate(s.BodyTemplate, s.TemplateType(), vars)
	return err
}

// ValidateFormat checks the body format and signature fields.
func (s *WebhookSpec) ValidateFormat() error {
	// Empty fields are their defaults: a spec built in code need not name them.
	switch s.BodyFormat {
	case "", BodyForm, BodyJSON, BodyTemplate:
	default:
		return invalid("body_format", "must be form, json or template")
	}
	if s.sendsAsJSONBody() && s.Method != MethodPost {
		return invalid("body_format", "%s needs method POST (GET sends only the form's data= in the query string)", s.BodyFormat)
	}
	if s.TemplateContentType != "" && s.TemplateContentType != ContentTypeJSON && s.TemplateContentType != ContentTypeForm {
		return invalid("template_content_type", "must be %s or %s", ContentTypeJSON, ContentTypeForm)
	}
	if s.BodyFormat == BodyTemplate {
		if err := s.checkTemplate(); err != nil {
			return err
		}
	} else if len(s.BodyTemplate) > maxTemplateBytes {
		return invalid("body_template", "is longer than %d bytes", maxTemplateBytes)
	}
	switch s.SignatureScheme {
	case "", SignatureStandard, SignatureHMAC:
	default:
		return invalid("signature_scheme", "must be %s or %s", SignatureStandard, SignatureHMAC)
	}
	header := s.SignatureHeaderName()
	lower := strings.ToLower(header)
	switch {
	case !isToken(header):
		return invalid("signature_header", "%q is not a valid header name", header)
	case reservedHeaders[lower] || lower == "authorization" || lower == strings.ToLower(TimestampHeader):
		return invalid("signature_header", "%s is set by Herald or HTTP and cannot carry the signature", header)
	}
	if s.SignatureScheme == SignatureHMAC {
		for i, h := range s.Headers {
			if l := strings.ToLower(h.Name); l == lower || l == strings.ToLower(TimestampHeader) {
				return invalid(fmt.Sprintf("headers[%d].name", i), "%s carries the hmac-sha256 signature and cannot be set", h.Name)
			}
		}
	}
	return nil
}

// applyFormat merges the format and signature fields of an input. A blank
// signature header is the default one; the template keeps its text as
// typed (whitespace is part of a body).
func (in *WebhookInput) applyFormat(spec *WebhookSpec) {
	trimmed := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	trimmed(&spec.BodyFormat, in.BodyFormat)
	trimmed(&spec.TemplateContentType, in.TemplateContentType)
	trimmed(&spec.SignatureScheme, in.SignatureScheme)
	trimmed(&spec.SignatureHeader, in.SignatureHeader)
	if in.BodyTemplate != nil {
		spec.BodyTemplate = *in.BodyTemplate
	}
	if spec.SignatureHeader == "" {
		spec.SignatureHeader = DefaultSignatureHeader
	}
	if spec.BodyFormat == "" {
		spec.BodyFormat = BodyForm
	}
	if spec.TemplateContentType == "" {
		spec.TemplateContentType = ContentTypeJSON
	}
	if spec.SignatureScheme == "" {
		spec.SignatureScheme = SignatureStandard
	}
}
