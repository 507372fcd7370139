// Package browsertest drives the web UI in a real browser: Debian's
// Chromium under chromedp, against a whole Herald (apptest) on a fresh
// database, with loopback receivers. One headless browser serves every
// test of the package; each test gets its own browser context (its own
// cookies) and tab, so the tests run in parallel.
//
// Without Chromium the tests skip, except under CI=true, where a missing
// browser fails the run. Screenshots of the main pages are written to
// testdata/artifacts/ at the top of the repository.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/app/apptest"
)

// testTimeout bounds one test's browsing, the race detector included.
const testTimeout = 2 * time.Minute

// Laptop is the viewport of the screenshots; tablet the narrow one.
var (
	laptop = [2]int64{1366, 900}
	tablet = [2]int64{820, 1180}
)

// browser is the one Chromium of the package, started by the first test
// that needs it and stopped by TestMain.
var browser struct {
	once    sync.Once
	ctx     context.Context
	stop    func()
	dataDir string
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	if browser.dataDir != "" {
		_ = os.RemoveAll(browser.dataDir)
	}
	os.Exit(code)
}

// chromiumPath finds the browser: HERALD_CHROMIUM, else Debian's chromium.
func chromiumPath() string {
	if p := os.Getenv("HERALD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser(path string) {
	dir, err := os.MkdirTemp("", "herald-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	browser.dataDir = dir
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(int(laptop[0]), int(laptop[1])),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	// The first run starts the browser, which lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		browser.err = fmt.Errorf("start %s: %w", path, err)
		return
	}
	browser.ctx, browser.stop = ctx, func() { cancelCtx(); cancelAlloc() }
}

// tab opens a tab in a browser context of its own (no cookies shared with
// other tests), closed when the test ends, and bounded by testTimeout.
func tab(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but Chromium is missing: install it (apt-get install chromium) or set HERALD_CHROMIUM")
		}
		t.Skip("Chromium not found (apt-get install chromium, or set HERALD_CHROMIUM); browser tests skipped")
	}
	browser.once.Do(func() { startBrowser(path) })
	if browser.err != nil {
		t.Fatalf("browser: %v", browser.err)
	}
	ctx, closeTab := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(laptop[0], laptop[1])); err != nil {
		closeTab()
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	t.Cleanup(func() { cancel(); closeTab() })
	return ctx
}

// do runs browser steps and fails the test, with a screenshot of where it
// stood, when one fails.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		shot(t, context.WithoutCancel(ctx), "failure")
		t.Fatal(err)
	}
}

// submit runs browser steps that end by loading a page (a form posted, a
// link followed) and waits for that page, so what follows reads the new
// page and not the old one.
func submit(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := chromedp.RunResponse(ctx, steps...); err != nil {
		shot(t, context.WithoutCancel(ctx), "failure")
		t.Fatal(err)
	}
}

// get runs one browser step that reads a value.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		shot(t, context.WithoutCancel(ctx), "failure")
		t.Fatal(err)
	}
	return v
}

// text is the visible text of the first element matching a CSS selector.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return strings.TrimSpace(get(t, ctx, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible)))
}

// waitText waits until the element matching css contains want. The page
// polls (chromedp.Poll); a navigation ends that poll, so it starts again
// on the next page once its body is there: the page it waits for may be
// the next one.
func waitText(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	text := fmt.Sprintf(`document.querySelector(%q)?.textContent ?? "(none)"`, css)
	cond := fmt.Sprintf(`(%s).includes(%q)`, text, want)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		err := chromedp.Do(ctx, chromedp.WaitReady("body"))
		if err == nil {
			_, err = chromedp.Run(ctx, chromedp.Poll[bool](cond,
				chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline))))
		}
		if err == nil {
			return
		}
	}
	got, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](text))
	shot(t, context.WithoutCancel(ctx), "failure")
	t.Fatalf("waiting for %q in %s; it reads %q", want, css, got)
}

// signIn opens the sign-in page and signs in.
func signIn(t *testing.T, ctx context.Context, env *apptest.Env, email, password string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(env.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`header.topbar`)))
}

// shot keeps a full-page screenshot of the tab as a test artifact.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := fullPage(ctx)
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := artifactDir(t)
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// fullPage captures the whole page: the viewport is stretched to the
// page's height for the capture and put back after. (Chromium's own
// capture beyond the viewport stalled on pages with sticky panels.)
func fullPage(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[3]int64](`window.scrollTo(0, 0), [window.innerWidth, window.innerHeight,
		Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)]`))
	if err != nil {
		return nil, err
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], max(size[1], size[2]))); err != nil {
		return nil, err
	}
	// Two frames, so the page is laid out and painted at its new size.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`, chromedp.EvalAwaitPromise)); err != nil {
		return nil, err
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1])); err != nil {
		return nil, err
	}
	return png, err
}

// artifactDir is testdata/artifacts at the top of the repository (ignored
// by git), where CI and people find the screenshots.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
	out := filepath.Join(dir, "testdata", "artifacts")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// optionValue is the value of the option of the select sel that reads label.
func optionValue(t *testing.T, ctx context.Context, sel, label string) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(
		`[...document.querySelectorAll(%q)].find((o) => o.textContent.trim() === %q)?.value ?? ""`, sel+" option", label)))
}
