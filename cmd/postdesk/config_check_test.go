package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/config"
)

// LoadConfig is config.Load, for the tests that load their env's file.
func LoadConfig(path string) (*config.Config, error) { return config.Load(path) }

// exampleForTest parses the embedded example, failing the test if it does not.
func exampleForTest(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse(config.Example())
	if err != nil {
		t.Fatalf("config.Parse(example): %v", err)
	}
	return c
}

// config check names the line and column of a problem found by Validate,
// like those found while decoding.
func TestConfigCheckPositionsValidationErrors(t *testing.T) {
	doc := strings.Replace(string(config.Example()), "\ntls = \"implicit\"\n", "\ntls = \"none\"\n", 1)
	doc = strings.Replace(doc, "\ntls = \"starttls\"\n", "\ntls = \"none\"\n", 1)
	path := filepath.Join(t.TempDir(), "postdesk.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"config", "check", "-config", path}, nil, &out, &errOut)
	if code == 0 {
		t.Fatalf("config check passed:\n%s", out.String())
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	var got []string
	for _, l := range lines {
		if strings.Contains(l, "clear text") {
			got = append(got, l)
		}
	}
	want := []string{lineOf(t, doc, "tls = \"none\"", 0), lineOf(t, doc, "tls = \"none\"", 1)}
	if len(got) != 2 || !strings.Contains(got[0], path+":"+want[0]+":1: mailbox[0].tls:") ||
		!strings.Contains(got[1], path+":"+want[1]+":1: smtp.tls:") {
		t.Fatalf("config check said:\n%s\nwant mailbox[0].tls at line %s and smtp.tls at line %s", errOut.String(), want[0], want[1])
	}
}

// lineOf is the line number (as text) of the n-th line of doc that is s.
func lineOf(t *testing.T, doc, s string, n int) string {
	t.Helper()
	for i, l := range strings.Split(doc, "\n") {
		if l == s {
			if n == 0 {
				return strconv.Itoa(i + 1)
			}
			n--
		}
	}
	t.Fatalf("no line %q", s)
	return ""
}
