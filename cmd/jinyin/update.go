package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"time"

	"jinyin/store"
	"jinyin/update"
)

// cmdUpdate is the build side of updates: a key pair, signing a slot
// image, checking a bundle. Applying one is the running box's (HTTP,
// console).
func cmdUpdate(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("keygen, sign or verify")
	}
	switch args[0] {
	case "keygen":
		fs := newFlags("update keygen", stderr)
		out := fs.String("out", "update", "write the key pair to OUT.key (private) and OUT.pub (public, for the image)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		if _, err := os.Stat(*out + ".key"); err == nil {
			return fmt.Errorf("%s.key exists: a new key would orphan every box built with the old one", *out)
		}
		if err := os.WriteFile(*out+".key", []byte(base64.StdEncoding.EncodeToString(priv)+"\n"), 0o600); err != nil {
			return err
		}
		return os.WriteFile(*out+".pub", []byte(base64.StdEncoding.EncodeToString(pub)+"\n"), 0o644)
	case "sign":
		fs := newFlags("update sign", stderr)
		keyFile := fs.String("key", "update.key", "the private key")
		ver := fs.String("version", version, "the version the payload runs")
		board := fs.String("board", "cm4", "the board profile it is built for")
		out := fs.String("out", "", "the bundle to write")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 || *out == "" {
			return fmt.Errorf("usage: update sign --key FILE --version V --board B --out BUNDLE SLOT-IMAGE")
		}
		text, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		key, err := update.ParsePrivateKey(text)
		if err != nil {
			return err
		}
		payload, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer payload.Close()
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		m := update.Manifest{Version: *ver, Commit: commit, Board: *board, Schema: store.SchemaVersion(), Created: time.Now().UTC().Truncate(time.Second)}
		if err := update.Sign(f, key, m, payload); err != nil {
			f.Close()
			os.Remove(*out)
			return err
		}
		return f.Close()
	case "verify":
		fs := newFlags("update verify", stderr)
		keyFile := fs.String("key", "update.pub", "the public key")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: update verify --key FILE BUNDLE")
		}
		text, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		key, err := update.ParsePublicKey(text)
		if err != nil {
			return err
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		r, err := update.Open(f, key)
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		m := r.Manifest
		fmt.Fprintf(stdout, "%s: jinyin %s for %s, %d octets, store schema %d, signed %s: good\n", fs.Arg(0), m.Version, m.Board, m.Size, m.Schema, m.Created.Format(time.RFC3339))
		return nil
	}
	return fmt.Errorf("unknown update command %q: keygen, sign or verify", args[0])
}
