// Command herald is Herald's one binary: the HTTP server, the task worker,
// the scheduler, migrations and small admin commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/heraldhq/herald/models"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `herald — outbound webhook delivery for customer journeys

Usage:
  herald <command> [flags]

Run:
  all          HTTP server, worker and scheduler in one process; migrates first
  serve        HTTP server: admin API, UI and ingest API
  worker       task worker: sends batches, runs journey timers and alert mail
  scheduler    periodic jobs; one leader among any number of replicas
  migrate      create the database if missing and apply migrations

Admin:
  panel create --name NAME                       create a panel (workspace)
  token create --panel NAME                      print a new admin API token
  ingest-key create --panel NAME                 print a new ingest key (sk_live_...)
  user create --panel NAME --email E --password P
                                                 a web UI user: creates the panel and the user
                                                 if needed, sets the password, adds the user to
                                                 the panel; prints the e-mail address
  version                                        print the version

Every setting comes from HERALD_* environment variables (see README.md).
Run "herald <command> --help" for a command's flags.
`

func main() {
	if percent, ok := gcPercent(os.Getenv("GOGC")); ok {
		debug.SetGCPercent(percent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	var ce *configError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ce):
		fmt.Fprintln(os.Stderr, "herald: configuration: "+ce.Error())
		os.Exit(2)
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "herald: "+err.Error())
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "herald: "+err.Error())
		os.Exit(1)
	}
}

// defaultGCPercent is the garbage collector's target when GOGC is not set:
// the heap may grow to four times what is live (Go's default is twice).
// Herald allocates a great deal per event for little it keeps, so the
// collector ran often: at 300, make bench's batched scenario spent about a
// fifth less of Herald's CPU per event (0.073-0.077 s per 1,000 against
// 0.057-0.058 s, two runs each) for 165-176 MiB of peak memory instead of
// 98-101 MiB. GOGC, and GOMEMLIMIT for a ceiling, still decide when set.
const defaultGCPercent = 300

// gcPercent says what to set the garbage collector's target to, given
// the GOGC environment variable: Herald's default when it is unset, and
// nothing (ok false) when it is set, as the Go runtime reads it itself.
func gcPercent(gogc string) (percent int, ok bool) {
	if gogc != "" {
		return 0, false
	}
	return defaultGCPercent, true
}

var errUsage = errors.New("usage")

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s (see herald --help)", errUsage, fmt.Sprintf(format, args...))
}

// run dispatches a command line; it is main without the process around it,
// so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		_, err := fmt.Fprint(stdout, usage)
		return err
	}
	cmd, rest := args[0], args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && (cmd == "panel" || cmd == "token" || cmd == "ingest-key" || cmd == "user") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "all", "serve", "worker", "scheduler":
		return runService(ctx, cmd, rest, getenv, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stderr)
	case "panel create":
		return runPanelCreate(ctx, rest, getenv, stdout, stderr)
	case "token create":
		return runTokenCreate(ctx, rest, getenv, stdout, stderr, models.TokenAdmin)
	case "ingest-key create":
		return runTokenCreate(ctx, rest, getenv, stdout, stderr, models.TokenIngest)
	case "user create":
		return runUserCreate(ctx, rest, getenv, stdout, stderr)
	case "version":
		_, err := fmt.Fprintln(stdout, "herald "+version)
		return err
	}
	return usageErr("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
}

// newFlags makes a command's flag set with a usage text of its own.
func newFlags(name, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	// A usage text that cannot be written has nowhere to say so; flag's
	// own PrintDefaults ignores its write errors too.
	fs.Usage = func() {
		_, _ = fmt.Fprintf(stderr, "Usage: herald %s [flags]\n\n%s\n", name, summary)
		if hasFlags(fs) {
			_, _ = fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
		_, _ = fmt.Fprintln(stderr, "\nSettings come from HERALD_* environment variables; see README.md.")
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// newLogger builds the process logger from the configuration.
func newLogger(c *config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
