package analytics

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/database"
)

// MinuteCount is a per-minute counter.
type MinuteCount struct {
	AccountID string
	ProductID string
	Minute    int64
	Kind      Kind
	Result    string
	Count     int64
}

// TableName is the counters' table.
func (MinuteCount) TableName() string { return "analytics_minutes" }

// MinuteDevices is one writer's devices of a minute.
type MinuteDevices struct {
	AccountID string
	ProductID string
	Minute    int64
	Writer    string
	Devices   []byte
	// Merge asks Write to add the stored row's devices (see Batch).
	Merge bool `gorm:"-"`
}

// TableName is the sets' table.
func (MinuteDevices) TableName() string { return "analytics_minute_devices" }

// HourCount is a per-hour counter.
type HourCount struct {
	AccountID string
	ProductID string
	Hour      int64
	Kind      Kind
	Result    string
	Count     int64
}

// TableName is the counters' table.
func (HourCount) TableName() string { return "analytics_hours" }

// HourDevices is one writer's devices of an hour along a dimension ("" for
// all; version, platform) and its value.
type HourDevices struct {
	AccountID string
	ProductID string
	Hour      int64
	Dim       string
	Value     string
	Writer    string
	Devices   []byte
	// Merge asks Write to add the stored row's devices (see Batch).
	Merge bool `gorm:"-"`
}

// TableName is the sets' table.
func (HourDevices) TableName() string { return "analytics_hour_devices" }

// DayCount is a per-day counter of a kind along one dimension (result,
// license, release, artifact) and its value.
type DayCount struct {
	AccountID string
	ProductID string
	Day       int64
	Kind      Kind
	Dim       string
	Value     string
	Count     int64
}

// TableName is the rollups' table.
func (DayCount) TableName() string { return "analytics_days" }

// DayDevices is one writer's devices of a day along a dimension ("" for
// all; version, platform, arch, license) and its value.
type DayDevices struct {
	AccountID string
	ProductID string
	Day       int64
	Dim       string
	Value     string
	Writer    string
	Devices   []byte
	// Merge asks Write to add the stored row's devices (see Batch).
	Merge bool `gorm:"-"`
}

// TableName is the sets' table.
func (DayDevices) TableName() string { return "analytics_day_devices" }

// Batch is what one flush writes. A set row replaces its writer's stored
// row, unless it asks to Merge: then Write stores the union of both, and
// leaves it in the row's Devices.
type Batch struct {
	Minutes       []MinuteCount
	MinuteDevices []MinuteDevices
	Hours         []HourCount
	HourDevices   []HourDevices
	Days          []DayCount
	DayDevices    []DayDevices
}

// Len is how many rows the batch writes.
func (b *Batch) Len() int {
	return len(b.Minutes) + len(b.MinuteDevices) + len(b.Hours) + len(b.HourDevices) + len(b.Days) + len(b.DayDevices)
}

// Store keeps the analytics tables.
type Store struct{ db *database.DB }

// NewStore returns the analytics store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// rowsPerStatement keeps each insert under SQLite's variable limit; a
// power of two, so full chunks stay prepared (see database's
// unpreparedBulk).
const rowsPerStatement = 512

// Write upserts a batch in one transaction: counters add to what other
// flushes (and replicas) wrote; a writer's sets replace its own rows, or
// merge into them (Merge).
func (s *Store) Write(ctx context.Context, b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	// The buffer's flush: on the background pool, never behind requests.
	return s.db.InTx(database.Background(ctx), func(ctx context.Context) error {
		tx := s.db.Conn(ctx)
		if err := s.mergeStored(tx, b); err != nil {
			return err
		}
		add := func(table string, keys ...string) clause.OnConflict {
			cols := make([]clause.Column, len(keys))
			for i, k := range keys {
				cols[i] = clause.Column{Name: k}
			}
			return clause.OnConflict{Columns: cols, DoUpdates: clause.Set{{Column: clause.Column{Name: "count"}, Value: gorm.Expr(table + ".count + excluded.count")}}}
		}
		replace := func(keys ...string) clause.OnConflict {
			cols := make([]clause.Column, len(keys))
			for i, k := range keys {
				cols[i] = clause.Column{Name: k}
			}
			return clause.OnConflict{Columns: cols, DoUpdates: clause.AssignmentColumns([]string{"devices"})}
		}
		steps := []struct {
			n     int
			write func(*gorm.DB) *gorm.DB
		}{
			{len(b.Minutes), func(q *gorm.DB) *gorm.DB {
				return q.Clauses(add("analytics_minutes", "account_id", "product_id", "minute", "kind", "result")).CreateInBatches(b.Minutes, rowsPerStatement)
			}},
			{len(b.MinuteDevices), func(q *gorm.DB) *gorm.DB {
				return q.Clauses(replace("account_id", "product_id", "minute", "writer")).CreateInBatches(b.MinuteDevices, rowsPerStatement)
			}},
			{len(b.Hours), func(q *gorm.DB) *gorm.DB {
				return q.Clauses(add("analytics_hours", "account_id", "product_id", "hour", "kind", "result")).CreateInBatches(b.Hours, rowsPerStatement)
			}},
			{len(b.HourDevices), func(q *gorm.DB) *gorm.DB {
				return q.Clauses(replace("account_id", "product_id", "dim", "hour", "value", "writer")).CreateInBatches(b.HourDevices, rowsPerStatement)
			}},
			{len(b.Days), func(q *gorm.DB) *gorm.DB {
				return q.Clauses(add("analytics_days", "account_id", "product_id", "dim", "day", "kind", "value")).CreateInBatches(b.Days, rowsPerStatement)
			}},
			{len(b.DayDevices), func(q *gorm.DB) *gorm.DB {
				return q.Clauses(replace("account_id", "product_id", "dim", "day", "value", "writer")).CreateInBatches(b.DayDevices, rowsPerStatement)
			}},
		}
		for _, st := range steps {
			if st.n == 0 {
				continue
			}
			if err := st.write(tx).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// setRowKey is a set row's key; a minute's has no dim nor value.
type setRowKey struct {
	account, product string
	unit             int64
	dim, value       string
	writer           string
}

// storedSet is a set row to merge and where the batch holds its devices.
type storedSet struct {
	key     setRowKey
	devices *[]byte
}

// setTable is a sets' table, its unit's column, whether it has the dim and
// value columns, and its rows to merge.
type setTable struct {
	name, unit string
	dims       bool
	rows       []storedSet
}

// mergeStored adds to each set row asking to Merge its stored row's
// devices, reading the stored rows a bounded chunk at a time.
func (s *Store) mergeStored(tx *gorm.DB, b *Batch) error {
	minutes := setTable{name: "analytics_minute_devices", unit: "minute"}
	for i, r := range b.MinuteDevices {
		if r.Merge {
			minutes.rows = append(minutes.rows, storedSet{setRowKey{r.AccountID, r.ProductID, r.Minute, "", "", r.Writer}, &b.MinuteDevices[i].Devices})
		}
	}
	hours := setTable{name: "analytics_hour_devices", unit: "hour", dims: true}
	for i, r := range b.HourDevices {
		if r.Merge {
			hours.rows = append(hours.rows, storedSet{setRowKey{r.AccountID, r.ProductID, r.Hour, r.Dim, r.Value, r.Writer}, &b.HourDevices[i].Devices})
		}
	}
	days := setTable{name: "analytics_day_devices", unit: "day", dims: true}
	for i, r := range b.DayDevices {
		if r.Merge {
			days.rows = append(days.rows, storedSet{setRowKey{r.AccountID, r.ProductID, r.Day, r.Dim, r.Value, r.Writer}, &b.DayDevices[i].Devices})
		}
	}
	for _, t := range []setTable{minutes, hours, days} {
		for chunk := range slices.Chunk(t.rows, rowsPerStatement) {
			if err := s.mergeChunk(tx, t, chunk); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) mergeChunk(tx *gorm.DB, t setTable, chunk []storedSet) error {
	cols, dims := "account_id, product_id, "+t.unit+", writer", "'' AS dim, '' AS value"
	if t.dims {
		cols, dims = "account_id, product_id, "+t.unit+", dim, value, writer", "dim, value"
	}
	keys := make([][]any, len(chunk))
	at := make(map[setRowKey]*[]byte, len(chunk))
	for i, r := range chunk {
		keys[i] = []any{r.key.account, r.key.product, r.key.unit, r.key.writer}
		if t.dims {
			keys[i] = []any{r.key.account, r.key.product, r.key.unit, r.key.dim, r.key.value, r.key.writer}
		}
		at[r.key] = r.devices
	}
	rows, err := database.Unprepared(tx).Table(t.name).Select("account_id, product_id, "+t.unit+", "+dims+", writer, devices").Where("("+cols+") IN ?", keys).Rows()
	if err != nil {
		return database.Error(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k      setRowKey
			stored []byte
		)
		if err := rows.Scan(&k.account, &k.product, &k.unit, &k.dim, &k.value, &k.writer, &stored); err != nil {
			return database.Error(err)
		}
		devices := at[k]
		if devices == nil {
			continue
		}
		var mine, theirs Set
		if err := mine.UnmarshalBinary(*devices); err != nil {
			return err
		}
		if err := theirs.UnmarshalBinary(stored); err != nil {
			return err
		}
		mine.Merge(&theirs)
		if *devices, err = mine.MarshalBinary(); err != nil {
			return err
		}
	}
	return database.Error(rows.Err())
}

// DefaultRetention is how long per-day rows are kept unless configured
// (RELKEY_ANALYTICS_RETENTION): 400 days.
const DefaultRetention = 400 * 24 * time.Hour

// RealtimeKeep is how long per-minute rows are kept.
const RealtimeKeep = 48 * time.Hour

// HourlyKeep is how long per-hour rows are kept: days in another offset
// than UTC (Nucleus's utcOffset) are made of them.
const HourlyKeep = 35 * 24 * time.Hour

// pruneBatch bounds the rows one prune statement deletes.
const pruneBatch = 5000

// Prune deletes per-minute rows older than RealtimeKeep, per-hour rows
// older than HourlyKeep and per-day rows
// older than retention, a bounded batch of each table per call; every
// replica may run it at once (deleting what another deleted is a no-op).
// It returns how many rows went.
func (s *Store) Prune(ctx context.Context, retention time.Duration, now time.Time) (int64, error) {
	minute, hour := Minute(now.Add(-RealtimeKeep)), Hour(now.Add(-HourlyKeep))
	day := Day(now.Add(-retention))
	var total int64
	for _, t := range []struct {
		table, column string
		before        int64
		keys          string
	}{
		{"analytics_minutes", "minute", minute, "account_id, product_id, minute, kind, result"},
		{"analytics_minute_devices", "minute", minute, "account_id, product_id, minute, writer"},
		{"analytics_hours", "hour", hour, "account_id, product_id, hour, kind, result"},
		{"analytics_hour_devices", "hour", hour, "account_id, product_id, dim, hour, value, writer"},
		{"analytics_days", "day", day, "account_id, product_id, dim, day, kind, value"},
		{"analytics_day_devices", "day", day, "account_id, product_id, dim, day, value, writer"},
	} {
		res := s.db.Conn(ctx).Exec("DELETE FROM "+t.table+" WHERE ("+t.keys+") IN (SELECT "+t.keys+" FROM "+t.table+" WHERE "+t.column+" < ? LIMIT ?)", t.before, pruneBatch)
		if res.Error != nil {
			return total, database.Error(res.Error)
		}
		total += res.RowsAffected
	}
	return total, nil
}

// Filter narrows a read to an account, a product ("" = every product) and
// a range.
type Filter struct {
	AccountID string
	ProductID string
	From, To  int64 // inclusive, in the table's unit
}

// Counts are summed counters keyed by their unit, kind and value.
type Counts struct {
	Unit  int64
	Kind  Kind
	Value string
	Count int64
}

// MinuteCounts sums the per-minute counters of f's minutes by minute, kind
// and result.
func (s *Store) MinuteCounts(ctx context.Context, f Filter) ([]Counts, error) {
	return s.unitCounts(ctx, &MinuteCount{}, "minute", f)
}

// HourCounts sums the per-hour counters of f's hours by hour, kind and
// result.
func (s *Store) HourCounts(ctx context.Context, f Filter) ([]Counts, error) {
	return s.unitCounts(ctx, &HourCount{}, "hour", f)
}

func (s *Store) unitCounts(ctx context.Context, model any, unit string, f Filter) ([]Counts, error) {
	var out []Counts
	q := s.db.Conn(ctx).Model(model).Select(unit+" AS unit, kind, result AS value, SUM(count) AS count").
		Where("account_id = ? AND "+unit+" BETWEEN ? AND ?", f.AccountID, f.From, f.To)
	if f.ProductID != "" {
		q = q.Where("product_id = ?", f.ProductID)
	}
	err := q.Group(unit + ", kind, result").Order(unit + ", kind, result").Scan(&out).Error
	return out, database.Error(err)
}

// DayCounts sums the per-day counters of f's days along dim, by day, kind
// and value; kinds narrows them (none = every kind).
func (s *Store) DayCounts(ctx context.Context, f Filter, dim string, kinds ...Kind) ([]Counts, error) {
	var out []Counts
	q := s.db.Conn(ctx).Model(&DayCount{}).Select("day AS unit, kind, dim, value, SUM(count) AS count").
		Where("account_id = ? AND day BETWEEN ? AND ?", f.AccountID, f.From, f.To)
	folded := dim == DimLicense && (len(kinds) == 0 || slices.Contains(kinds, Validation))
	if folded {
		q = q.Where("(dim = ? OR (dim = ? AND kind = ?))", dim, DimLicenseResult, Validation)
	} else {
		q = q.Where("dim = ?", dim)
	}
	if f.ProductID != "" {
		q = q.Where("product_id = ?", f.ProductID)
	}
	if len(kinds) > 0 {
		q = q.Where("kind IN ?", kinds)
	}
	var rows []struct {
		Counts
		Dim string
	}
	if err := q.Group("day, kind, dim, value").Order("day, kind, value").Scan(&rows).Error; err != nil {
		return nil, database.Error(err)
	}
	if !folded {
		for _, r := range rows {
			out = append(out, r.Counts)
		}
		return out, nil
	}
	// A license's validations: the sum of its results' counts.
	sums := map[Counts]int64{}
	for _, r := range rows {
		c := r.Counts
		if r.Dim == DimLicenseResult {
			c.Value, _, _ = strings.Cut(c.Value, "/")
		}
		n := c.Count
		c.Count = 0
		sums[c] += n
	}
	for c, n := range sums {
		c.Count = n
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Counts) int {
		return cmp.Or(cmp.Compare(a.Unit, b.Unit), strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Value, b.Value))
	})
	return out, nil
}

// Sets are merged device sets keyed by their unit and value.
type Sets struct {
	Unit  int64
	Value string
	Set   Set
}

// setRow is a stored set read back.
type setRow struct {
	Unit    int64
	Value   string
	Devices []byte
}

// MinuteDevicesIn merges the devices of f's minutes (every writer's, every
// minute's) into one set.
func (s *Store) MinuteDevicesIn(ctx context.Context, f Filter) (*Set, error) {
	var rows []setRow
	err := s.db.Conn(ctx).Model(&MinuteDevices{}).Select("minute AS unit, devices").
		Where("account_id = ? AND product_id = ? AND minute BETWEEN ? AND ?", f.AccountID, f.ProductID, f.From, f.To).
		Scan(&rows).Error
	if err != nil {
		return nil, database.Error(err)
	}
	var all Set
	for _, r := range rows {
		var one Set
		if err := one.UnmarshalBinary(r.Devices); err != nil {
			return nil, err
		}
		all.Merge(&one)
	}
	return &all, nil
}

// DayDevicesIn merges the devices of f's days along dim: per day and value
// (byDay), and per value over the whole range (total). The account's rows
// of every product (f.ProductID "") are stored apart for dim "" (product
// ""), and merged from every row for the other dimensions (where product
// "" holds the signals of no known product).
func (s *Store) DayDevicesIn(ctx context.Context, f Filter, dim string) (byDay []Sets, total map[string]*Set, err error) {
	return s.devicesIn(ctx, &DayDevices{}, "day", f, dim, func(day int64) int64 { return day })
}

// HourDevicesIn merges the devices of f's hours along dim (as DayDevicesIn
// does days') per bucket of hours (byBucket, bucket naming each hour's)
// and value, and per value over the whole range (total).
func (s *Store) HourDevicesIn(ctx context.Context, f Filter, dim string, bucket func(hour int64) int64) (byBucket []Sets, total map[string]*Set, err error) {
	return s.devicesIn(ctx, &HourDevices{}, "hour", f, dim, bucket)
}

func (s *Store) devicesIn(ctx context.Context, model any, unit string, f Filter, dim string, bucket func(int64) int64) ([]Sets, map[string]*Set, error) {
	var rows []setRow
	q := s.db.Conn(ctx).Model(model).Select(unit+" AS unit, value, devices").
		Where("account_id = ? AND dim = ? AND "+unit+" BETWEEN ? AND ?", f.AccountID, dim, f.From, f.To)
	if f.ProductID != "" || dim == DimAll {
		q = q.Where("product_id = ?", f.ProductID)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, nil, database.Error(err)
	}
	type at struct {
		unit  int64
		value string
	}
	merged, total := map[at]*Set{}, map[string]*Set{}
	for _, r := range rows {
		var one Set
		if err := one.UnmarshalBinary(r.Devices); err != nil {
			return nil, nil, err
		}
		k := at{bucket(r.Unit), r.Value}
		if merged[k] == nil {
			merged[k] = &Set{}
		}
		merged[k].Merge(&one)
		if total[r.Value] == nil {
			total[r.Value] = &Set{}
		}
		total[r.Value].Merge(&one)
	}
	out := make([]Sets, 0, len(merged))
	for k, set := range merged {
		out = append(out, Sets{Unit: k.unit, Value: k.value, Set: *set})
	}
	slices.SortFunc(out, func(a, b Sets) int { return cmp.Or(cmp.Compare(a.Unit, b.Unit), strings.Compare(a.Value, b.Value)) })
	return out, total, nil
}

// Inventory counts what an account holds now: licenses, machines, or users
// of role user (Keygen's gauges of the same names).
func (s *Store) Inventory(ctx context.Context, accountID, what string) (int64, error) {
	var n int64
	q := s.db.Conn(ctx).Table(what).Where("account_id = ?", accountID)
	if what == "users" {
		q = q.Where("role = ?", access.RoleUser)
	}
	return n, database.Error(q.Count(&n).Error)
}

// activeLicensesSQL selects the account's active licenses as Keygen's
// licensed-user count takes them: not owned by a banned user, and created,
// validated, checked out or checked in since the time given.
const activeLicensesSQL = `SELECT l.id, l.owner_id FROM licenses l LEFT JOIN users o ON o.id = l.owner_id
	WHERE l.account_id = @account AND o.banned_at IS NULL AND (l.created_at >= @since OR l.last_validated_at >= @since
	OR l.last_check_out_at >= @since OR l.last_check_in_at >= @since)`

// ActiveLicensedUsers is Keygen's licensed-user count (its alus gauge):
// the account's active licenses (see activeLicensesSQL) without any user,
// plus the distinct users owning or holding one.
func (s *Store) ActiveLicensedUsers(ctx context.Context, accountID string, since time.Time) (int64, error) {
	var n int64
	err := s.db.Conn(ctx).Raw(`WITH active AS (`+activeLicensesSQL+`)
		SELECT (SELECT COUNT(*) FROM active a WHERE a.owner_id IS NULL AND NOT EXISTS (SELECT 1 FROM license_users lu WHERE lu.license_id = a.id))
		+ (SELECT COUNT(*) FROM (SELECT owner_id AS user_id FROM active WHERE owner_id IS NOT NULL
			UNION SELECT lu.user_id FROM license_users lu JOIN active a ON a.id = lu.license_id) u)`,
		sql.Named("account", accountID), sql.Named("since", since.UTC())).Scan(&n).Error
	return n, database.Error(err)
}

// KindInventory marks the per-day rows of what accounts held (dim
// DimInventory, value the metric: licenses, machines, users, alus), the
// day's last snapshot (Keygen's nightly sparks).
const KindInventory Kind = "inventory"

// DimInventory is the dim of KindInventory's rows.
const DimInventory = "inventory"

// inventorySQL counts every account's holdings of a metric, for the
// accounts holding any.
var inventorySQL = map[string]string{
	"licenses": "SELECT account_id, COUNT(*) AS count FROM licenses GROUP BY account_id",
	"machines": "SELECT account_id, COUNT(*) AS count FROM machines GROUP BY account_id",
	"users":    "SELECT account_id, COUNT(*) AS count FROM users WHERE role = 'user' GROUP BY account_id",
}

// SnapshotInventory writes what every account holds now as the day's
// inventory rows (replacing the day's earlier snapshot): its licenses,
// machines, users of role user, and active licensed users (activity since
// alusSince). It returns how many rows it wrote.
func (s *Store) SnapshotInventory(ctx context.Context, now, alusSince time.Time) (int, error) {
	type held struct {
		AccountID string
		Count     int64
	}
	var rows []DayCount
	for _, metric := range []string{"licenses", "machines", "users"} {
		var counts []held
		if err := s.db.Conn(ctx).Raw(inventorySQL[metric]).Scan(&counts).Error; err != nil {
			return 0, database.Error(err)
		}
		for _, c := range counts {
			rows = append(rows, DayCount{AccountID: c.AccountID, Day: Day(now), Kind: KindInventory, Dim: DimInventory, Value: metric, Count: c.Count})
		}
	}
	var accounts []string
	if err := s.db.Conn(ctx).Raw("SELECT DISTINCT account_id FROM licenses").Scan(&accounts).Error; err != nil {
		return 0, database.Error(err)
	}
	for _, a := range accounts {
		n, err := s.ActiveLicensedUsers(ctx, a, alusSince)
		if err != nil {
			return 0, err
		}
		rows = append(rows, DayCount{AccountID: a, Day: Day(now), Kind: KindInventory, Dim: DimInventory, Value: "alus", Count: n})
	}
	if len(rows) == 0 {
		return 0, nil
	}
	err := s.db.Conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "account_id"}, {Name: "product_id"}, {Name: "dim"}, {Name: "day"}, {Name: "kind"}, {Name: "value"}},
		DoUpdates: clause.AssignmentColumns([]string{"count"}),
	}).CreateInBatches(rows, rowsPerStatement).Error
	return len(rows), database.Error(err)
}

// DayTally is a count on a UTC day (2006-01-02).
type DayTally struct {
	Day   string
	Count int64
}

// Expirations counts an account's licenses expiring in [since, until) by
// UTC day.
func (s *Store) Expirations(ctx context.Context, accountID string, since, until time.Time) ([]DayTally, error) {
	var out []DayTally
	day := s.db.UTCDate("expiry")
	err := s.db.Conn(ctx).Table("licenses").Select(day+" AS day, COUNT(*) AS count").
		Where("account_id = ? AND expiry >= ? AND expiry < ?", accountID, since.UTC(), until.UTC()).
		Group(day).Order("day").Scan(&out).Error
	return out, database.Error(err)
}
