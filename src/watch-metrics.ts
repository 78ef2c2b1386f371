/**
 * The worker's side of the watch's metrics: the watch tells each cycle's end and each apply through the
 * `watchMetrics` sink (workflows/watch-metrics.ts), labelled here as the SDK labels its own (namespace, task_queue,
 * workflow_type) plus the cycle's decision: never a watch's id, so the series stay as few as the task queues.
 */
import type { MetricMeter } from '@temporalio/common';
import type { WorkflowInfo } from '@temporalio/workflow';
import { METRICS, runLabels, type WatchCycleDecision } from './metrics';

type RunInfo = Pick<WorkflowInfo, 'namespace' | 'taskQueue' | 'workflowType'>;

export interface WatchMetrics {
  cycleEnded(info: RunInfo, durationMs: number, pointsToCreate: number, decision: WatchCycleDecision): void;
  pointsApplied(info: RunInfo, oldestHeardMs: number, created: number): void;
}

export function createWatchMetrics(meter: MetricMeter, now: () => number = Date.now): WatchMetrics {
  const cycles = meter.createHistogram(METRICS.watchCycle, 'float', undefined, "How long the watch's cycles took (plan, decision, apply), by decision (nothing-to-do, applied, awaiting-approval)");
  const planPoints = meter.createHistogram(METRICS.watchPlanPoints, 'int', undefined, "Points to create in each of the watch's cycle plans, by decision");
  const latency = meter.createHistogram(
    METRICS.watchLatency,
    'float',
    undefined,
    "For each plan the watch applied (at once or approved), from the first message of its oldest change to its points created, in seconds",
  );
  return {
    cycleEnded(info, durationMs, pointsToCreate, decision) {
      const labels = { ...runLabels(info), decision };
      cycles.record(Math.max(0, durationMs / 1000), labels);
      planPoints.record(Math.max(0, pointsToCreate), labels);
    },
    pointsApplied(info, oldestHeardMs, created) {
      if (created > 0) latency.record(Math.max(0, (now() - oldestHeardMs) / 1000), runLabels(info));
    },
  };
}
