// Package deploy holds relkey's service files (the systemd unit and its
// settings) and, in its tests, the checks of every deployment file: the
// Dockerfile and .dockerignore, compose.yaml and deploy/relkey.service. They
// hold these files to relkey's real configuration, commands and build, and
// build the image where a container runtime answers.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/relkey/relkey/internal/config"
)

const binaryPath = "/usr/local/bin/relkey"

// knownVariable reports whether relkey reads the environment variable.
func knownVariable(name string) bool {
	return slices.ContainsFunc(config.Variables, func(v config.Variable) bool { return v.Name == name })
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	keyword string // upper case
	args    string
}

func dockerfile(t *testing.T) []instruction {
	t.Helper()
	var out []instruction
	var pending string
	for _, line := range strings.Split(read(t, "../Dockerfile"), "\n") {
		trimmed := strings.TrimSpace(line)
		if pending == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, "\\"); ok {
			pending += cont + " "
			continue
		}
		full := strings.Join(strings.Fields(pending+trimmed), " ")
		pending = ""
		keyword, args, _ := strings.Cut(full, " ")
		out = append(out, instruction{strings.ToUpper(keyword), args})
	}
	return out
}

// stages splits the instructions at each FROM.
func stages(instructions []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range instructions {
		if in.keyword == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

func find(stage []instruction, keyword string) []string {
	var args []string
	for _, in := range stage {
		if in.keyword == keyword {
			args = append(args, in.args)
		}
	}
	return args
}

// envOf parses ENV instructions (KEY=VALUE pairs).
func envOf(t *testing.T, stage []instruction) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, args := range find(stage, "ENV") {
		for _, pair := range strings.Fields(args) {
			k, v, ok := strings.Cut(pair, "=")
			if !ok {
				t.Fatalf("ENV %q is not KEY=VALUE", args)
			}
			env[k] = strings.Trim(v, `"`)
		}
	}
	return env
}

// makeBuild is the command `make build` runs, with VERSION set.
func makeBuild(t *testing.T, version string) string {
	t.Helper()
	out, err := exec.Command("make", "-s", "-n", "-C", "..", "build", "VERSION="+version).Output()
	if err != nil {
		t.Fatalf("make -n build: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 {
		t.Fatalf("make build runs %d commands, want one go build: %q", len(lines), out)
	}
	return lines[0]
}

// TestDockerfile checks the image's structure, and that it builds the
// Makefile's binary, static; where a container runtime answers it also
// builds the image and runs it.
func TestDockerfile(t *testing.T) {
	all := stages(dockerfile(t))
	if len(all) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(all))
	}
	build, runtime := all[0], all[len(all)-1]
	if from := build[0].args; !strings.HasPrefix(from, "golang:") || !strings.HasSuffix(from, " AS build") {
		t.Errorf("the build stage is FROM %q, want a golang image AS build", from)
	}
	if from := runtime[0].args; strings.Contains(from, "golang") || strings.Contains(from, " AS ") {
		t.Errorf("the runtime stage is FROM %q, want a minimal base", from)
	}

	// The same binary as `make build`: the Dockerfile runs that very target,
	// CGO off, and copies the file the Makefile writes.
	if env := envOf(t, build); env["CGO_ENABLED"] != "0" {
		t.Errorf("the build stage does not set CGO_ENABLED=0: %v", env)
	}
	if runs := find(build, "RUN"); !slices.Contains(runs, `make build VERSION="${VERSION}"`) {
		t.Errorf("the build stage does not run the Makefile's build: %q", runs)
	}
	recipe := makeBuild(t, "v9.9.9-test")
	const output = "bin/relkey"
	if !strings.HasPrefix(recipe, "go build ") || !strings.HasSuffix(recipe, " -o "+output+" ./cmd/relkey") {
		t.Fatalf("make build runs %q, want go build … -o %s ./cmd/relkey", recipe, output)
	}
	if copies := find(runtime, "COPY"); !slices.Contains(copies, "--from=build /src/"+output+" "+binaryPath) {
		t.Errorf("the runtime stage does not copy /src/%s to %s: %q", output, binaryPath, copies)
	}

	// Non-root, /data as the volume that the embedded store uses.
	user := find(runtime, "USER")
	if len(user) != 1 {
		t.Fatalf("USER %q, want one", user)
	}
	uid, _, _ := strings.Cut(user[0], ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q, want a numeric non-root uid (so runAsNonRoot can check it)", user[0])
	}
	if !slices.Contains(find(runtime, "COPY"), "--from=build --chown="+user[0]+" /data /data") {
		t.Errorf("/data is not owned by the user %s", user[0])
	}
	if volumes := find(runtime, "VOLUME"); !slices.Equal(volumes, []string{"/data"}) {
		t.Errorf("VOLUME %q, want /data", volumes)
	}
	env := envOf(t, runtime)
	for name := range env {
		if !knownVariable(name) {
			t.Errorf("ENV %s is no variable relkey reads", name)
		}
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the image's environment is not a valid configuration: %v", err)
	}
	if cfg.DataDir != "/data" {
		t.Errorf("RELKEY_DATA_DIR = %q, want the volume /data", cfg.DataDir)
	}
	host, port, _ := net.SplitHostPort(cfg.Listen)
	if host != "0.0.0.0" || !slices.Contains(find(runtime, "EXPOSE"), port) {
		t.Errorf("listens on %s, exposes %q", cfg.Listen, find(runtime, "EXPOSE"))
	}
	health := find(runtime, "HEALTHCHECK")
	if len(health) != 1 || !strings.HasSuffix(health[0], `CMD ["`+binaryPath+`", "health"]`) {
		t.Errorf("HEALTHCHECK %q, want relkey health (GET /v1/health)", health)
	}
	if ep, cmd := find(runtime, "ENTRYPOINT"), find(runtime, "CMD"); !slices.Equal(ep, []string{`["` + binaryPath + `"]`}) || !slices.Equal(cmd, []string{`["serve"]`}) {
		t.Errorf("ENTRYPOINT %q CMD %q, want relkey serve", ep, cmd)
	}

	// The recipe builds a static binary with CGO off, stamped with VERSION.
	binary := filepath.Join(t.TempDir(), "relkey")
	goBuild := exec.Command("sh", "-c", strings.Replace(recipe, " -o "+output+" ", " -o "+binary+" ", 1))
	goBuild.Dir, goBuild.Env = "..", append(os.Environ(), "CGO_ENABLED=0")
	if out, err := goBuild.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", recipe, err, out)
	}
	assertStatic(t, binary)
	if out, err := exec.Command(binary, "version").Output(); err != nil || strings.TrimSpace(string(out)) != "relkey v9.9.9-test" {
		t.Errorf("the built binary's version: %q %v", out, err)
	}
	if out, _ := exec.Command(binary, "help").Output(); !strings.Contains(string(out), "relkey health") {
		t.Error("relkey help does not list the health command the HEALTHCHECK runs")
	}

	buildImage(t)
}

// assertStatic fails unless the ELF file needs no dynamic loader or library.
func assertStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader: it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary links %v: it is not static", libs)
	}
}

// buildImage builds the image and runs its binary where `docker info`
// reaches a container engine; elsewhere the structure above is the check.
func buildImage(t *testing.T) {
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Log("no docker client: the image is checked by its structure only")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "info").CombinedOutput(); err != nil {
		t.Logf("no container engine answers `docker info` (%v: %s): the image is checked by its structure only", err, lastLine(out))
		return
	}
	tag := "relkey-deploy-test:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if out, err := exec.Command(docker, "build", "--build-arg", "VERSION=v9.9.9-image", "-t", tag, "..").CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	defer exec.Command(docker, "image", "rm", "-f", tag).Run()
	out, err := exec.Command(docker, "run", "--rm", tag, "version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "relkey v9.9.9-image" {
		t.Fatalf("docker run %s version: %q %v", tag, out, err)
	}
	out, err = exec.Command(docker, "run", "--rm", "--entrypoint", binaryPath, tag, "health", "--timeout", "1s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "health:") {
		t.Fatalf("relkey health in a container that does not serve: %q %v", out, err)
	}
}

func TestDockerignoreKeepsWhatTheBuildReads(t *testing.T) {
	var patterns []string
	for _, line := range strings.Split(read(t, "../.dockerignore"), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	for _, kept := range []string{"go.mod", "go.sum", "Makefile", "cmd", "internal", "db", "spec"} {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, kept); ok {
				t.Errorf(".dockerignore pattern %q leaves %s out of the build", p, kept)
			}
		}
	}
	for _, left := range []string{".git", "bin", "data"} {
		if !slices.Contains(patterns, left) {
			t.Errorf(".dockerignore sends %s to the build", left)
		}
	}
}

// compose is the part of a compose file the test reads.
type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       string            `yaml:"build"`
		Command     any               `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

var interpolation = regexp.MustCompile(`\$\{([A-Z_]+):-([^}]*)\}`)

// defaults interpolates ${NAME:-default} as compose does with NAME unset.
func defaults(s string) string { return interpolation.ReplaceAllString(s, "$2") }

func TestComposeFile(t *testing.T) {
	raw := read(t, "../compose.yaml")
	if strings.Contains(regexp.MustCompile(`\$\{[A-Z_]+:-[^}]*\}|\$\$`).ReplaceAllString(raw, ""), "$") {
		t.Fatal("compose.yaml interpolates a variable without a default: `docker compose up` would need it set")
	}
	var c compose
	if err := yaml.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatalf("compose.yaml is not YAML: %v", err)
	}
	for _, name := range []string{"relkey", "postgres", "minio", "minio-bucket"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("compose.yaml has no %s service", name)
		}
	}
	relkey, postgres, minio, bucket := c.Services["relkey"], c.Services["postgres"], c.Services["minio"], c.Services["minio-bucket"]

	// relkey: built from this Dockerfile, its settings a valid configuration
	// of variables relkey reads, wired to the other services.
	if relkey.Build != "." {
		t.Errorf("relkey is built from %q, want this directory's Dockerfile", relkey.Build)
	}
	env := map[string]string{}
	for k, v := range relkey.Environment {
		if !knownVariable(k) {
			t.Errorf("relkey's environment sets %s, which relkey does not read", k)
		}
		env[k] = defaults(v)
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("relkey's environment is not a valid configuration: %v", err)
	}
	db, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := db.User.Password()
	if db.Hostname() != "postgres" || db.Port() != "5432" || db.User.Username() != postgres.Environment["POSTGRES_USER"] ||
		password != defaults(postgres.Environment["POSTGRES_PASSWORD"]) || db.Path != "/"+postgres.Environment["POSTGRES_DB"] {
		t.Errorf("RELKEY_DATABASE_URL %s does not match the postgres service %v", db.Redacted(), postgres.Environment)
	}
	if cfg.Storage == nil || cfg.Storage.Endpoint != "minio:9000" || cfg.Storage.Secure ||
		cfg.Storage.AccessKey != defaults(minio.Environment["MINIO_ROOT_USER"]) || cfg.Storage.SecretKey != defaults(minio.Environment["MINIO_ROOT_PASSWORD"]) {
		t.Errorf("RELKEY_STORAGE_URL does not match the minio service: %+v", cfg.Storage)
	}
	if script := strings.Join(commandOf(bucket.Command), " "); cfg.Storage == nil || !strings.Contains(script, "mc mb --ignore-existing store/"+cfg.Storage.Bucket) {
		t.Errorf("minio-bucket does not create relkey's bucket: %q", script)
	}
	if bucket.Image != minio.Image {
		t.Errorf("minio-bucket runs %s, minio %s: one image, one mc", bucket.Image, minio.Image)
	}
	_, apiPort, _ := net.SplitHostPort(cfg.Listen)
	_, metricsPort, _ := net.SplitHostPort(cfg.MetricsListen)
	for _, port := range []string{apiPort, metricsPort} {
		if !slices.Contains(relkey.Ports, "127.0.0.1:"+port+":"+port) {
			t.Errorf("relkey does not publish port %s on the loopback: %q", port, relkey.Ports)
		}
	}
	for dep, condition := range map[string]string{"postgres": "service_healthy", "minio-bucket": "service_completed_successfully"} {
		if got := relkey.DependsOn[dep].Condition; got != condition {
			t.Errorf("relkey waits for %s until %q, want %q", dep, got, condition)
		}
	}
	if bucket.DependsOn["minio"].Condition != "service_healthy" {
		t.Error("minio-bucket does not wait for a healthy minio")
	}

	// Health checks on every long-running service; relkey's probes /v1/health.
	for name, want := range map[string]string{"relkey": binaryPath + " health", "postgres": "pg_isready", "minio": "mc ready local"} {
		hc := c.Services[name].Healthcheck
		if hc == nil || len(hc.Test) < 2 || hc.Test[0] != "CMD" || !strings.HasPrefix(strings.Join(hc.Test[1:], " "), want) {
			t.Errorf("%s's healthcheck is %+v, want CMD %s", name, hc, want)
		}
	}

	// State lives in declared named volumes.
	for name, target := range map[string]string{"postgres": "/var/lib/postgresql/data", "minio": "/data"} {
		volumes := c.Services[name].Volumes
		if len(volumes) != 1 {
			t.Errorf("%s mounts %q, want one volume at %s", name, volumes, target)
			continue
		}
		source, mount, _ := strings.Cut(volumes[0], ":")
		if _, declared := c.Volumes[source]; !declared || mount != target {
			t.Errorf("%s mounts %q, want a declared named volume at %s", name, volumes[0], target)
		}
	}
}

func commandOf(command any) []string {
	switch c := command.(type) {
	case string:
		return []string{c}
	case []any:
		var out []string
		for _, part := range c {
			s, _ := part.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// unit is a systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, text string) unit {
	t.Helper()
	u := unit{}
	section := ""
	scanner := bufio.NewScanner(strings.NewReader(text))
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("relkey.service line %d is neither a section nor key=value: %q", n, line)
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	return u
}

func (u unit) last(section, key string) string {
	values := u[section][key]
	if len(values) == 0 {
		return "<unset>"
	}
	return values[len(values)-1]
}

func TestSystemdUnit(t *testing.T) {
	text := read(t, "relkey.service")
	u := parseUnit(t, text)
	if got := u.last("Service", "ExecStart"); got != binaryPath+" serve" {
		t.Errorf("ExecStart=%s, want %s serve", got, binaryPath)
	}
	env := map[string]string{}
	for _, assignment := range u["Service"]["Environment"] {
		k, v, _ := strings.Cut(assignment, "=")
		if !knownVariable(k) {
			t.Errorf("Environment=%s sets a variable relkey does not read", assignment)
		}
		env[k] = v
	}
	if env["RELKEY_DATA_DIR"] != "/var/lib/"+u.last("Service", "StateDirectory") {
		t.Errorf("RELKEY_DATA_DIR=%s is not the StateDirectory", env["RELKEY_DATA_DIR"])
	}
	if _, err := config.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Errorf("the unit's environment is not a valid configuration: %v", err)
	}
	// serve drains for 30 seconds after SIGTERM; systemd must wait longer.
	stop, err := time.ParseDuration(u.last("Service", "TimeoutStopSec"))
	if err != nil || stop <= 30*time.Second {
		t.Errorf("TimeoutStopSec=%s, want more than serve's 30s drain", u.last("Service", "TimeoutStopSec"))
	}
	for key, want := range map[string]string{
		"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute": "yes",
		"SystemCallArchitectures": "native", "SystemCallErrorNumber": "EPERM", "UMask": "0077",
		"Restart": "on-failure", "KillSignal": "SIGTERM", "EnvironmentFile": "-/etc/relkey/relkey.env",
	} {
		if got := u.last("Service", key); got != want {
			t.Errorf("%s=%s, want %q", key, got, want)
		}
	}
	if got := u["Service"]["SystemCallFilter"]; !slices.Equal(got, []string{"@system-service", "~@privileged"}) {
		t.Errorf("SystemCallFilter %q", got)
	}
	if got := u.last("Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("WantedBy=%s", got)
	}

	// The settings file it reads names only variables relkey reads.
	for _, line := range strings.Split(read(t, "relkey.env"), "\n") {
		assignment := strings.TrimPrefix(strings.TrimSpace(line), "#")
		if name, _, ok := strings.Cut(assignment, "="); ok && strings.HasPrefix(name, "RELKEY_") && !knownVariable(name) {
			t.Errorf("relkey.env sets %s, which relkey does not read", name)
		}
	}

	systemdAnalyze(t, text)
}

// systemdAnalyze has systemd check the unit and score its hardening, where
// systemd-analyze is installed.
func systemdAnalyze(t *testing.T, text string) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("no systemd-analyze: the unit is checked by its keys only")
		return
	}
	// verify wants ExecStart's binary to exist: this test's own stands in.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "relkey.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, binaryPath, self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("relkey.service")) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Exposure 0 (locked down) to 10 (unprotected); threshold 15 = 1.5.
	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=15", path).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 1.5 (%v)\n%s", err, out)
	}
	t.Logf("systemd-analyze security: %s", lastLine(out))
}

func lastLine(b []byte) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return string(lines[len(lines)-1])
}
