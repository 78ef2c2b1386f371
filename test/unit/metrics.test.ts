/** The activities' metrics (src/metrics.ts, activities/observability.ts): attempts labelled as the SDK's own. */
import { activityLabels } from '../../src/activities/observability';
import { createSyncMetrics } from '../../src/metrics';
import { recordingMeter } from '../support/recording-meter';

describe('activity attempts', () => {
  it('are labelled namespace, task_queue, activity_type and outcome, as the SDK labels its activity metrics', () => {
    const { meter, recorded } = recordingMeter();
    const labels = activityLabels({ namespace: 'default', taskQueue: 'charging-points-sync', activityType: 'diffStations' });
    createSyncMetrics(meter).attempt(labels, 'cancelled');
    expect(recorded).toEqual([
      {
        name: 'cp_sync_activity_attempts',
        value: 1,
        tags: { namespace: 'default', task_queue: 'charging-points-sync', activity_type: 'diffStations', outcome: 'cancelled' },
      },
    ]);
  });
});
