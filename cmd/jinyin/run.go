package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"jinyin/board"
	_ "jinyin/board/cm4"
	_ "jinyin/board/imx6"
	_ "jinyin/board/qemu"
	_ "jinyin/board/sim"
	"jinyin/box"
	"jinyin/config"
)

func defaultConfig() []byte { return config.Default() }

// loadConfig reads FILE (or the embedded default when file is "") and
// applies the --set overrides.
func loadConfig(file string, sets []string) (*config.Config, error) {
	name, data := config.DefaultName, config.Default()
	if file != "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, err
		}
		name = file
	}
	return config.Load(name, data, sets, box.Env(board.Env()))
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	file := fs.String("config", "", "config `FILE` to check")
	var sets setFlags
	fs.Var(&sets, "set", "override one key, `KEY=VALUE` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" && fs.NArg() == 1 {
		*file = fs.Arg(0)
	}
	if *file == "" {
		return fmt.Errorf("usage: jinyin check --config FILE")
	}
	if _, err := loadConfig(*file, sets); err != nil {
		return reportIssues(err, stdout)
	}
	fmt.Fprintf(stdout, "%s: ok\n", *file)
	return nil
}

// reportIssues prints a config's problems, one a line, to w and exits 1;
// another error is returned as it is.
func reportIssues(err error, w io.Writer) error {
	var issues config.Issues
	if !errors.As(err, &issues) {
		return err
	}
	for _, is := range issues {
		fmt.Fprintln(w, is)
	}
	return errExit(1)
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	file := fs.String("config", "", "config `FILE` (default: the embedded demo call centre)")
	data := fs.String("data", "jinyin-data", "data `DIR`: database, recordings, credentials")
	var sets setFlags
	fs.Var(&sets, "set", "override one key, `KEY=VALUE` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(*file, sets)
	if err != nil {
		if issues, ok := err.(config.Issues); ok {
			for _, is := range issues {
				fmt.Fprintln(stderr, is)
			}
			return fmt.Errorf("config has %d problem(s); nothing started", len(issues))
		}
		return err
	}
	log := newLogger(cfg.Log, stderr)
	if mb := cfg.Box.MemoryLimitMB; mb > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(mb) << 20)
	}
	box.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	for {
		b, err := box.New(cfg, *data, log, box.WithConfigFile(*file, sets))
		if err != nil {
			return err
		}
		if err := b.Run(ctx); !errors.Is(err, box.ErrRestart) {
			return err
		}
		// A restart from the console: the config file again, as it is now.
		if cfg, err = loadConfig(*file, sets); err != nil {
			return err
		}
	}
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
