package clients

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// registrySeed is a licensed product with one package of an engine and
// three licenses: entitled, of another product, and one to suspend.
type registrySeed struct {
	product, pkg               string
	key, unentitled, suspended string
}

func (r *relkey) seedRegistry(engine, pkgKey string) registrySeed {
	r.t.Helper()
	license := func(product string) (string, string) {
		policy := r.must("create policy", 201, "POST", "/v1/policies", `{"data":{"type":"policies","attributes":{"name":"P","authenticationStrategy":"LICENSE"},
			"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`).id()
		lic := r.must("create license", 201, "POST", "/v1/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policy+`"}}}}}`)
		return lic.id(), lic.attr("key").(string)
	}
	product := func(name string) string {
		return r.must("create product", 201, "POST", "/v1/products", `{"data":{"type":"products","attributes":{"name":"`+name+`","distributionStrategy":"LICENSED"}}}`).id()
	}
	s := registrySeed{product: product("SDK")}
	s.pkg = r.must("create package", 201, "POST", "/v1/packages", `{"data":{"type":"packages","attributes":{"name":"SDK","key":"`+pkgKey+`","engine":"`+engine+`"},
		"relationships":{"product":{"data":{"type":"products","id":"`+s.product+`"}}}}}`).id()
	_, s.key = license(s.product)
	_, s.unentitled = license(product("Other"))
	var suspendedID string
	suspendedID, s.suspended = license(s.product)
	r.must("suspend license", 200, "POST", "/v1/licenses/"+suspendedID+"/actions/suspend", "")
	return s
}

// publish makes a published release of the package with one uploaded file.
func (r *relkey) publish(s registrySeed, version, filename string, content []byte, metadata string) {
	r.t.Helper()
	release := r.must("create release "+version, 201, "POST", "/v1/releases", fmt.Sprintf(`{"data":{"type":"releases",
		"attributes":{"version":%q,"channel":"stable","status":"PUBLISHED"},
		"relationships":{"product":{"data":{"type":"products","id":%q}},"package":{"data":{"type":"packages","id":%q}}}}}`, version, s.product, s.pkg)).id()
	sum := sha512.Sum512(content)
	if metadata == "" {
		metadata = "{}"
	}
	created := r.must("create artifact "+filename, 307, "POST", "/v1/artifacts", fmt.Sprintf(`{"data":{"type":"artifacts","attributes":{"filename":%q,
		"filesize":%d,"checksum":%q,"metadata":%s},"relationships":{"release":{"data":{"type":"releases","id":%q}}}}}`,
		filename, len(content), base64.StdEncoding.EncodeToString(sum[:]), metadata, release))
	if status := put(r.t, r.client, created.header.Get("Location"), content); status != 200 {
		r.t.Fatalf("upload %s: PUT answered %d", filename, status)
	}
	r.waitUploaded(created.id())
}

// need fails the test when a client is not on PATH (scripts/test.sh
// installs them).
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH (scripts/test.sh installs it): %v", tool, err)
		}
	}
}

// refused runs a client with each credential that may not install (by
// name) and fails unless it fails as a refusal: its output has one of
// signs.
func refused(t *testing.T, client string, run func(credential string) (string, error), credentials map[string]string, signs ...string) {
	t.Helper()
	for name, credential := range credentials {
		out, err := run(credential)
		if err == nil {
			t.Fatalf("%s with %s succeeded:\n%s", client, name, out)
		}
		if !slices.ContainsFunc(signs, func(sign string) bool { return strings.Contains(out, sign) }) {
			t.Fatalf("%s with %s failed otherwise: %s", client, name, out)
		}
	}
}

// refusedCredentials are the credentials that may not install: none, the
// suspended license's and the unentitled license's, each key between
// prefix and suffix.
func (s registrySeed) refusedCredentials(prefix, suffix string) map[string]string {
	return map[string]string{"no credentials": "", "suspended license": prefix + s.suspended + suffix, "unentitled license": prefix + s.unentitled + suffix}
}

// installed fails the test unless a client's run succeeded and left file
// holding the version.
func installed(t *testing.T, client, out string, err error, file, version string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s with the license key: %v\n%s", client, err, out)
	}
	got, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(got), version) {
		t.Fatalf("%s installed %q (%v), want %s\n%s", client, got, err, version, out)
	}
}

// wheel builds a pure-Python wheel without dependencies whose module
// records its version.
func wheel(t *testing.T, name, version string) []byte {
	t.Helper()
	dist := name + "-" + version + ".dist-info/"
	files := [][2]string{
		{name + "/__init__.py", "VERSION = " + fmt.Sprintf("%q", version) + "\n"},
		{dist + "METADATA", "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\nRequires-Python: >=3.7\n"},
		{dist + "WHEEL", "Wheel-Version: 1.0\nGenerator: relkey-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := z.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f[1]))
		sum := sha256.Sum256([]byte(f[1]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f[0], base64.RawURLEncoding.EncodeToString(sum[:]), len(f[1]))
	}
	record.WriteString(dist + "RECORD,,\n")
	w, err := z.Create(dist + "RECORD")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(record.String()))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPip installs a wheel relkey serves with pip, the license key as the
// index URL's password, and is refused without credentials, with a
// suspended license and with a license of another product.
func TestPip(t *testing.T) {
	python := "python3"
	need(t, python)
	if out, err := exec.Command(python, "-m", "pip", "--version").CombinedOutput(); err != nil {
		t.Fatalf("pip is missing (scripts/test.sh installs python3-pip): %v %s", err, out)
	}
	r := startRelkey(t, "", nil)
	s := r.seedRegistry("pypi", "relkey-demo")
	for _, v := range []string{"1.0.0", "1.1.0"} {
		r.publish(s, v, "relkey_demo-"+v+"-py3-none-any.whl", wheel(t, "relkey_demo", v), `{"requiresPython":">=3.7"}`)
	}
	host := strings.TrimPrefix(r.URL, "http://")
	install := func(userinfo string) (string, string, error) {
		target := t.TempDir()
		index := "http://" + userinfo + host + "/v1/engines/pypi/simple/"
		cmd := exec.Command(python, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--disable-pip-version-check",
			"--no-input", "--target", target, "--index-url", index, "relkey-demo")
		cmd.Env = append(relkeyEnv(), "PIP_CONFIG_FILE=/dev/null", "PIP_BREAK_SYSTEM_PACKAGES=1")
		out, err := cmd.CombinedOutput()
		return target, string(out), err
	}
	target, out, err := install("license:" + url.PathEscape(s.key) + "@")
	installed(t, "pip install", out, err, filepath.Join(target, "relkey_demo", "__init__.py"), `"1.1.0"`)
	// pip reads the wheel's core metadata first (PEP 658), then the wheel.
	if !strings.Contains(out, "Obtaining dependency information for relkey-demo from ") || !strings.Contains(out, ".whl.metadata") {
		t.Fatalf("pip did not read the core metadata relkey declares:\n%s", out)
	}
	refused(t, "pip install", func(userinfo string) (string, error) { _, out, err := install(userinfo); return out, err }, s.refusedCredentials("license:", "@"), "40", "No matching distribution")
}

// npmTarball builds a package tarball as npm pack writes it.
func npmTarball(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range [][2]string{
		{"package/package.json", `{"name":"` + name + `","version":"` + version + `","main":"index.js"}`},
		{"package/index.js", "module.exports = " + fmt.Sprintf("%q", version) + ";\n"},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(f[1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestNpm installs a package relkey serves with npm, the license key as
// the registry's _authToken in .npmrc, and is refused without one, with a
// suspended license and with a license of another product.
func TestNpm(t *testing.T) {
	need(t, "npm")
	r := startRelkey(t, "", nil)
	s := r.seedRegistry("npm", "relkey-demo")
	for _, v := range []string{"1.0.0", "1.1.0"} {
		r.publish(s, v, "relkey-demo-"+v+".tgz", npmTarball(t, "relkey-demo", v), "")
	}
	registry := r.URL + "/v1/engines/npm/"
	install := func(token string) (string, string, error) {
		dir := t.TempDir()
		npmrc := "registry=" + registry + "\n"
		if token != "" {
			npmrc += strings.TrimPrefix(registry, "http:") + ":_authToken=" + token + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, ".npmrc"), []byte(npmrc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"consumer","version":"0.0.0","private":true}`), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("npm", "install", "relkey-demo", "--no-audit", "--no-fund", "--cache", filepath.Join(dir, ".cache"))
		cmd.Dir = dir
		cmd.Env = relkeyEnv()
		out, err := cmd.CombinedOutput()
		return dir, string(out), err
	}
	dir, out, err := install(s.key)
	installed(t, "npm install", out, err, filepath.Join(dir, "node_modules", "relkey-demo", "index.js"), `"1.1.0"`)
	refused(t, "npm install", func(token string) (string, error) { _, out, err := install(token); return out, err }, s.refusedCredentials("", ""), "E401", "E403", "E404")
}

// buildGem builds a gem without dependencies with gem build.
func buildGem(t *testing.T, name, version string) []byte {
	t.Helper()
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	module := strings.ReplaceAll(name, "-", "_")
	if err := os.WriteFile(filepath.Join(lib, module+".rb"), []byte("module RelkeyDemo\n  VERSION = \""+version+"\"\nend\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf(`Gem::Specification.new do |s|
  s.name = %q
  s.version = %q
  s.summary = "relkey demo"
  s.authors = ["relkey"]
  s.license = "MIT"
  s.files = ["lib/%s.rb"]
end
`, name, version, module)
	if err := os.WriteFile(filepath.Join(dir, name+".gemspec"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("gem", "build", name+".gemspec")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("gem build: %v\n%s", err, out)
	}
	content, err := os.ReadFile(filepath.Join(dir, name+"-"+version+".gem"))
	if err != nil {
		t.Fatal(err)
	}
	return content
}

// gemSource is relkey serving relkey-demo 1.0.0 and 1.1.0 as gems.
func gemSource(t *testing.T) (*relkey, registrySeed) {
	r := startRelkey(t, "", nil)
	s := r.seedRegistry("rubygems", "relkey-demo")
	for _, v := range []string{"1.0.0", "1.1.0"} {
		r.publish(s, v, "relkey-demo-"+v+".gem", buildGem(t, "relkey-demo", v), "")
	}
	return r, s
}

// TestGem installs a gem relkey serves with gem install --source, the
// license key as the source URL's password, and is refused without
// credentials, with a suspended license and with a license of another
// product.
func TestGem(t *testing.T) {
	need(t, "gem")
	r, s := gemSource(t)
	host := strings.TrimPrefix(r.URL, "http://")
	install := func(userinfo string) (string, string, error) {
		dir := t.TempDir()
		cmd := exec.Command("gem", "install", "relkey-demo", "--clear-sources", "--source", "http://"+userinfo+host+"/v1/engines/rubygems/",
			"--install-dir", dir, "--no-document", "--ignore-dependencies")
		cmd.Env = append(relkeyEnv(), "HOME="+dir, "GEM_SPEC_CACHE="+filepath.Join(dir, "specs"))
		out, err := cmd.CombinedOutput()
		return dir, string(out), err
	}
	dir, out, err := install("license:" + url.PathEscape(s.key) + "@")
	installed(t, "gem install", out, err, filepath.Join(dir, "gems", "relkey-demo-1.1.0", "lib", "relkey_demo.rb"), `"1.1.0"`)
	refused(t, "gem install", func(userinfo string) (string, error) { _, out, err := install(userinfo); return out, err }, s.refusedCredentials("license:", "@"), "40", "Could not find a valid gem")
}

// composerZip builds a Composer package's dist.
func composerZip(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, f := range [][2]string{
		{"composer.json", `{"name":"` + name + `","type":"library","autoload":{"psr-4":{"Relkey\\Demo\\":"src/"}}}`},
		{"src/Demo.php", "<?php\nnamespace Relkey\\Demo;\nfinal class Demo { const VERSION = '" + version + "'; }\n"},
	} {
		w, err := z.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f[1]))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestComposer requires a package relkey serves with composer, the license
// key in auth.json's http-basic, and is refused without credentials, with
// a suspended license and with a license of another product.
func TestComposer(t *testing.T) {
	need(t, "composer", "php")
	r := startRelkey(t, "", nil)
	s := r.seedRegistry("composer", "relkey/demo")
	for _, v := range []string{"1.0.0", "1.1.0"} {
		r.publish(s, v, "demo-"+v+".zip", composerZip(t, "relkey/demo", v), "")
	}
	host := strings.TrimPrefix(r.URL, "http://")
	require := func(key string) (string, string, error) {
		dir := t.TempDir()
		project := `{"name":"acme/consumer","repositories":[{"type":"composer","url":"` + r.URL + `/v1/engines/composer"},{"packagist.org":false}],` +
			`"config":{"secure-http":false},"require":{}}`
		if err := os.WriteFile(filepath.Join(dir, "composer.json"), []byte(project), 0o644); err != nil {
			t.Fatal(err)
		}
		if key != "" {
			auth := `{"http-basic":{"` + host + `":{"username":"license","password":"` + key + `"}}}`
			if err := os.WriteFile(filepath.Join(dir, "auth.json"), []byte(auth), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("composer", "require", "relkey/demo", "--no-interaction", "--no-progress")
		cmd.Dir = dir
		cmd.Env = append(relkeyEnv(), "COMPOSER_HOME="+filepath.Join(dir, ".composer"), "COMPOSER_CACHE_DIR=/dev/null", "COMPOSER_ALLOW_SUPERUSER=1")
		out, err := cmd.CombinedOutput()
		return dir, string(out), err
	}
	dir, out, err := require(s.key)
	installed(t, "composer require", out, err, filepath.Join(dir, "vendor", "relkey", "demo", "src", "Demo.php"), "'1.1.0'")
	refused(t, "composer require", func(key string) (string, error) { _, out, err := require(key); return out, err }, s.refusedCredentials("", ""), "40", "Could not find a matching version")
}

// TestBundler installs a gem relkey serves with bundle install, a
// Gemfile's source naming the engine and the license key given as
// Bundler's credential for the host (BUNDLE_<HOST>=license:<key>), through
// the compact index; refused without credentials, with a suspended
// license and with a license of another product.
func TestBundler(t *testing.T) {
	need(t, "gem", "bundle")
	r, s := gemSource(t)
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Bundler's setting for a host: BUNDLE_ and the host upper-cased, dots
	// as __ and dashes as ___ (the port is left out).
	hostSetting := "BUNDLE_" + strings.ToUpper(strings.NewReplacer("-", "___", ".", "__").Replace(u.Hostname()))
	install := func(credential string) (string, string, error) {
		dir := t.TempDir()
		gemfile := "source \"" + r.URL + "/v1/engines/rubygems/\"\n\ngem \"relkey-demo\", \"~> 1.0\"\n"
		if err := os.WriteFile(filepath.Join(dir, "Gemfile"), []byte(gemfile), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bundle", "install", "--verbose")
		cmd.Dir = dir
		cmd.Env = append(relkeyEnv(), "HOME="+dir, "BUNDLE_PATH="+filepath.Join(dir, "vendor"), "BUNDLE_USER_HOME="+filepath.Join(dir, ".bundle"),
			"BUNDLE_APP_CONFIG="+filepath.Join(dir, ".bundle"), "BUNDLE_DISABLE_VERSION_CHECK=true", "BUNDLE_RETRY=0")
		if credential != "" {
			cmd.Env = append(cmd.Env, hostSetting+"="+credential)
		}
		out, err := cmd.CombinedOutput()
		return dir, string(out), err
	}
	dir, out, err := install("license:" + s.key)
	matches, _ := filepath.Glob(filepath.Join(dir, "vendor", "ruby", "*", "gems", "relkey-demo-1.1.0", "lib", "relkey_demo.rb"))
	if len(matches) != 1 {
		t.Fatalf("bundle install with the license key: %v, relkey-demo 1.1.0 not installed under %s\n%s", err, dir, out)
	}
	installed(t, "bundle install", out, err, matches[0], `"1.1.0"`)
	if !strings.Contains(out, "/versions") || !strings.Contains(out, "/info/relkey-demo") {
		t.Fatalf("bundle install did not use the compact index:\n%s", out)
	}
	refused(t, "bundle install", func(credential string) (string, error) { _, out, err := install(credential); return out, err },
		s.refusedCredentials("license:", ""), "401", "403", "404", "Authentication is required", "Bad username or password", "Could not find gem")
}
