package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"jinyin/store"
	"jinyin/web"
)

// cmdPasswd sets a wallboard/API account's password in a stopped box's
// database; the password is the first line of standard input. There is
// no default account: this or the console's `web passwd` makes the first.
func cmdPasswd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("passwd", stderr)
	data := fs.String("data", "jinyin-data", "data `DIR` of the box")
	role := fs.String("role", web.Supervisor, "`ROLE`: supervisor (may act) or viewer (only looks)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: jinyin passwd [--data DIR] [--role supervisor|viewer] USER < password")
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return fmt.Errorf("reading the password from standard input: %v", err)
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	db, err := store.Open(filepath.Join(*data, "jinyin.db"))
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: the box is running; use its console's `web passwd`", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if err := web.SetPassword(db, fs.Arg(0), *role, strings.TrimRight(line, "\r\n")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s): password set\n", fs.Arg(0), *role)
	return nil
}
