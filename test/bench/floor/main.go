// Command floor is the yardstick of relkey's benchmark (scripts/bench.sh): a
// minimal net/http server that answers relkey's four hot paths on relkey's
// own database with one indexed query each and a small JSON document.
// License keys are found by their HMAC digest as relkey finds them; download
// URLs are presigned locally (S3 signature V4, or the local store's HMAC
// URL). With -sign every response carries relkey's Ed25519 signature (Date,
// Digest, Keygen-Signature over "(request-target) host date digest").
package main

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/keyring"
	"github.com/relkey/relkey/internal/license"
)

const downloadTTL = 15 * time.Minute // relkey's default

type server struct {
	accountID, slug string
	secret          []byte // the account's: keys license digests
	signing         ed25519.PrivateKey
	sign            bool
	presign         func(key string, now time.Time) string

	validate, activate, upgrade, download *sql.Stmt
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "host:port to serve on")
	dsn := flag.String("database", "", "postgres:// URL, or relkey's SQLite file")
	account := flag.String("account", "", "account slug")
	master := flag.String("secret", "", "RELKEY_SECRET_KEY")
	storage := flag.String("storage", "", "RELKEY_STORAGE_URL (s3://…); empty = relkey's local store")
	sign := flag.Bool("sign", false, "sign responses as relkey does")
	flag.Parse()
	if *dsn == "" || *account == "" || *master == "" {
		log.Fatal("floor: -database, -account and -secret are required")
	}
	s, err := open(*dsn, *account, *master, *storage)
	if err != nil {
		log.Fatal("floor: ", err)
	}
	s.sign = *sign
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /v1/accounts/{account}/licenses/actions/validate-key", s.handle(s.validateKey))
	mux.HandleFunc("POST /v1/accounts/{account}/machines", s.handle(s.activateMachine))
	mux.HandleFunc("GET /v1/accounts/{account}/releases/{version}/upgrade", s.handle(s.upgradeRelease))
	mux.HandleFunc("GET /v1/accounts/{account}/artifacts/{id}", s.handle(s.downloadArtifact))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal("floor: ", err)
	}
	log.Printf("floor: serving on http://%s (sign=%v)", ln.Addr(), s.sign)
	log.Fatal((&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln))
}

// The four statements. PostgreSQL's $n placeholders become SQLite's ?n.
const (
	validateSQL = `SELECT id, policy_id, product_id, name, expiry, suspended, created_at, updated_at
		FROM licenses WHERE account_id = $1 AND key_digest = $2`
	activateSQL = `INSERT INTO machines (id, account_id, license_id, policy_id, product_id, fingerprint, metadata, created_at, updated_at)
		SELECT $1, l.account_id, l.id, l.policy_id, l.product_id, $2, '{}', $3, $3 FROM licenses l
		WHERE l.account_id = $4 AND l.key_digest = $5 AND l.id = $6
		ON CONFLICT (license_id, fingerprint) DO NOTHING RETURNING id`
	upgradeSQL = `SELECT r.id, r.version, r.channel, r.created_at FROM releases r
		JOIN licenses l ON l.account_id = r.account_id AND l.product_id = r.product_id
		WHERE l.account_id = $1 AND l.key_digest = $2 AND r.product_id = $3 AND r.status = 'PUBLISHED' AND r.channel = 'stable'
		AND (r.semver_major, r.semver_minor, r.semver_patch) >
			(SELECT semver_major, semver_minor, semver_patch FROM releases WHERE account_id = $1 AND version = $4 AND product_id = $3)
		ORDER BY r.semver_major DESC, r.semver_minor DESC, r.semver_patch DESC LIMIT 1`
	downloadSQL = `SELECT a.filename, a.storage_key FROM artifacts a
		JOIN licenses l ON l.account_id = a.account_id AND l.product_id = a.product_id
		WHERE l.account_id = $1 AND l.key_digest = $2 AND a.id = $3 AND a.status = 'UPLOADED'`
)

func open(dsn, slug, master, storage string) (*server, error) {
	driver, pg := "pgx", strings.HasPrefix(dsn, "postgres")
	if !pg {
		// relkey's pragmas
		driver, dsn = "sqlite", "file:"+dsn+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(4000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(25) // relkey's pool
	db.SetMaxIdleConns(25)
	kr, err := keyring.New(master)
	if err != nil {
		return nil, err
	}
	s := &server{slug: slug}
	var sealedKey, sealedSecret string
	if err := db.QueryRow(placeholders(pg, `SELECT id, ed25519_private_key, secret_key FROM accounts WHERE slug = $1`), slug).
		Scan(&s.accountID, &sealedKey, &sealedSecret); err != nil {
		return nil, fmt.Errorf("account %q: %w", slug, err)
	}
	priv, err := kr.Open(sealedKey)
	if err != nil {
		return nil, err
	}
	s.signing = ed25519.PrivateKey(priv)
	if s.secret, err = kr.Open(sealedSecret); err != nil {
		return nil, err
	}
	if s.presign, err = presigner(storage, kr.URLSigningKey()); err != nil {
		return nil, err
	}
	for _, st := range []struct {
		to  **sql.Stmt
		sql string
	}{{&s.validate, validateSQL}, {&s.activate, activateSQL}, {&s.upgrade, upgradeSQL}, {&s.download, downloadSQL}} {
		if *st.to, err = db.Prepare(placeholders(pg, st.sql)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func placeholders(pg bool, q string) string {
	if pg {
		return q
	}
	return strings.ReplaceAll(q, "$", "?")
}

// reply is a handler's answer: a status, a JSON document, a Location.
type reply struct {
	status   int
	doc      any
	location string
}

// handle serves one hot path: 404 for another account or an unknown
// record, 500 for a database error, and the signature when -sign is on.
func (s *server) handle(h func(r *http.Request) (reply, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rep := reply{status: http.StatusNotFound, doc: errorDoc("not found")}
		if a := r.PathValue("account"); a == s.accountID || a == s.slug {
			got, err := h(r)
			switch {
			case err == nil:
				rep = got
			case errors.Is(err, sql.ErrNoRows):
			default:
				rep = reply{status: http.StatusInternalServerError, doc: errorDoc(err.Error())}
			}
		}
		body, err := json.Marshal(rep.doc)
		if err != nil {
			rep.status, body = http.StatusInternalServerError, nil
		}
		header := w.Header()
		header.Set("Content-Type", "application/vnd.api+json")
		if rep.location != "" {
			header.Set("Location", rep.location)
		}
		if s.sign {
			s.signResponse(header, r, body)
		}
		w.WriteHeader(rep.status)
		w.Write(body)
	}
}

func errorDoc(detail string) any {
	return map[string]any{"errors": []map[string]string{{"title": "Error", "detail": detail}}}
}

// signResponse sets relkey's response signature headers, with relkey's
// own signing code.
func (s *server) signResponse(h http.Header, r *http.Request, body []byte) {
	t := &account.Tenant{Account: &account.Account{ID: s.accountID}, Keys: account.Keys{Signing: s.signing}}
	date, digest, signature := httpapi.Signature(t, r.Method, r.RequestURI, r.Host, body, time.Now())
	h.Set("Date", date)
	h.Set("Digest", digest)
	h.Set("Keygen-Signature", signature)
	h.Set("Keygen-Account", s.accountID)
}

// digest is how relkey finds a license by its key.
func (s *server) digest(key string) string { return license.Digest(s.secret, key) }

// licenseDigest is the digest of an "Authorization: License <key>" header's key.
func (s *server) licenseDigest(r *http.Request) (string, bool) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "License ")
	return s.digest(key), ok && key != ""
}

var unauthorized = reply{status: http.StatusUnauthorized, doc: errorDoc("a license key is required")}

func resource(typ, id string, attributes map[string]any) map[string]any {
	return map[string]any{"data": map[string]any{"type": typ, "id": id, "attributes": attributes}}
}

func (s *server) validateKey(r *http.Request) (reply, error) {
	var in struct {
		Meta struct{ Key string } `json:"meta"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&in); err != nil || in.Meta.Key == "" {
		return reply{status: http.StatusBadRequest, doc: errorDoc("meta.key is required")}, nil
	}
	var id, policyID, productID string
	var name sql.NullString
	var expiry sql.NullTime
	var suspended bool
	var created, updated time.Time
	err := s.validate.QueryRowContext(r.Context(), s.accountID, s.digest(in.Meta.Key)).
		Scan(&id, &policyID, &productID, &name, &expiry, &suspended, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return reply{status: http.StatusOK, doc: map[string]any{"data": nil, "meta": map[string]any{"valid": false, "code": "NOT_FOUND"}}}, nil
	}
	if err != nil {
		return reply{}, err
	}
	valid, code := true, "VALID"
	switch {
	case suspended:
		valid, code = false, "SUSPENDED"
	case expiry.Valid && expiry.Time.Before(time.Now()):
		valid, code = false, "EXPIRED"
	}
	var expires any // null without an expiry
	if expiry.Valid {
		expires = expiry.Time
	}
	doc := resource("licenses", id, map[string]any{"name": name.String, "key": in.Meta.Key, "suspended": suspended,
		"expiry": expires, "created": created, "updated": updated, "policy": policyID, "product": productID})
	doc["meta"] = map[string]any{"valid": valid, "code": code, "ts": time.Now().UTC()}
	return reply{status: http.StatusOK, doc: doc}, nil
}

func (s *server) activateMachine(r *http.Request) (reply, error) {
	digest, ok := s.licenseDigest(r)
	if !ok {
		return unauthorized, nil
	}
	var in struct {
		Data struct {
			Attributes    struct{ Fingerprint string }
			Relationships struct {
				License struct{ Data struct{ ID string } }
			}
		}
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&in); err != nil || in.Data.Attributes.Fingerprint == "" {
		return reply{status: http.StatusBadRequest, doc: errorDoc("data.attributes.fingerprint is required")}, nil
	}
	fingerprint, licenseID := in.Data.Attributes.Fingerprint, in.Data.Relationships.License.Data.ID
	now := time.Now().UTC().Truncate(time.Millisecond)
	var id string
	err := s.activate.QueryRowContext(r.Context(), newUUID(now), fingerprint, now, s.accountID, digest, licenseID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return reply{status: http.StatusUnprocessableEntity, doc: errorDoc("fingerprint has already been taken, or no such license")}, nil
	}
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusCreated, doc: resource("machines", id, map[string]any{"fingerprint": fingerprint,
		"license": licenseID, "created": now, "updated": now})}, nil
}

func (s *server) upgradeRelease(r *http.Request) (reply, error) {
	digest, ok := s.licenseDigest(r)
	if !ok {
		return unauthorized, nil
	}
	var id, version, channel string
	var created time.Time
	if err := s.upgrade.QueryRowContext(r.Context(), s.accountID, digest, r.URL.Query().Get("product"), r.PathValue("version")).
		Scan(&id, &version, &channel, &created); err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, doc: resource("releases", id, map[string]any{"version": version, "channel": channel, "created": created})}, nil
}

func (s *server) downloadArtifact(r *http.Request) (reply, error) {
	digest, ok := s.licenseDigest(r)
	if !ok {
		return unauthorized, nil
	}
	id := r.PathValue("id")
	var filename, storageKey string
	if err := s.download.QueryRowContext(r.Context(), s.accountID, digest, id).Scan(&filename, &storageKey); err != nil {
		return reply{}, err
	}
	location := s.presign(storageKey, time.Now())
	if strings.HasPrefix(location, "/") {
		location = "http://" + r.Host + location
	}
	doc := resource("artifacts", id, map[string]any{"filename": filename})
	doc["data"].(map[string]any)["links"] = map[string]string{"redirect": location}
	return reply{status: http.StatusSeeOther, doc: doc, location: location}, nil
}

// presigner returns the GET URL signer of the storage: AWS signature V4
// query parameters for s3://ACCESS:SECRET@HOST:PORT/BUCKET?secure=…&region=…,
// or the local store's HMAC URL under /v1/blobs/ served by relkey.
func presigner(storage string, urlKey []byte) (func(string, time.Time) string, error) {
	if storage == "" {
		return func(key string, now time.Time) string {
			expires := strconv.FormatInt(now.Add(downloadTTL).Unix(), 10)
			mac := hmac.New(sha256.New, urlKey)
			fmt.Fprintf(mac, "GET\n%s\n%s", key, expires)
			return "/v1/blobs/" + key + "?" + url.Values{"expires": {expires}, "signature": {hex.EncodeToString(mac.Sum(nil))}}.Encode()
		}, nil
	}
	u, err := url.Parse(storage)
	if err != nil || u.User == nil {
		return nil, fmt.Errorf("bad -storage %q", storage)
	}
	access := u.User.Username()
	secret, _ := u.User.Password()
	bucket, region, scheme := strings.Trim(u.Path, "/"), u.Query().Get("region"), "https"
	if region == "" {
		region = "us-east-1"
	}
	if u.Query().Get("secure") == "false" {
		scheme = "http"
	}
	return func(key string, now time.Time) string {
		stamp := now.UTC().Format("20060102T150405Z")
		scope := stamp[:8] + "/" + region + "/s3/aws4_request"
		path := "/" + bucket + "/" + escapePath(key)
		query := url.Values{
			"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
			"X-Amz-Credential":    {access + "/" + scope},
			"X-Amz-Date":          {stamp},
			"X-Amz-Expires":       {strconv.Itoa(int(downloadTTL / time.Second))},
			"X-Amz-SignedHeaders": {"host"},
		}.Encode()
		request := "GET\n" + path + "\n" + query + "\nhost:" + u.Host + "\n\nhost\nUNSIGNED-PAYLOAD"
		sum := sha256.Sum256([]byte(request))
		toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
		k := []byte("AWS4" + secret)
		for _, part := range []string{stamp[:8], region, "s3", "aws4_request", toSign} {
			k = hmacSHA256(k, part)
		}
		return scheme + "://" + u.Host + path + "?" + query + "&X-Amz-Signature=" + hex.EncodeToString(k)
	}, nil
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// escapePath URI-encodes each segment of an object key as signature V4 wants.
func escapePath(key string) string {
	segments := strings.Split(key, "/")
	for i, seg := range segments {
		segments[i] = strings.ReplaceAll(url.PathEscape(seg), "+", "%2B")
	}
	return strings.Join(segments, "/")
}

// newUUID makes a version 7 UUID, as relkey's ids are.
func newUUID(now time.Time) string {
	b := make([]byte, 16)
	rand.Read(b)
	ms := now.UnixMilli()
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6], b[8] = b[6]&0x0f|0x70, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
