/**
 * The worker's side of the workflow's metrics: the workflow tells each phase change through the `runMetrics` sink
 * (workflows/metrics.ts), and the worker counts runs ended by outcome, times approval waits, and keeps the runs
 * waiting for approval now. The sink is not called on replay, so each transition counts once, on the worker that
 * ran the workflow task.
 */
import type { MetricGauge, MetricMeter } from '@temporalio/common';
import type { InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { METRICS, runLabels, type RunLabels, type RunMetricsSinks } from './metrics';
import { FINAL_PHASES, type Phase } from './shared';
import { createWatchMetrics, type WatchMetrics } from './watch-metrics';

/** How often the waiting runs' gauges are set again while a run waits: the oldest wait's age moves with the clock. */
export const WAITING_REFRESH_MS = 5_000;

/**
 * A run still counted this long after its approval deadline left the wait without telling this worker: it was
 * terminated, or another worker took it over. A live run expires at the deadline; the margin covers a busy worker.
 */
export const PAST_DEADLINE_MS = 10 * 60_000;

/** As the SDK labels its own workflow metrics (metrics.ts, shared with the watch's). */
export { runLabels };

/** How a wait for approval ended: `approved`, or the phase the run went to (rejected, expired, cancelled, failed…). */
export function waitOutcome(to: Phase): string {
  return to === 'applying' ? 'approved' : to;
}

/**
 * The runs this worker saw start waiting for approval and not leave it yet, by run id, as two gauges per label set:
 * how many, and the oldest one's age. A run id never becomes a label: the series stay as few as the task queues.
 */
export class WaitingRuns {
  private readonly runs = new Map<string, { sinceMs: number; forgetAtMs: number; series: string }>();
  /** Every label set reported so far, so that one whose last run left goes back to 0 rather than keeping its value. */
  private readonly series = new Map<string, RunLabels>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly count: MetricGauge,
    private readonly oldestAge: MetricGauge,
    private readonly now: () => number = Date.now,
  ) {}

  started(runId: string, labels: RunLabels, sinceMs: number, deadlineMs?: number): void {
    const series = JSON.stringify(labels);
    this.series.set(series, labels);
    this.runs.set(runId, { sinceMs, forgetAtMs: deadlineMs === undefined ? Infinity : deadlineMs + PAST_DEADLINE_MS, series });
    this.refresh();
  }

  left(runId: string): void {
    if (this.runs.delete(runId)) this.refresh();
  }

  /** Sets both gauges of every label set from the runs waiting now; keeps refreshing while any waits. */
  refresh(): void {
    const now = this.now();
    for (const [runId, { forgetAtMs }] of this.runs) if (forgetAtMs <= now) this.runs.delete(runId);
    const bySeries = new Map<string, { count: number; oldestMs: number }>();
    for (const { sinceMs, series } of this.runs.values()) {
      const seen = bySeries.get(series);
      bySeries.set(series, seen === undefined ? { count: 1, oldestMs: sinceMs } : { count: seen.count + 1, oldestMs: Math.min(seen.oldestMs, sinceMs) });
    }
    for (const [series, labels] of this.series) {
      const waiting = bySeries.get(series);
      this.count.set(waiting?.count ?? 0, labels);
      this.oldestAge.set(waiting === undefined ? 0 : Math.max(0, (now - waiting.oldestMs) / 1000), labels);
    }
    this.keepRefreshing(this.runs.size > 0);
  }

  private keepRefreshing(on: boolean): void {
    if (on && this.timer === undefined) {
      this.timer = setInterval(() => this.refresh(), WAITING_REFRESH_MS);
      // The gauges never keep a worker that is shutting down alive.
      this.timer.unref();
    } else if (!on && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

export interface RunMetrics {
  phaseChanged(info: Pick<WorkflowInfo, 'runId' | 'namespace' | 'taskQueue' | 'workflowType'>, from: Phase, to: Phase, awaitingSinceMs: number | undefined, deadlineMs?: number): void;
}

export function createRunMetrics(meter: MetricMeter, now: () => number = Date.now): RunMetrics {
  const plans = meter.createCounter(METRICS.plans, undefined, `Runs ended, by outcome (the final phase: ${FINAL_PHASES.join(', ')})`);
  const waits = meter.createHistogram(
    METRICS.approvalWait,
    'float',
    undefined,
    'How long plans waited for a decision, by outcome (approved, or the phase the run ended in: rejected, expired, cancelled, failed)',
  );
  const waiting = new WaitingRuns(
    meter.createGauge(METRICS.runsAwaitingApproval, 'int', undefined, 'Runs whose plan waits for approval, of those this worker saw start waiting'),
    meter.createGauge(METRICS.oldestApprovalWait, 'float', undefined, 'How long the oldest of those plans has been waiting for approval, 0 when none waits'),
    now,
  );
  return {
    phaseChanged(info, from, to, awaitingSinceMs, deadlineMs) {
      const labels = runLabels(info);
      if (to !== 'awaiting-approval') waiting.left(info.runId);
      else if (awaitingSinceMs !== undefined) waiting.started(info.runId, labels, awaitingSinceMs, deadlineMs);
      if (from === 'awaiting-approval' && to !== 'awaiting-approval' && awaitingSinceMs !== undefined) {
        waits.record(Math.max(0, (now() - awaitingSinceMs) / 1000), { ...labels, outcome: waitOutcome(to) });
      }
      if (FINAL_PHASES.includes(to)) plans.add(1, { ...labels, outcome: to });
    },
  };
}

/** One recorder per meter: the workers of one process (tests run several) share its endpoint and so its series. */
const recorders = new WeakMap<MetricMeter, { run: RunMetrics; watch: WatchMetrics }>();

/** The worker's `sinks` option: the workflow's phase changes and the watch's cycles, recorded on `meter` (the Runtime's). */
export function runMetricsSinks(meter: MetricMeter): InjectedSinks<RunMetricsSinks> {
  const recorder = recorders.get(meter) ?? { run: createRunMetrics(meter), watch: createWatchMetrics(meter) };
  recorders.set(meter, recorder);
  return {
    runMetrics: { phaseChanged: { fn: (info, ...change) => recorder.run.phaseChanged(info, ...change), callDuringReplay: false } },
    watchMetrics: {
      cycleEnded: { fn: (info, ...cycle) => recorder.watch.cycleEnded(info, ...cycle), callDuringReplay: false },
      pointsApplied: { fn: (info, ...applied) => recorder.watch.pointsApplied(info, ...applied), callDuringReplay: false },
    },
  };
}
