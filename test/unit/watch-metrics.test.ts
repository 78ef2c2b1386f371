/** The watch's metrics on the worker: cycle duration, plan size and first message → applied, with bounded labels. */
import type { WorkflowInfo } from '@temporalio/workflow';
import { HISTOGRAM_BUCKETS, METRICS } from '../../src/metrics';
import { runMetricsSinks } from '../../src/run-metrics';
import { createWatchMetrics } from '../../src/watch-metrics';
import { recordingMeter } from '../support/recording-meter';

const info = { namespace: 'default', taskQueue: 'charging-points-sync', workflowType: 'watchChargingPoints', workflowId: 'charging-points-watch', runId: 'r-1' };
const labels = { namespace: 'default', task_queue: 'charging-points-sync', workflow_type: 'watchChargingPoints' };

describe('watch metrics', () => {
  it('record each cycle’s duration in seconds and its plan’s points, by decision', () => {
    const { meter, recorded } = recordingMeter();
    const metrics = createWatchMetrics(meter);
    metrics.cycleEnded(info, 180, 7, 'applied');
    metrics.cycleEnded(info, 40, 0, 'nothing-to-do');
    expect(recorded).toEqual([
      { name: METRICS.watchCycle, value: 0.18, tags: { ...labels, decision: 'applied' } },
      { name: METRICS.watchPlanPoints, value: 7, tags: { ...labels, decision: 'applied' } },
      { name: METRICS.watchCycle, value: 0.04, tags: { ...labels, decision: 'nothing-to-do' } },
      { name: METRICS.watchPlanPoints, value: 0, tags: { ...labels, decision: 'nothing-to-do' } },
    ]);
  });

  it('record first message → points applied in seconds, only when points were created', () => {
    const { meter, recorded } = recordingMeter();
    const metrics = createWatchMetrics(meter, () => 100_000);
    metrics.pointsApplied(info, 58_000, 3);
    metrics.pointsApplied(info, 10_000, 0);
    expect(recorded).toEqual([{ name: METRICS.watchLatency, value: 42, tags: labels }]);
  });

  it('never label with a watch or run id, and use snake_case labels', () => {
    const { meter, recorded } = recordingMeter();
    const metrics = createWatchMetrics(meter, () => 1000);
    metrics.cycleEnded(info, 1, 1, 'awaiting-approval');
    metrics.pointsApplied(info, 0, 1);
    for (const { tags } of recorded) {
      expect(Object.values(tags)).not.toContain(info.workflowId);
      expect(Object.values(tags)).not.toContain(info.runId);
      for (const key of Object.keys(tags)) expect(key).toMatch(/^[a-z]+(_[a-z]+)*$/);
    }
  });

  it('reach the worker through the watchMetrics sink, not on replay, with buckets for their ranges', () => {
    const { meter, recorded } = recordingMeter();
    const sinks = runMetricsSinks(meter);
    expect(sinks.watchMetrics.cycleEnded.callDuringReplay).toBe(false);
    expect(sinks.watchMetrics.pointsApplied.callDuringReplay).toBe(false);
    void sinks.watchMetrics.cycleEnded.fn(info as unknown as WorkflowInfo, 2000, 5, 'applied');
    expect(recorded.map((r) => r.name)).toEqual([METRICS.watchCycle, METRICS.watchPlanPoints]);
    expect(HISTOGRAM_BUCKETS[METRICS.watchLatency]).toEqual(expect.arrayContaining([10, 60]));
    expect(Object.keys(HISTOGRAM_BUCKETS)).toEqual(expect.arrayContaining([METRICS.watchCycle, METRICS.watchPlanPoints, METRICS.watchLatency]));
  });
});
