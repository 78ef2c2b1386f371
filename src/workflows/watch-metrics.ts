/**
 * The watch's metrics, told to the worker (watch-metrics.ts) through the `watchMetrics` sink: sinks are not in the
 * history, so these calls may change without breaking a replay, and a replay does not count a cycle twice.
 */
import { proxySinks, workflowInfo } from '@temporalio/workflow';
import type { RunMetricsSinks, WatchCycleDecision } from '../metrics';

const { watchMetrics } = proxySinks<RunMetricsSinks>();

export function recordCycle(durationMs: number, pointsToCreate: number, decision: WatchCycleDecision): void {
  if (workflowInfo().unsafe.isReplaying) return;
  watchMetrics.cycleEnded(durationMs, pointsToCreate, decision);
}

/** Points created for a plan whose oldest change was heard at `oldestHeard` (ISO); plans of earlier versions have none. */
export function recordApplied(oldestHeard: string | undefined, created: number): void {
  if (oldestHeard === undefined || workflowInfo().unsafe.isReplaying) return;
  watchMetrics.pointsApplied(Date.parse(oldestHeard), created);
}
