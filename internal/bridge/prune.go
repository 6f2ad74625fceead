package bridge

import (
	"context"
	"time"
)

// maintenanceKinds are the periodic jobs that run every few seconds.
var maintenanceKinds = []string{SchedulePollsArgs{}.Kind(), SweepArgs{}.Kind()}

// MaintenanceKeep is how long completed runs of the frequent periodic jobs
// stay in River's job list (River UI) before PruneMaintenanceJobs deletes
// them: long enough to see that they run, short enough that they do not
// bury the jobs that matter (River keeps other completed jobs 24 hours).
const MaintenanceKeep = time.Minute

// PruneMaintenanceJobs deletes the completed runs of the poll scheduler
// and the sweep older than MaintenanceKeep; failed runs stay.
func (b *Bridge) PruneMaintenanceJobs(ctx context.Context) error {
	_, err := b.store.PruneCompletedJobs(ctx, maintenanceKinds, MaintenanceKeep)
	return err
}
