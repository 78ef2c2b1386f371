/**
 * The workflow's metrics: each phase change goes to the worker (run-metrics.ts), which counts runs by outcome, times
 * approval waits and keeps the waiting runs. Through a sink rather than the workflow's metric meter: the worker
 * labels the values as the SDK labels its own (`task_queue`, not the meter's `taskQueue`), and sinks are not part
 * of the history, so this call may change without breaking a replay.
 */
import { proxySinks, workflowInfo } from '@temporalio/workflow';
import type { RunMetricsSinks } from '../metrics';
import type { Phase } from '../shared';

const { runMetrics } = proxySinks<RunMetricsSinks>();

/**
 * Called on each phase change, with when the plan started waiting (if it did) and the approval deadline (if any):
 * past it, the worker stops counting a run it never saw leave the wait (one terminated while it waited).
 */
export function recordPhase(from: Phase, to: Phase, awaitingSince: Date | undefined, approvalDeadline?: string): void {
  // A replay (another worker taking the run over, a query on an evicted run, a replay test) re-tells transitions
  // that were counted when they happened; the worker would drop them anyway (callDuringReplay: false).
  if (workflowInfo().unsafe.isReplaying) return;
  runMetrics.phaseChanged(from, to, awaitingSince?.getTime(), approvalDeadline === undefined ? undefined : Date.parse(approvalDeadline));
}
