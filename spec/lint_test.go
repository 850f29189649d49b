package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLint lints openapi.yaml, with the examples.yaml it refers to, with
// Redocly CLI at the version lint/package-lock.json pins, installed by
// npm ci into lint/node_modules (as test/clients installs the electron
// clients). Every error and warning fails; lint/redocly.yaml and
// lint/.redocly.lint-ignore.yaml say what is configured away and why.
func TestLint(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("linting the spec needs %s (Node.js with npm) on PATH: %v", tool, err)
		}
	}
	install := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	install.Dir = "lint"
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci (@redocly/cli at its pinned version): %v\n%s", err, out)
	}

	lint := exec.Command(filepath.Join("lint", "node_modules", ".bin", "redocly"), "lint",
		"--config", filepath.Join("lint", "redocly.yaml"), "--format", "json", "openapi.yaml")
	lint.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	var stdout, stderr bytes.Buffer
	lint.Stdout, lint.Stderr = &stdout, &stderr
	lintErr := lint.Run()
	var report struct {
		Totals struct {
			Errors, Warnings int
		}
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Severity string
			Message  string
			Location []struct {
				Source struct{ Ref string }
				Start  struct{ Line, Col int }
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("redocly lint gave no report (%v, %v):\n%s\n%s", lintErr, err, stdout.String(), stderr.String())
	}
	for _, p := range report.Problems {
		where := "openapi.yaml"
		if len(p.Location) > 0 {
			l := p.Location[0]
			where = fmt.Sprintf("%s:%d:%d", filepath.Base(l.Source.Ref), l.Start.Line, l.Start.Col)
		}
		t.Errorf("%s: %s %s: %s", where, p.Severity, p.RuleID, p.Message)
	}
	if report.Totals.Errors+report.Totals.Warnings != len(report.Problems) || (lintErr != nil && len(report.Problems) == 0) {
		t.Fatalf("redocly lint: %v, %d errors and %d warnings:\n%s", lintErr, report.Totals.Errors, report.Totals.Warnings, stderr.String())
	}
}
