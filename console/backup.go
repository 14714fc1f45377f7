package console

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// A backup is a gzipped tar of the configuration and the database, shown
// on the console as base64 between these lines, with its SHA-256 so that
// a paste cut short is refused.
const (
	backupBegin = "-----BEGIN JINYIN BACKUP-----"
	backupEnd   = "-----END JINYIN BACKUP-----"
)

func (c *Console) backup(args []string) (string, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: int64(len(data)), ModTime: c.o.Clock.Now()}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	_, cfg, err := c.source()
	if err != nil {
		return "", err
	}
	if err := add("jinyin.toml", cfg); err != nil {
		return "", err
	}
	var db bytes.Buffer
	if err := c.o.DB.Backup(&db); err != nil {
		return "", err
	}
	if err := add("jinyin.db", db.Bytes()); err != nil {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := gz.Close(); err != nil {
		return "", err
	}
	enc := base64.StdEncoding.EncodeToString(buf.Bytes())
	var out strings.Builder
	out.WriteString(backupBegin + "\n")
	for len(enc) > 76 {
		out.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	fmt.Fprintf(&out, "%s\n%s\nsha256 %x, %d bytes: capture it with your terminal's log (picocom --logfile)\n", enc, backupEnd, sha256.Sum256(buf.Bytes()), buf.Len())
	return out.String(), nil
}

// readBackup decodes a pasted backup and checks that it holds a config
// and a database.
func readBackup(lines []string) (map[string][]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
	if err != nil {
		return nil, fmt.Errorf("not a backup: %v", err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not a backup: %v", err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the backup is cut short or damaged: %v", err)
		}
		data, err := io.ReadAll(io.LimitReader(tr, 1<<30))
		if err != nil {
			return nil, fmt.Errorf("the backup is cut short or damaged: %v", err)
		}
		files[h.Name] = data
	}
	if files["jinyin.toml"] == nil || files["jinyin.db"] == nil {
		return nil, fmt.Errorf("the backup lacks jinyin.toml or jinyin.db")
	}
	return files, nil
}

// restore reads a pasted backup, checks it, and hands it to the box,
// which puts it in place while stopped and restarts.
func (c *Console) restore(stop <-chan struct{}) error {
	c.write("Paste the backup, from its BEGIN line to its END line.\n")
	var lines []string
	started := false
	for {
		e := &editor{hidden: true} // a paste is not echoed back
		l, err := c.readLine(stop, e, nil, nil)
		if err != nil {
			return err
		}
		l = strings.TrimSpace(l)
		switch {
		case l == backupBegin:
			started = true
		case l == backupEnd:
			files, err := readBackup(lines)
			if err != nil {
				return err
			}
			if !c.confirm(stop, "Replace the configuration and all data with this backup and restart? Type yes: ", "yes") {
				return fmt.Errorf("nothing restored")
			}
			if err := c.o.Restore(files["jinyin.toml"], files["jinyin.db"]); err != nil {
				return err
			}
			c.write("restoring; restarting\n")
			return nil
		case started && l != "":
			lines = append(lines, l)
		}
	}
}
