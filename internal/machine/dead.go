package machine

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/policy"
)

// Deaths emits machine.heartbeat.dead and process.heartbeat.dead, as
// Keygen's heartbeat workers do: once per life (a ping starts a new one),
// when a heartbeat is past due, within window of the death (passes run
// every minute, so only a relkey down for longer misses deaths). Every
// replica may run the pass: each event is written once per machine or
// process and life, whichever pass finds it first.
type Deaths struct {
	db     *database.DB
	events event.Once
	window time.Duration
}

// NewDeaths returns the heartbeat-death pass over db, reporting deaths of
// the last day.
func NewDeaths(db *database.DB, events event.Once) *Deaths {
	return &Deaths{db: db, events: events, window: 24 * time.Hour}
}

// Pass emits the deaths due at now and returns how many events it wrote.
func (d *Deaths) Pass(ctx context.Context, now time.Time) (int, error) {
	var policies []policy.Policy
	if err := d.db.Conn(ctx).Find(&policies).Error; err != nil {
		return 0, database.Error(err)
	}
	now = now.UTC()
	written := 0
	for i := range policies {
		pol := &policies[i]
		deadBefore := now.Add(-time.Duration(pol.HeartbeatSeconds()) * time.Second)
		since := deadBefore.Add(-d.window)
		var machines []Machine
		// Never pinged: dead only when a heartbeat is required.
		err := d.db.Conn(ctx).Where(`policy_id = ? AND (
				(last_heartbeat_at IS NOT NULL AND last_heartbeat_at < ? AND last_heartbeat_at >= ?) OR
				(? AND last_heartbeat_at IS NULL AND created_at < ? AND created_at >= ?))`,
			pol.ID, deadBefore, since, pol.RequireHeartbeat, deadBefore, since).Find(&machines).Error
		if err != nil {
			return written, database.Error(err)
		}
		for j := range machines {
			m := &machines[j]
			life := m.CreatedAt
			if m.LastHeartbeatAt != nil {
				life = *m.LastHeartbeatAt
			}
			n, err := d.once(ctx, occurred(nil, event.MachineHeartbeatDead, m, pol), life)
			written += n
			if err != nil {
				return written, err
			}
		}
		var processes []Process
		err = d.db.Conn(ctx).Where("policy_id = ? AND last_heartbeat_at < ? AND last_heartbeat_at >= ?", pol.ID, deadBefore, since).
			Find(&processes).Error
		if err != nil {
			return written, database.Error(err)
		}
		for j := range processes {
			p := &processes[j]
			n, err := d.once(ctx, processOccurred(nil, event.ProcessHeartbeatDead, p, pol), p.LastHeartbeatAt)
			written += n
			if err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// once emits occ once for the life that started at life.
func (d *Deaths) once(ctx context.Context, occ event.Occurrence, life time.Time) (int, error) {
	wrote, err := d.events.EmitOnce(ctx, occ, life.UTC().Format(time.RFC3339Nano))
	if wrote {
		return 1, err
	}
	return 0, err
}
