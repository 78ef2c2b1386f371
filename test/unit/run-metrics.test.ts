/**
 * The worker's side of the workflow's metrics (src/run-metrics.ts): labels as the SDK's (snake_case, no run or
 * workflow id), runs ended by every final phase, approval waits by how they ended, and the waiting runs as a count
 * and the oldest wait's age.
 */
import { createRunMetrics, PAST_DEADLINE_MS, runLabels, WaitingRuns, WAITING_REFRESH_MS } from '../../src/run-metrics';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAILURE_CLASS_PHASES } from '../../src/domain/phases';
import { FINAL_PHASES, type Phase } from '../../src/shared';
import { recordingMeter } from '../support/recording-meter';

const info = (runId: string, taskQueue = 'charging-points-sync') => ({ runId, namespace: 'default', taskQueue, workflowType: 'syncChargingPoints' });
const HOUR = 3600_000;

describe('run metrics', () => {
  it('labels a run as the SDK does: namespace, task_queue, workflow_type; never its workflow or run id', () => {
    const { meter, recorded } = recordingMeter();
    const metrics = createRunMetrics(meter, () => 10 * HOUR);
    metrics.phaseChanged(info('r1'), 'planning', 'awaiting-approval', 9 * HOUR);
    metrics.phaseChanged(info('r1'), 'awaiting-approval', 'applying', 9 * HOUR);
    metrics.phaseChanged(info('r1'), 'applying', 'applied', 9 * HOUR);
    expect(recorded.length).toBeGreaterThan(0);
    for (const { tags } of recorded) {
      for (const key of Object.keys(tags)) expect(key).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(tags).toMatchObject(runLabels(info('r1')));
      expect(Object.values(tags)).not.toContain('r1');
    }
    expect(runLabels(info('r1'))).toEqual({ namespace: 'default', task_queue: 'charging-points-sync', workflow_type: 'syncChargingPoints' });
  });

  it.each(FINAL_PHASES.map((phase) => [phase]))('counts a run that ended %s under that outcome, once', (phase: Phase) => {
    const { meter, recorded } = recordingMeter();
    const metrics = createRunMetrics(meter);
    metrics.phaseChanged(info('r1'), 'collecting', 'planning', undefined);
    metrics.phaseChanged(info('r1'), 'planning', phase, undefined);
    expect(recorded.filter((r) => r.name === 'cp_sync_plans')).toEqual([{ name: 'cp_sync_plans', value: 1, tags: { ...runLabels(info('r1')), outcome: phase } }]);
  });

  it('counts heard-nothing and cancelled under outcomes of their own: both are final phases now', () => {
    expect(FINAL_PHASES).toEqual(expect.arrayContaining(['heard-nothing', 'cancelled']));
    const { meter, recorded } = recordingMeter();
    const metrics = createRunMetrics(meter);
    metrics.phaseChanged(info('r-heard'), 'planning', 'heard-nothing', undefined);
    metrics.phaseChanged(info('r-cancel'), 'awaiting-approval', 'cancelled', undefined);
    expect(recorded.filter((r) => r.name === 'cp_sync_plans').map((r) => [r.tags.outcome, r.value])).toEqual([
      ['heard-nothing', 1],
      ['cancelled', 1],
    ]);
  });

  it('heard-nothing counts toward the documented failure alert (CpSyncRunFailed), cancelled never does', () => {
    const matchesAlert = failureAlertOutcomes();
    // The alert and the phase rules name the same failure class, over every outcome a run can end with.
    expect(FINAL_PHASES.filter(matchesAlert)).toEqual([...FAILURE_CLASS_PHASES]);
    const failuresCounted = (ending: Phase): number => {
      const { meter, recorded } = recordingMeter();
      createRunMetrics(meter).phaseChanged(info(`r-${ending}`), 'awaiting-approval', ending, undefined);
      return recorded.filter((r) => r.name === 'cp_sync_plans' && matchesAlert(String(r.tags.outcome))).reduce((sum, r) => sum + r.value, 0);
    };
    expect(failuresCounted('heard-nothing')).toBe(1);
    expect(failuresCounted('failed')).toBe(1);
    expect(failuresCounted('cancelled')).toBe(0);
    expect(failuresCounted('rejected')).toBe(0);
  });

  it('times each approval wait by how it ended: approved, or the phase it went to (cancelled is not failed)', () => {
    const { meter, recorded } = recordingMeter();
    const metrics = createRunMetrics(meter, () => 10 * HOUR);
    const waitThen = (runId: string, to: Phase, sinceMs: number): void => {
      metrics.phaseChanged(info(runId), 'planning', 'awaiting-approval', sinceMs);
      metrics.phaseChanged(info(runId), 'awaiting-approval', to, sinceMs);
    };
    waitThen('r1', 'applying', 9 * HOUR);
    waitThen('r2', 'rejected', 8 * HOUR);
    waitThen('r3', 'cancelled', 10 * HOUR - 30_000);
    expect(recorded.filter((r) => r.name === 'cp_sync_approval_wait_seconds').map((r) => [r.tags.outcome, r.value])).toEqual([
      ['approved', 3600],
      ['rejected', 7200],
      ['cancelled', 30],
    ]);
  });

  it('keeps the waiting runs as a count and the oldest wait in seconds, per task queue, back to 0 once none waits', () => {
    let now = 10 * HOUR;
    const { meter, last } = recordingMeter();
    const metrics = createRunMetrics(meter, () => now);
    const queueA = { task_queue: 'a' };
    const queueB = { task_queue: 'b' };
    metrics.phaseChanged(info('r1', 'a'), 'planning', 'awaiting-approval', 5 * HOUR);
    metrics.phaseChanged(info('r2', 'a'), 'planning', 'awaiting-approval', 9 * HOUR);
    metrics.phaseChanged(info('r3', 'b'), 'planning', 'awaiting-approval', 10 * HOUR);
    expect(last('cp_sync_runs_awaiting_approval', queueA)).toBe(2);
    expect(last('cp_sync_oldest_approval_wait_seconds', queueA)).toBe(5 * 3600);
    expect(last('cp_sync_runs_awaiting_approval', queueB)).toBe(1);
    expect(last('cp_sync_oldest_approval_wait_seconds', queueB)).toBe(0);

    now += 60_000;
    metrics.phaseChanged(info('r1', 'a'), 'awaiting-approval', 'expired', 5 * HOUR);
    expect(last('cp_sync_runs_awaiting_approval', queueA)).toBe(1);
    expect(last('cp_sync_oldest_approval_wait_seconds', queueA)).toBe(3600 + 60);

    metrics.phaseChanged(info('r2', 'a'), 'awaiting-approval', 'applying', 9 * HOUR);
    metrics.phaseChanged(info('r3', 'b'), 'awaiting-approval', 'rejected', 10 * HOUR);
    for (const queue of [queueA, queueB]) {
      expect(last('cp_sync_runs_awaiting_approval', queue)).toBe(0);
      expect(last('cp_sync_oldest_approval_wait_seconds', queue)).toBe(0);
    }
  });

  it('a run this worker never saw waiting (taken over after a restart) changes no count when it leaves the wait', () => {
    const { meter, recorded, last } = recordingMeter();
    const metrics = createRunMetrics(meter, () => 10 * HOUR);
    metrics.phaseChanged(info('r1'), 'planning', 'awaiting-approval', 9 * HOUR);
    metrics.phaseChanged(info('elsewhere'), 'awaiting-approval', 'applying', 8 * HOUR);
    expect(last('cp_sync_runs_awaiting_approval')).toBe(1);
    // Its wait is still timed: the workflow carries when it started.
    expect(recorded.filter((r) => r.name === 'cp_sync_approval_wait_seconds').map((r) => r.value)).toEqual([7200]);
  });
});

describe('WaitingRuns', () => {
  afterEach(() => jest.useRealTimers());

  it('sets the oldest wait again as the clock moves while a run waits, and stops once none waits', () => {
    jest.useFakeTimers();
    let now = 0;
    const { meter, last, recorded } = recordingMeter();
    const waiting = new WaitingRuns(meter.createGauge('count'), meter.createGauge('oldest'), () => now);
    waiting.started('r1', runLabels(info('r1')), 0);
    expect(last('oldest')).toBe(0);
    now = 3 * WAITING_REFRESH_MS;
    jest.advanceTimersByTime(3 * WAITING_REFRESH_MS);
    expect(last('oldest')).toBe((3 * WAITING_REFRESH_MS) / 1000);
    waiting.left('r1');
    expect(last('count')).toBe(0);
    const afterLeaving = recorded.length;
    jest.advanceTimersByTime(10 * WAITING_REFRESH_MS);
    expect(recorded.length).toBe(afterLeaving);
  });

  it('stops counting a run it never saw leave (terminated while waiting) once its deadline is well past', () => {
    jest.useFakeTimers();
    let now = 0;
    const { meter, last } = recordingMeter();
    const waiting = new WaitingRuns(meter.createGauge('count'), meter.createGauge('oldest'), () => now);
    waiting.started('terminated', runLabels(info('terminated')), 0, HOUR);
    waiting.started('old-version', runLabels(info('old-version')), 0);
    now = HOUR + PAST_DEADLINE_MS - 1;
    jest.advanceTimersByTime(WAITING_REFRESH_MS);
    expect(last('count')).toBe(2);
    now = HOUR + PAST_DEADLINE_MS;
    jest.advanceTimersByTime(WAITING_REFRESH_MS);
    // A run of an earlier version has no deadline to go by: it stays until it leaves.
    expect(last('count')).toBe(1);
  });
});

/**
 * The outcomes the operator's failure alert counts: the `outcome=~"…"` matcher of the CpSyncRunFailed rule, wherever
 * the README or docs/ put it, as Prometheus applies it (the whole value must match).
 */
function failureAlertOutcomes(): (outcome: string) => boolean {
  const root = join(__dirname, '..', '..');
  const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  for (const document of documents) {
    const rule = /- alert: CpSyncRunFailed\n(?:[ \t]+#.*\n)*[ \t]+expr: .*cp_sync_plans_total\{outcome=~"([^"]+)"\}/.exec(readFileSync(join(root, document), 'utf8'));
    if (rule) {
      const matcher = new RegExp(`^(?:${rule[1]})$`);
      return (outcome) => matcher.test(outcome);
    }
  }
  throw new Error('no CpSyncRunFailed alert rule with an outcome=~ matcher in README.md or docs/*.md');
}
