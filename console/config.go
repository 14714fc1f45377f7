package console

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"jinyin/config"
	"jinyin/internal/fsutil"
)

// The configuration commands work on the file the box was started with:
// config set stages a change (checked at once against the whole file),
// config save writes the file with the staged changes (atomically, the
// previous file kept as FILE.prev), config reload restarts the box on the
// file. The box's --set flags stay in force over the file.

func (c *Console) source() (name string, data []byte, err error) {
	if c.o.ConfigFile == "" {
		return config.DefaultName, config.Default(), nil
	}
	data, err = os.ReadFile(c.o.ConfigFile)
	return c.o.ConfigFile, data, err
}

// load validates the file with the box's --set flags and the staged
// changes, plus extra.
func (c *Console) load(extra ...string) (*config.Config, error) {
	name, data, err := c.source()
	if err != nil {
		return nil, err
	}
	sets := append(append(append([]string(nil), c.o.Sets...), c.staged...), extra...)
	return config.Load(name, data, sets, c.o.Env)
}

func issuesText(err error) string {
	var is config.Issues
	if errors.As(err, &is) {
		return is.Error() + "\n"
	}
	return err.Error() + "\n"
}

func (c *Console) configCheck(args []string) (string, error) {
	if _, err := c.load(); err != nil {
		return "", errors.New("the configuration has problems:\n" + issuesText(err))
	}
	name, _, _ := c.source()
	out := name + ": ok"
	if len(c.staged) > 0 {
		out += fmt.Sprintf(", with %d change(s) not saved: %s", len(c.staged), strings.Join(c.staged, " "))
	}
	return out + "\n", nil
}

func (c *Console) configSet(args []string) (string, error) {
	if len(args) < 2 {
		return "", fmt.Errorf("usage: config set KEY VALUE (e.g. config set sip.max_calls 500)")
	}
	set := args[0] + "=" + strings.Join(args[1:], " ")
	if _, err := c.load(set); err != nil {
		return "", errors.New("not set:\n" + issuesText(err))
	}
	c.staged = append(c.staged, set)
	c.o.Log.Info("console: config change staged", "set", set)
	return fmt.Sprintf("%s staged; config save writes it, config reload applies it\n", set), nil
}

func (c *Console) configSave(args []string) (string, error) {
	if c.o.ConfigFile == "" {
		return "", fmt.Errorf("the box runs on the embedded default: start it with --config FILE to save a configuration")
	}
	cfg, err := c.load()
	if err != nil {
		return "", errors.New("not saved:\n" + issuesText(err))
	}
	if old, err := os.ReadFile(c.o.ConfigFile); err == nil {
		if err := fsutil.WriteFileAtomic(c.o.ConfigFile+".prev", old, 0o640); err != nil {
			return "", err
		}
	}
	if err := fsutil.WriteFileAtomic(c.o.ConfigFile, []byte(config.Text(cfg)), 0o640); err != nil {
		return "", err
	}
	c.o.Log.Info("console: config saved", "file", c.o.ConfigFile, "changes", c.staged)
	c.staged = nil
	return fmt.Sprintf("saved %s (the previous one is %s.prev)\n", c.o.ConfigFile, c.o.ConfigFile), nil
}

func (c *Console) configReload(args []string) (string, error) {
	if _, err := c.load(); err != nil {
		return "", errors.New("not reloaded:\n" + issuesText(err))
	}
	if len(c.staged) > 0 {
		return "", fmt.Errorf("%d change(s) are staged: config save them first, or they are lost", len(c.staged))
	}
	c.restarting = true
	c.o.Restart("config reload")
	return "reloading: calls are ended, the box restarts on the file\n", nil
}
