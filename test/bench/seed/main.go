// Command seed fills a freshly created relkey account for the benchmark
// (scripts/bench.sh): through relkey's API it creates a product, a policy,
// one license, the releases 1.0.0 and 2.0.0 and an uploaded artifact of
// 2.0.0; then it clones the rows relkey wrote, with SQL in one transaction,
// up to -licenses licenses and -releases releases. Cloned licenses get
// random keys sealed and digested as relkey does (with the master key and
// the account's secret), so every one of them authenticates and validates.
// It writes what the load generator needs as JSON on stdout.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/relkey/relkey/internal/keyring"
	"github.com/relkey/relkey/internal/license"
)

// Fixture is what the load generator reads.
type Fixture struct {
	Account    string      `json:"account"`
	ProductID  string      `json:"product_id"`
	Version    string      `json:"version"` // upgraded from
	ArtifactID string      `json:"artifact_id"`
	Licenses   [][2]string `json:"licenses"` // id, key
}

func main() {
	base := flag.String("url", "", "relkey's base URL")
	account := flag.String("account", "", "account slug")
	token := flag.String("token", "", "the account's admin token")
	dsn := flag.String("database", "", "postgres:// URL, or the SQLite file")
	master := flag.String("secret", "", "RELKEY_SECRET_KEY")
	licenses := flag.Int("licenses", 100_000, "licenses in all")
	releases := flag.Int("releases", 10_000, "releases in all")
	flag.Parse()
	if *base == "" || *account == "" || *token == "" || *dsn == "" || *master == "" || *licenses < 1 || *releases < 2 {
		log.Fatal("seed: -url, -account, -token, -database and -secret are required (-licenses ≥ 1, -releases ≥ 2)")
	}
	api := &client{base: strings.TrimSuffix(*base, "/") + "/v1/accounts/" + *account, token: *token}
	fx, err := seed(api, *dsn, *master, *licenses, *releases)
	if err != nil {
		log.Fatal("seed: ", err)
	}
	fx.Account = *account
	if err := json.NewEncoder(os.Stdout).Encode(fx); err != nil {
		log.Fatal("seed: ", err)
	}
}

func seed(api *client, dsn, master string, licenses, releases int) (*Fixture, error) {
	product, err := api.create("/products", `{"data":{"type":"products","attributes":{"name":"Bench","distributionStrategy":"LICENSED"}}}`)
	if err != nil {
		return nil, err
	}
	policy, err := api.create("/policies", `{"data":{"type":"policies","attributes":{"name":"Bench","authenticationStrategy":"LICENSE",
		"floating":true,"maxMachines":1000000},"relationships":{"product":{"data":{"type":"products","id":"`+product.ID+`"}}}}}`)
	if err != nil {
		return nil, err
	}
	lic, err := api.create("/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policy.ID+`"}}}}}`)
	if err != nil {
		return nil, err
	}
	release := func(version string) (*resource, error) {
		return api.create("/releases", `{"data":{"type":"releases","attributes":{"channel":"stable","version":"`+version+`","status":"PUBLISHED"},
			"relationships":{"product":{"data":{"type":"products","id":"`+product.ID+`"}}}}}`)
	}
	first, err := release("1.0.0")
	if err != nil {
		return nil, err
	}
	newest, err := release("2.0.0")
	if err != nil {
		return nil, err
	}
	artifactID, err := api.upload(newest.ID, "app-2.0.0.bin", bytes.Repeat([]byte("relkey"), 1<<14))
	if err != nil {
		return nil, err
	}

	fx := &Fixture{ProductID: product.ID, Version: "1.0.0", ArtifactID: artifactID,
		Licenses: [][2]string{{lic.ID, lic.Attributes["key"].(string)}}}
	if err := clone(dsn, master, lic.ID, first.ID, licenses-1, releases-2, fx); err != nil {
		return nil, err
	}
	// A cloned key must be found and valid, or every number would measure a miss.
	id, key := fx.Licenses[len(fx.Licenses)-1][0], fx.Licenses[len(fx.Licenses)-1][1]
	var v struct {
		Data struct{ ID string } `json:"data"`
		Meta struct {
			Valid bool
			Code  string
		} `json:"meta"`
	}
	if err := api.call("POST", "/licenses/actions/validate-key", `{"meta":{"key":"`+key+`"}}`, 200, &v); err != nil {
		return nil, err
	}
	if v.Data.ID != id || !v.Meta.Valid {
		return nil, fmt.Errorf("a seeded key does not validate: license %q, code %s", v.Data.ID, v.Meta.Code)
	}
	return fx, nil
}

// clone copies the template license n times with fresh ids and keys, and
// the template release m times as 1.<i>.0, every other column as relkey
// wrote it.
func clone(dsn, master, licenseID, releaseID string, n, m int, fx *Fixture) error {
	driver, pg := "sqlite", strings.HasPrefix(dsn, "postgres")
	if pg {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	kr, err := keyring.New(master)
	if err != nil {
		return err
	}
	var sealed string
	if err := db.QueryRow(param(pg, `SELECT a.secret_key FROM accounts a JOIN licenses l ON l.account_id = a.id WHERE l.id = $1`), licenseID).Scan(&sealed); err != nil {
		return err
	}
	secret, err := kr.Open(sealed)
	if err != nil {
		return err
	}
	rows := make([]map[string]any, n)
	for i := range rows {
		id, key := newUUID(), randomKey()
		keySealed, err := kr.Seal([]byte(key))
		if err != nil {
			return err
		}
		rows[i] = map[string]any{"id": id, "key_digest": license.Digest(secret, key), "key_sealed": keySealed}
		fx.Licenses = append(fx.Licenses, [2]string{id, key})
	}
	versions := make([]map[string]any, m)
	for i := range versions {
		versions[i] = map[string]any{"id": newUUID(), "version": fmt.Sprintf("1.%d.0", i+1), "semver_minor": i + 1}
	}

	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertClones(ctx, tx, pg, "licenses", licenseID, rows); err != nil {
		return err
	}
	if err := insertClones(ctx, tx, pg, "releases", releaseID, versions); err != nil {
		return err
	}
	return tx.Commit()
}

// insertClones inserts one copy of the table's row templateID per element of
// rows, with the columns each element names replaced, in batches of one
// statement that reads the replacements from a JSON array.
func insertClones(ctx context.Context, tx *sql.Tx, pg bool, table, templateID string, rows []map[string]any) error {
	columns, err := columnsOf(ctx, tx, pg, table)
	if err != nil {
		return err
	}
	const batch = 5000
	for start := 0; start < len(rows); start += batch {
		chunk := rows[start:min(start+batch, len(rows))]
		names := make([]string, len(columns))
		exprs := make([]string, len(columns))
		for i, c := range columns {
			names[i], exprs[i] = c.name, "t."+c.name
			if _, ok := chunk[0][c.name]; !ok {
				continue
			}
			if pg {
				exprs[i] = fmt.Sprintf("(s.v->>'%s')::%s", c.name, c.typ)
			} else {
				exprs[i] = fmt.Sprintf("json_extract(s.value, '$.%s')", c.name)
			}
		}
		from := "json_each(?1) AS s"
		where := "t.id = ?2"
		if pg {
			from, where = "json_array_elements($1::json) AS s(v)", "t.id = $2"
		}
		doc, err := json.Marshal(chunk)
		if err != nil {
			return err
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s t, %s WHERE %s",
			table, strings.Join(names, ", "), strings.Join(exprs, ", "), table, from, where)
		res, err := tx.ExecContext(ctx, q, string(doc), templateID)
		if err != nil {
			return fmt.Errorf("cloning %s: %w", table, err)
		}
		if got, _ := res.RowsAffected(); got != int64(len(chunk)) {
			return fmt.Errorf("cloning %s: %d rows inserted, want %d", table, got, len(chunk))
		}
	}
	return nil
}

type column struct{ name, typ string }

func columnsOf(ctx context.Context, tx *sql.Tx, pg bool, table string) ([]column, error) {
	q := `SELECT name, type FROM pragma_table_info(?1)`
	if pg {
		q = `SELECT column_name, udt_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`
	}
	rows, err := tx.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 && rows.Err() == nil {
		return nil, fmt.Errorf("table %s has no columns", table)
	}
	return cols, rows.Err()
}

// param turns $n placeholders into SQLite's ?n.
func param(pg bool, q string) string {
	if pg {
		return q
	}
	return strings.ReplaceAll(q, "$", "?")
}

// randomKey has the shape of relkey's generated keys (XXXXXX-…-XXXXV3).
func randomKey() string {
	raw := strings.ToUpper(fmt.Sprintf("%x", randomBytes(15)) + "v3")
	return strings.Join([]string{raw[0:6], raw[6:12], raw[12:18], raw[18:24], raw[24:30], raw[30:]}, "-")
}

// newUUID makes a version 7 UUID, as relkey's ids are.
func newUUID() string {
	b := randomBytes(16)
	ms := time.Now().UnixMilli()
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6], b[8] = b[6]&0x0f|0x70, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// client calls relkey's API as the account's admin.
type client struct{ base, token string }

type resource struct {
	ID         string         `json:"id"`
	Attributes map[string]any `json:"attributes"`
}

var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (c *client) create(path, body string) (*resource, error) {
	var doc struct{ Data resource }
	return &doc.Data, c.call("POST", path, body, http.StatusCreated, &doc)
}

func (c *client) call(method, path, body string, want int, out any, headers ...string) error {
	resp, err := c.do(method, path, body, headers...)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return json.Unmarshal(raw, out)
}

func (c *client) do(method, path, body string, headers ...string) (*http.Response, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return noRedirects.Do(req)
}

// upload creates an artifact of the release, PUTs content to the presigned
// URL of the 307 and waits until relkey sees it uploaded.
func (c *client) upload(releaseID, filename string, content []byte) (string, error) {
	resp, err := c.do("POST", "/artifacts", fmt.Sprintf(`{"data":{"type":"artifacts","attributes":{"filename":%q,"filesize":%d,
		"platform":"linux","arch":"amd64"},"relationships":{"release":{"data":{"type":"releases","id":%q}}}}}`, filename, len(content), releaseID))
	if err != nil {
		return "", err
	}
	var doc struct{ Data resource }
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || err != nil {
		return "", fmt.Errorf("POST /artifacts: %d, want 307 (%v)", resp.StatusCode, err)
	}
	location, err := resp.Location()
	if err != nil {
		return "", err
	}
	put, err := http.NewRequest("PUT", location.String(), bytes.NewReader(content))
	if err != nil {
		return "", err
	}
	put.ContentLength = int64(len(content))
	if resp, err = noRedirects.Do(put); err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("PUT to the upload URL: %d", resp.StatusCode)
	}
	// On S3 relkey learns of the upload from a job every few seconds.
	for deadline := time.Now().Add(time.Minute); ; {
		var shown struct{ Data resource }
		if err := c.call("GET", "/artifacts/"+doc.Data.ID, "", http.StatusOK, &shown, "Prefer", "no-download"); err != nil {
			return "", err
		}
		if shown.Data.Attributes["status"] == "UPLOADED" {
			return doc.Data.ID, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("artifact %s still %v after a minute", doc.Data.ID, shown.Data.Attributes["status"])
		}
		time.Sleep(250 * time.Millisecond)
	}
}
