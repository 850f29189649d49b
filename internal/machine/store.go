package machine

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

// Store persists machines.
type Store struct{ db *database.DB }

// NewStore returns the machine store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// Lock serializes the component and process additions of a license (its
// row) for the rest of the transaction. FOR NO KEY UPDATE leaves the
// row's key to the foreign-key checks of concurrent inserts (an activation
// holding the license's totals row), which would otherwise queue behind
// it. SQLite's write transactions are already serial.
func (s *Store) Lock(ctx context.Context, licenseID string) error {
	if s.db.Engine != database.Postgres {
		return nil
	}
	return database.Error(s.db.Conn(ctx).Exec(`SELECT 1 FROM licenses WHERE id = ? FOR NO KEY UPDATE`, licenseID).Error)
}

// FingerprintTaken reports whether a machine with the fingerprint exists
// where column (license_id, policy_id, product_id or account_id) = value.
// Each form matches an index on all its equalities, so no plan (a generic
// one built while the table was small included) walks the account's
// machines: per license (license_id, fingerprint), else (account_id,
// fingerprint).
func (s *Store) FingerprintTaken(ctx context.Context, accountID, column, value, fingerprint string) (bool, error) {
	where, args := "account_id = ? AND fingerprint = ? AND "+column+" = ?", []any{accountID, fingerprint, value}
	switch column {
	case "license_id":
		where, args = "license_id = ? AND fingerprint = ?", []any{value, fingerprint}
	case "account_id":
		where, args = "account_id = ? AND fingerprint = ?", []any{accountID, fingerprint}
	}
	var taken bool
	err := s.db.Conn(ctx).Raw("SELECT EXISTS (SELECT 1 FROM machines WHERE "+where+")", args...).Row().Scan(&taken)
	return taken, database.Error(err)
}

// Stats are a license's machine totals.
type Stats = license.Totals

// claimed is what Claim reads.
type claimed struct {
	Stats `gorm:"embedded"`
	Taken bool
}

// claims are Claim's statements: on PostgreSQL with and without the
// advisory lock, on SQLite a plain read.
var (
	claimColumns = `t.machines AS count, t.cores, t.memory, t.disk,
		EXISTS (SELECT 1 FROM machines m WHERE m.license_id = t.license_id AND m.fingerprint = ?) AS taken
		FROM license_machine_totals t WHERE t.license_id = ?`
	// The advisory lock is taken as the row is read, the row's after:
	// every activation takes them in this order.
	claims = map[bool]*database.Read[claimed]{
		false: database.NewRead[claimed](`SELECT ` + claimColumns + ` FOR UPDATE`),
		true:  database.NewRead[claimed](`SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) IS NULL AS locked, ` + claimColumns + ` FOR UPDATE`),
	}
	sqliteClaim = database.NewRead[claimed](`SELECT ` + claimColumns)
)

// Claim serializes the activations of a license for the rest of the
// transaction and returns its machine totals (kept by triggers, one row)
// with whether one of its machines has the fingerprint, in one statement.
// PostgreSQL locks the license's totals row: the statement reads the newest
// version of a row it locks, so the totals are those the previous holder
// committed. (The fingerprint probe reads the statement's snapshot; a
// machine committed while it waited for the lock is caught by the unique
// index at insert.) Given accountFingerprint, it first takes an advisory
// lock on it, for uniqueness wider than the license. SQLite's write
// transactions are already serial.
func (s *Store) Claim(ctx context.Context, licenseID, fingerprint, accountFingerprint string) (Stats, bool, error) {
	var row claimed
	read, args := sqliteClaim, []any{fingerprint, licenseID}
	if s.db.Engine == database.Postgres {
		read = claims[accountFingerprint != ""]
		if accountFingerprint != "" {
			args = append([]any{accountFingerprint}, args...)
		}
	}
	err := read.Take(ctx, s.db, &row, args...)
	if database.IsNotFound(err) {
		return Stats{}, false, apperr.NotFoundResource("license", licenseID)
	}
	return row.Stats, row.Taken, database.Error(err)
}

var licenseStats = database.NewRead[Stats](`SELECT machines AS count, cores, memory, disk FROM license_machine_totals WHERE license_id = ?`)

// Stats totals the license's machines (of one owner, "": none, when
// perUser): the license's are one row.
func (s *Store) Stats(ctx context.Context, licenseID string, perUser bool, ownerID string) (Stats, error) {
	var st Stats
	if !perUser {
		err := licenseStats.Take(ctx, s.db, &st, licenseID)
		if database.IsNotFound(err) {
			err = nil // no such license: no machines
		}
		return st, database.Error(err)
	}
	q := s.db.Conn(ctx).Model(&Machine{}).
		Select("COUNT(*) AS count, COALESCE(SUM(cores), 0) AS cores, COALESCE(SUM(memory), 0) AS memory, COALESCE(SUM(disk), 0) AS disk").
		Where("license_id = ?", licenseID)
	if ownerID == "" {
		q = q.Where("owner_id IS NULL")
	} else {
		q = q.Where("owner_id = ?", ownerID)
	}
	err := q.Scan(&st).Error
	return st, database.Error(err)
}

// insertMachine writes every column a new machine may have set.
var insertMachine = database.NewWrite(`INSERT INTO machines (id, account_id, license_id, policy_id, product_id, owner_id, group_id, fingerprint,
	name, hostname, ip, platform, cores, memory, disk, last_heartbeat_at, metadata, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)

var errFingerprintTaken = apperr.Attribute("fingerprint", "TAKEN", "has already been taken")

// Create inserts a new machine, updated when created, in a fixed statement
// (no walk of the model); the same fingerprint twice on a license is taken.
// Inside a transaction the insert is queued: an activation's goes with its
// COMMIT, and its refusal comes from the commit.
func (s *Store) Create(ctx context.Context, m *Machine) error {
	metadata, err := json.Marshal(m.Metadata)
	if err != nil {
		return database.Error(err)
	}
	m.UpdatedAt = m.CreatedAt
	return insertMachine.Queue(ctx, s.db, errFingerprintTaken,
		m.ID, m.AccountID, m.LicenseID, m.PolicyID, m.ProductID, m.OwnerID, m.GroupID, m.Fingerprint,
		m.Name, m.Hostname, m.IP, m.Platform, m.Cores, m.Memory, m.Disk, m.LastHeartbeatAt, string(metadata), m.CreatedAt, m.UpdatedAt)
}

// Save writes a changed machine.
func (s *Store) Save(ctx context.Context, m *Machine) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", m.AccountID).Save(m).Error)
}

// Delete removes a machine.
func (s *Store) Delete(ctx context.Context, m *Machine) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", m.AccountID).Delete(&Machine{ID: m.ID}).Error)
}

func (s *Store) scoped(ctx context.Context, accountID string, sc access.Scope) *gorm.DB {
	q := s.db.Conn(ctx).Where("account_id = ?", accountID)
	switch {
	case sc.All:
	case sc.ProductID != "":
		q = q.Where("product_id = ?", sc.ProductID)
	case sc.LicenseID != "":
		q = q.Where("license_id = ?", sc.LicenseID)
	case sc.UserID != "":
		q = q.Where("(owner_id = ? OR license_id IN ("+database.LicensesOfUser+"))", sc.UserID, accountID, sc.UserID, sc.UserID)
	default:
		q = q.Where("1 = 0")
	}
	return q
}

// Find returns a machine by id, else the oldest with the fingerprint, within the scope.
func (s *Store) Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Machine, error) {
	q := s.scoped(ctx, accountID, sc)
	if len(ref) == 36 && uuid.Validate(ref) == nil {
		q = q.Where("id = ?", ref)
	} else {
		q = q.Where("fingerprint = ?", ref).Order("created_at, id")
	}
	return database.Take[Machine](q, apperr.NotFoundResource("machine", ref))
}

// List returns a page of machines within the scope and filter.
func (s *Store) List(ctx context.Context, accountID string, sc access.Scope, f Filter, p page.Request) ([]Machine, int64, error) {
	q := s.scoped(ctx, accountID, sc)
	for column, value := range map[string]string{"license_id": f.LicenseID, "fingerprint": f.Fingerprint, "product_id": f.ProductID,
		"policy_id": f.PolicyID, "owner_id": f.OwnerID, "ip": f.IP, "hostname": f.Hostname, "group_id": f.GroupID} {
		if value != "" {
			q = q.Where(column+" = ?", value)
		}
	}
	if f.UserID != "" {
		q = q.Where("(owner_id = ? OR license_id IN ("+database.LicensesOfUser+"))", f.UserID, accountID, f.UserID, f.UserID)
	}
	for key, value := range f.Metadata {
		cond, args := s.db.MetadataMatch("metadata", key, value)
		q = q.Where(cond, args...)
	}
	if f.licenseKeyDigest != "" {
		q = q.Where("license_id IN (SELECT id FROM licenses WHERE account_id = ? AND key_digest = ?)", accountID, f.licenseKeyDigest)
	}
	if f.Status != "" {
		// Not started (unmonitored, or pinging yet within its first
		// duration) counts as alive, as in Keygen.
		required := "(SELECT require_heartbeat FROM policies WHERE policies.id = machines.policy_id)"
		alive := "(machines.last_heartbeat_at IS NULL AND (NOT " + required + " OR " + s.beating("machines.created_at", "machines.policy_id") + "))" +
			" OR (machines.last_heartbeat_at IS NOT NULL AND " + s.beating("machines.last_heartbeat_at", "machines.policy_id") + ")"
		q = heartbeatIs(q, f.Status, "("+alive+")", "NOT ("+alive+")", f.Now)
	}
	return database.Paginate[Machine](q, p)
}

// beating is the SQL condition of a heartbeat at column still within its
// policy's heartbeat duration at the moment bound as its one argument.
func (s *Store) beating(column, policyColumn string) string {
	return "(" + s.db.Epoch(column) + " + COALESCE((SELECT heartbeat_duration FROM policies WHERE policies.id = " + policyColumn + "), " +
		strconv.Itoa(policy.DefaultHeartbeatDuration) + ") >= ?)"
}

// heartbeatIs applies Keygen's with_status of machines and processes:
// ALIVE or DEAD (either case), any other status nothing.
func heartbeatIs(q *gorm.DB, status, alive, dead string, now time.Time) *gorm.DB {
	epoch := float64(now.UnixNano()) / 1e9
	n := strings.Count(alive, "?")
	args := make([]any, n)
	for i := range args {
		args[i] = epoch
	}
	switch strings.ToUpper(status) {
	case Alive:
		return q.Where(alive, args...)
	case Dead:
		return q.Where(dead, args...)
	}
	return q.Where("1 = 0")
}

// OfLicense returns the license's machines, or those with the fingerprints
// when given (at most as many as fingerprints): one indexed query.
func (s *Store) OfLicense(ctx context.Context, licenseID string, fingerprints []string) ([]Machine, error) {
	var machines []Machine
	// A validation with a fingerprint scope reads its machines here: a
	// statement of its own, without GORM's build.
	query, args := ofLicense, []any{licenseID}
	if fingerprints != nil {
		query, args = ofLicenseFingerprints, append(args, fingerprints)
	}
	return machines, database.Error(database.FindRaw(ctx, s.db, &machines, query, args...))
}

const (
	ofLicense             = `SELECT * FROM machines WHERE license_id = ? ORDER BY created_at, id`
	ofLicenseFingerprints = `SELECT * FROM machines WHERE license_id = ? AND fingerprint IN ? ORDER BY created_at, id`
)

// OnLicense returns the license's machine with the id, or nil.
func (s *Store) OnLicense(ctx context.Context, licenseID, id string) (*Machine, error) {
	if uuid.Validate(id) != nil {
		return nil, nil
	}
	m, err := database.Take[Machine](s.db.Conn(ctx).Where("license_id = ? AND id = ?", licenseID, id), apperr.NotFoundResource("machine", id))
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	return m, err
}

// ComponentTaken reports whether a component with the fingerprint exists
// where column = value.
func (s *Store) ComponentTaken(ctx context.Context, accountID, column, value, fingerprint string) (bool, error) {
	var n int64
	err := s.db.Conn(ctx).Model(&Component{}).
		Where("account_id = ? AND fingerprint = ? AND "+column+" = ?", accountID, fingerprint, value).Limit(1).Count(&n).Error
	return n > 0, database.Error(err)
}

// CreateComponents inserts components.
func (s *Store) CreateComponents(ctx context.Context, components []Component) error {
	if len(components) == 0 {
		return nil
	}
	return database.Insert(s.db.Conn(ctx), &components, apperr.At(apperr.Unprocessable, "COMPONENTS_FINGERPRINT_TAKEN", "has already been taken", apperr.Rel("components")))
}

// ComponentsOf returns a machine's components, or those with the
// fingerprints when given: one indexed query.
func (s *Store) ComponentsOf(ctx context.Context, machineID string, fingerprints []string) ([]Component, error) {
	var out []Component
	q := s.db.Conn(ctx).Where("machine_id = ?", machineID)
	if fingerprints != nil {
		q = q.Where("fingerprint IN ?", fingerprints)
	}
	err := q.Order("created_at, id").Find(&out).Error
	return out, database.Error(err)
}

// ListComponents returns a page of a machine's components, oldest first.
func (s *Store) ListComponents(ctx context.Context, machineID string, p page.Request) ([]Component, int64, error) {
	return database.Paginate[Component](s.db.Conn(ctx).Where("machine_id = ?", machineID), oldestFirst(p))
}

// oldestFirst is p in creation order: a machine's components and processes
// list the way they always have, whatever the order asked for.
func oldestFirst(p page.Request) page.Request {
	p.Ascending = true
	return p
}

// FindComponent returns a component of the account.
func (s *Store) FindComponent(ctx context.Context, accountID, id string) (*Component, error) {
	if uuid.Validate(id) != nil {
		return nil, apperr.NotFoundResource("component", id)
	}
	return database.Take[Component](s.db.Conn(ctx).Where("account_id = ? AND id = ?", accountID, id), apperr.NotFoundResource("component", id))
}

// DeleteComponent removes a component.
func (s *Store) DeleteComponent(ctx context.Context, c *Component) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", c.AccountID).Delete(&Component{ID: c.ID}).Error)
}

// CreateProcess inserts a process; a pid already running on the machine is taken.
func (s *Store) CreateProcess(ctx context.Context, p *Process) error {
	return database.Insert(s.db.Conn(ctx), p, apperr.Attribute("pid", "TAKEN", "has already been taken"))
}

// SaveProcess writes a changed process.
func (s *Store) SaveProcess(ctx context.Context, p *Process) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", p.AccountID).Save(p).Error)
}

// SaveComponent writes a changed component.
func (s *Store) SaveComponent(ctx context.Context, c *Component) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", c.AccountID).Save(c).Error)
}

// DeleteProcess removes a process.
func (s *Store) DeleteProcess(ctx context.Context, p *Process) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", p.AccountID).Delete(&Process{ID: p.ID}).Error)
}

// FindProcess returns a process of the account.
func (s *Store) FindProcess(ctx context.Context, accountID, id string) (*Process, error) {
	if uuid.Validate(id) != nil {
		return nil, apperr.NotFoundResource("process", id)
	}
	return database.Take[Process](s.db.Conn(ctx).Where("account_id = ? AND id = ?", accountID, id), apperr.NotFoundResource("process", id))
}

// ListProcesses returns a page of a machine's processes, oldest first.
func (s *Store) ListProcesses(ctx context.Context, machineID string, p page.Request) ([]Process, int64, error) {
	return database.Paginate[Process](s.db.Conn(ctx).Where("machine_id = ?", machineID), oldestFirst(p))
}

// CountAliveProcesses counts the processes f picks that pinged since alive.
func (s *Store) CountAliveProcesses(ctx context.Context, f ProcessFilter, alive time.Time) (int64, error) {
	q := s.db.Conn(ctx).Model(&Process{}).Where("license_id = ? AND last_heartbeat_at >= ?", f.LicenseID, alive)
	switch {
	case f.PerOwner && f.OwnerID == nil:
		q = q.Where("owner_id IS NULL")
	case f.PerOwner:
		q = q.Where("owner_id = ?", *f.OwnerID)
	}
	if f.MachineID != "" {
		q = q.Where("machine_id = ?", f.MachineID)
	}
	var n int64
	err := q.Count(&n).Error
	return n, database.Error(err)
}

// StatsOf reads the machine totals of several licenses in one query.
func (s *Store) StatsOf(ctx context.Context, licenseIDs []string) (map[string]Stats, error) {
	var rows []struct {
		LicenseID string
		Stats
	}
	err := s.db.Conn(ctx).Table("license_machine_totals").Select("license_id, machines AS count, cores, memory, disk").
		Where("license_id IN ?", licenseIDs).Scan(&rows).Error
	out := make(map[string]Stats, len(licenseIDs))
	for _, r := range rows {
		out[r.LicenseID] = r.Stats
	}
	return out, database.Error(err)
}
