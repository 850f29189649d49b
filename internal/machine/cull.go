package machine

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/policy"
)

// Culler deactivates machines (and kills processes) whose heartbeat died,
// for policies with the DEACTIVATE_DEAD cull strategy, once any
// resurrection window has passed.
// Every replica may run one: each pass is one conditional DELETE per such
// policy, so concurrent passes neither repeat nor miss work.
type Culler struct {
	db  *database.DB
	now func() time.Time
}

// NewCuller returns a culler over db.
func NewCuller(db *database.DB) *Culler {
	return &Culler{db: db, now: time.Now}
}

type cullPolicy struct {
	ID                            string
	HeartbeatDuration             *int64
	HeartbeatResurrectionStrategy string
	RequireHeartbeat              bool
}

// Cull runs one pass and returns how many machines it deactivated.
func (c *Culler) Cull(ctx context.Context) (int64, error) {
	var policies []cullPolicy
	err := c.db.Conn(ctx).Table("policies").
		Select("id, heartbeat_duration, heartbeat_resurrection_strategy, require_heartbeat").
		Where("heartbeat_cull_strategy = ?", policy.DeactivateDead).Find(&policies).Error
	if err != nil {
		return 0, database.Error(err)
	}
	now := c.now().UTC()
	var culled int64
	for _, p := range policies {
		seconds := int64(policy.DefaultHeartbeatDuration)
		if p.HeartbeatDuration != nil {
			seconds = *p.HeartbeatDuration
		}
		duration := time.Duration(seconds) * time.Second
		grace := revivalWindow(p.HeartbeatResurrectionStrategy)
		deadBefore := now.Add(-duration - grace)
		// Never pinged: dead only when a heartbeat is required and the
		// machine is older than the heartbeat duration.
		res := c.db.Conn(ctx).Exec(`DELETE FROM machines WHERE policy_id = ? AND (
				(last_heartbeat_at IS NOT NULL AND last_heartbeat_at < ?) OR
				(? AND last_heartbeat_at IS NULL AND created_at < ?))`,
			p.ID, deadBefore, p.RequireHeartbeat, deadBefore)
		if res.Error != nil {
			return culled, database.Error(res.Error)
		}
		culled += res.RowsAffected
		// Processes die with their heartbeat too.
		res = c.db.Conn(ctx).Exec(`DELETE FROM processes WHERE policy_id = ? AND last_heartbeat_at < ?`, p.ID, deadBefore)
		if res.Error != nil {
			return culled, database.Error(res.Error)
		}
		culled += res.RowsAffected
	}
	return culled, nil
}
