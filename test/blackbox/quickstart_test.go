package blackbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// step is one command block of the README's quick start and the answer
// shown after it, if any.
type step struct {
	script, answer string
}

// quickStart reads the ```sh blocks of the README's quick start, each with
// the ```json block that follows it before the next command block.
func quickStart(t *testing.T) []step {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Quick start")
	if !ok {
		t.Fatal(`README.md has no "## Quick start" section`)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var steps []step
	for rest := section; ; {
		_, after, ok := strings.Cut(rest, "\n```")
		if !ok {
			break
		}
		lang, block, _ := strings.Cut(after, "\n")
		body, next, ok := strings.Cut(block, "\n```")
		if !ok {
			t.Fatalf("README.md: an unclosed ``` block in the quick start")
		}
		switch lang {
		case "sh":
			steps = append(steps, step{script: body})
		case "json":
			if len(steps) == 0 || steps[len(steps)-1].answer != "" {
				t.Fatalf("README.md: a ```json block that follows no command in the quick start:\n%s", body)
			}
			steps[len(steps)-1].answer = body
		}
		rest = next
	}
	if len(steps) == 0 {
		t.Fatal("README.md: the quick start has no ```sh block")
	}
	return steps
}

// TestReadmeQuickStart runs the README's quick start in bash, as a reader
// would after `make run`: from a folder holding bin/relkey, against the
// server serving the embedded store in ./data there. Each command's output
// must have the shape of the answer shown after it.
func TestReadmeQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's quick start needs %s on PATH (make test installs jq): %v", tool, err)
		}
	}
	steps := quickStart(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(dir, "bin", "relkey")); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RELKEY_") {
			env = append(env, kv)
		}
	}
	r := &installation{t: t, env: append(env, "RELKEY_DATA_DIR="+filepath.Join(dir, "data"), "RELKEY_LOG_LEVEL=warn")}
	base := r.serve()

	// Steps are told apart in the output by a line printed before each.
	const marker = "\n=== quick start step ===\n"
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, s := range steps {
		fmt.Fprintf(&script, "printf '\\n=== quick start step ===\\n'\n%s\n", strings.ReplaceAll(s.script, "http://127.0.0.1:8080", base))
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	outputs := strings.Split(stdout.String(), marker)
	for i, s := range steps {
		if i+1 >= len(outputs) {
			t.Fatalf("the quick start stopped before step %d (%v):\n%s\nstderr:\n%s", i+1, runErr, s.script, stderr.String())
		}
		output := strings.TrimSpace(outputs[i+1])
		if s.answer == "" {
			if output != "" {
				t.Errorf("step %d prints, and the README shows no answer:\n%s\n%s", i+1, s.script, output)
			}
			continue
		}
		var want, got any
		if err := json.Unmarshal([]byte(s.answer), &want); err != nil {
			t.Fatalf("README.md: the answer of step %d is not JSON: %v\n%s", i+1, err, s.answer)
		}
		if err := json.Unmarshal([]byte(output), &got); err != nil || !hasShape(got, want) {
			t.Errorf("step %d:\n%s\nanswered\n  %s\nwhich is not what the README shows:\n  %s", i+1, s.script, output, s.answer)
		}
	}
	if runErr != nil {
		t.Fatalf("the quick start failed: %v\nstderr:\n%s", runErr, stderr.String())
	}
}

// ellipsis, in an abbreviated answer, stands for what is left out: "…" for
// any value, "x…" for any string beginning with x, and a "…" member for the
// members not shown.
const ellipsis = "…"

// hasShape reports whether got is the abbreviated answer want.
func hasShape(got, want any) bool {
	switch w := want.(type) {
	case string:
		if w == ellipsis {
			return true
		}
		g, ok := got.(string)
		if prefix, abbreviated := strings.CutSuffix(w, ellipsis); abbreviated {
			return ok && strings.HasPrefix(g, prefix)
		}
		return ok && g == w
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		if _, partial := w[ellipsis]; !partial && len(g) != len(w) {
			return false
		}
		for k, v := range w {
			if k == ellipsis {
				continue
			}
			if gv, present := g[k]; !present || !hasShape(gv, v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !hasShape(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}
