// SPDX-License-Identifier: BSD-2-Clause

package genid

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeExample builds and runs the example of README.md against the
// real genid.
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no Go example")
	}
	code := string(m[1])
	body := code[strings.Index(code, "func main() {"):]
	if n := strings.Count(body, "\n") - 2; n > 10 {
		t.Errorf("the example's main has %d lines, more than ten", n)
	}
	h := startHelper(t, caseServer{Genid: []string{"--machine", "5"}})
	// The example talks to 127.0.0.1:3778; here genid has a port of its own.
	code = strings.Replace(code, "127.0.0.1:3778", h.addr(), 1)
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The example imports the module by the path in go.mod, taken from
	// this folder.
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	modPath := strings.TrimPrefix(strings.SplitN(string(gomod), "\n", 2)[0], "module ")
	mod := "module example\n\ngo 1.19\n\nrequire " + modPath + " v0.0.0\n\nreplace " + modPath + " => " + here + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run of the README example: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`^\d+: \{Timestamp:\d+ Zone:3 DC:2 Machine:5 Bucket:\d+ Counter:\d+\} at 20\d\d-\d\d-\d\d `).Match(out) {
		t.Fatalf("the README example printed %q", out)
	}
}
