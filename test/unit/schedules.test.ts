import { CliError, EXIT } from '../../src/domain/exit-codes';
import { checkApprovalTimeout, scheduleSpec, shortestInterval } from '../../src/client/schedule-spec';
import { checkUpdateOptions, updatedInput, updatedSpec } from '../../src/cli/schedule-update';
import { formatSchedule, viewOfDescription, type ScheduleView } from '../../src/client/schedule-view';
import type { SyncInput } from '../../src/shared';

describe('scheduleSpec', () => {
  it('turns --every into an interval', () => {
    expect(scheduleSpec({ everyMs: 86_400_000 })).toEqual({ intervals: [{ every: 86_400_000 }], timezone: undefined, text: 'every 24 h' });
    expect(scheduleSpec({ everyMs: 90 * 60_000 }).text).toBe('every 1 h 30 min');
  });

  it('passes --cron on, with its time zone', () => {
    expect(scheduleSpec({ cron: '0 2 * * *', timezone: 'Europe/Berlin' })).toEqual({ cronExpressions: ['0 2 * * *'], timezone: 'Europe/Berlin', text: 'cron "0 2 * * *" (Europe/Berlin)' });
    expect(scheduleSpec({ cron: '@daily' }).text).toBe('cron "@daily" (UTC)');
  });

  it.each([
    [{}, 'expected exactly one of --every <duration> and --cron'],
    [{ everyMs: 3_600_000, cron: '0 2 * * *' }, 'expected exactly one of --every <duration> and --cron'],
    [{ everyMs: 30_000 }, '--every: expected at least 1m'],
    [{ cron: '0 2 *' }, '--cron: expected 5 fields'],
  ])('refuses %o as bad usage', (option, message) => {
    let error: unknown;
    try {
      scheduleSpec(option);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toContain(message);
    expect((error as CliError).exitCode).toBe(EXIT.usage);
  });
});

function usageError(check: () => unknown): CliError {
  let error: unknown;
  try {
    check();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).exitCode).toBe(EXIT.usage);
  return error as CliError;
}

describe('--timezone', () => {
  it('goes with --cron only, and names a zone the runtime knows', () => {
    expect(usageError(() => scheduleSpec({ everyMs: 3_600_000, timezone: 'Europe/Berlin' })).message).toContain('--timezone: only with --cron');
    expect(usageError(() => scheduleSpec({ cron: '0 2 * * *', timezone: 'Europe/Berln' })).message).toContain('--timezone: unknown time zone "Europe/Berln"');
    expect(usageError(() => scheduleSpec({ cron: 'CRON_TZ=UTC 0 2 * * *', timezone: 'Europe/Berlin' })).message).toContain('--timezone contradicts it');
  });
});

describe('the approval timeout against the time between two runs', () => {
  const NOW = Date.parse('2026-11-27T12:00:00Z');

  it('is the interval, or the shortest gap between the next times of the cron in its zone', () => {
    expect(shortestInterval({ everyMs: 86_400_000 })).toBe(86_400_000);
    expect(shortestInterval({ cron: '0 2 * * *', timezone: 'Europe/Berlin' }, NOW)).toBe(86_400_000);
    expect(shortestInterval({ cron: '0 2,14 * * *' }, NOW)).toBe(12 * 3_600_000);
    expect(shortestInterval({ cron: '0 9 * * MON-FRI' }, NOW)).toBe(86_400_000);
    expect(shortestInterval({ cron: '@every 6h' }, NOW)).toBe(6 * 3_600_000);
    expect(shortestInterval({ cron: '0 2 15W * *' }, NOW)).toBeUndefined();
  });

  it('refuses a timeout at or above it with exit 2, both in people\'s units', () => {
    const rule = { approvalTimeoutMs: 86_400_000, source: 'APPROVAL_TIMEOUT', intervalMs: 86_400_000, specText: 'cron "0 2 * * *" (UTC)' };
    expect(usageError(() => checkApprovalTimeout(rule)).message).toBe(
      'Refused: the approval timeout, 24 h (APPROVAL_TIMEOUT), is not shorter than the time between two runs, 24 h (cron "0 2 * * *" (UTC)): ' +
        'a run still waiting for approval makes the next one skip. Set a shorter --approval-timeout (or APPROVAL_TIMEOUT), or pass --force to keep it.',
    );
    expect(usageError(() => checkApprovalTimeout({ ...rule, approvalTimeoutMs: 36 * 3_600_000, intervalMs: 12 * 3_600_000, source: '--approval-timeout' })).message).toContain(
      'the approval timeout, 36 h (--approval-timeout), is not shorter than the time between two runs, 12 h',
    );
  });

  it('lets a shorter timeout pass, an unknown interval too, and --force insist with a warning', () => {
    const rule = { approvalTimeoutMs: 86_400_000, source: 'APPROVAL_TIMEOUT', intervalMs: 86_400_000, specText: 'every 24 h' };
    expect(checkApprovalTimeout({ ...rule, approvalTimeoutMs: 86_399_999 })).toBeUndefined();
    expect(checkApprovalTimeout({ ...rule, intervalMs: undefined })).toBeUndefined();
    expect(checkApprovalTimeout({ ...rule, force: true })).toMatch(/^Warning: the approval timeout, 24 h \(APPROVAL_TIMEOUT\), is not shorter .*; kept because of --force\.$/);
  });
});

describe('schedule update', () => {
  const input: SyncInput = { collectorDurationMs: 60_000, approvalTimeoutMs: 3_600_000, maxConnectors: 16, account: 'acc1', dryRun: false, autoApprove: false, autoApproveMaxPoints: 5 };

  it('needs something to change, and at most one of --every and --cron', () => {
    expect(usageError(() => checkUpdateOptions({ json: true, force: true })).message).toContain('schedule update: nothing to change');
    expect(usageError(() => checkUpdateOptions({ every: 3_600_000, cron: '0 2 * * *' })).message).toContain('expected at most one of --every');
    expect(() => checkUpdateOptions({ note: 'weekly now' })).not.toThrow();
  });

  it('keeps the cron\'s time zone for a new cron, moves the cron for --timezone alone', () => {
    const settings = { cron: '0 2 * * *', timezone: 'Europe/Berlin' };
    expect(updatedSpec({ cron: '0 3 * * *' }, settings)).toEqual({ cron: '0 3 * * *', timezone: 'Europe/Berlin' });
    expect(updatedSpec({ timezone: 'UTC' }, settings)).toEqual({ cron: '0 2 * * *', timezone: 'UTC' });
    expect(updatedSpec({ every: 7_200_000 }, settings)).toEqual({ everyMs: 7_200_000, timezone: undefined });
    expect(updatedSpec({ note: 'x' }, settings)).toBeUndefined();
    expect(usageError(() => updatedSpec({ timezone: 'UTC' }, { everyMs: 3_600_000 })).message).toContain('--timezone: this schedule has no cron expression');
  });

  it('changes the input it is given and holds the rules of create', () => {
    expect(updatedInput(input, { duration: 8000, account: 'acc2', autoApproveMaxStations: 2, approvalTimeout: 600_000 })).toEqual({
      ...input,
      collectorDurationMs: 8000,
      account: 'acc2',
      autoApproveMaxStations: 2,
      approvalTimeoutMs: 600_000,
    });
    expect(usageError(() => updatedInput({ ...input, autoApproveMaxPoints: undefined, autoApprove: true }, { autoApproveMaxPoints: 3 })).message).toContain('--auto-approve applies any plan');
    expect(usageError(() => updatedInput(input, { account: 'a/b' })).message).toContain('--account: expected one topic level');
  });

  it('changes the silence limit (--max-silent-stations), a change on its own', () => {
    expect(() => checkUpdateOptions({ maxSilentStations: 80 })).not.toThrow();
    expect(updatedInput({ ...input, maxSilentStations: 50 }, { maxSilentStations: 80 })).toEqual({ ...input, maxSilentStations: 80 });
    expect(updatedInput({ ...input, maxSilentStations: 50 }, { maxSilentStations: 0 }).maxSilentStations).toBe(0);
  });
});

describe('a schedule for people', () => {
  const view: ScheduleView = {
    scheduleId: 'nightly',
    spec: 'cron "0 2 * * *" (Europe/Berlin)',
    timezone: 'Europe/Berlin',
    paused: true,
    note: 'nightly sync of the EU network',
    pauseNote: 'maintenance of ocpp-db',
    nextRuns: ['2026-11-29T01:00:00.000Z'],
    recentRuns: [
      { workflowId: 'nightly-2026-11-27T01:00:00Z', runId: 'r1', scheduledAt: '2026-11-27T01:00:00.000Z', startedAt: '2026-11-27T01:00:01.000Z', phase: 'applied', outcome: 'applied: 2 points created on 1 stations; approved by auto-approve (limit 5)' },
      { workflowId: 'nightly-2026-11-28T01:00:00Z', runId: 'r2', scheduledAt: '2026-11-28T01:00:00.000Z', startedAt: '2026-11-28T01:00:02.000Z', phase: 'terminated', outcome: 'awaiting approval' },
      { workflowId: 'nightly-gone', runId: 'r3', scheduledAt: '2026-11-28T01:00:00.000Z', startedAt: '2026-11-28T01:00:02.000Z' },
    ],
    running: [],
  };

  it('shows both notes, next times in its zone and each recent run\'s outcome beside its start', () => {
    expect(formatSchedule(view)).toEqual([
      'Schedule nightly: cron "0 2 * * *" (Europe/Berlin) · PAUSED',
      '  note: nightly sync of the EU network',
      '  paused: maintenance of ocpp-db',
      '  next: (paused)',
      '  ran: 2026-11-27 02:00:01 Europe/Berlin  nightly-2026-11-27T01:00:00Z  applied: 2 points created on 1 stations; approved by auto-approve (limit 5)',
      '  ran: 2026-11-28 02:00:02 Europe/Berlin  nightly-2026-11-28T01:00:00Z  terminated',
      '  ran: 2026-11-28 02:00:02 Europe/Berlin  nightly-gone  (outcome unknown)',
    ]);
    expect(formatSchedule({ ...view, paused: false, timezone: undefined, pauseNote: 'unpaused by bob' }).slice(2, 4)).toEqual([
      '  pause note: unpaused by bob',
      '  next: 2026-11-29T01:00:00Z',
    ]);
    expect(formatSchedule({ ...view, paused: false })[3]).toBe('  next: 2026-11-29 02:00 Europe/Berlin');
  });

  it('names the silence limit where a plan could be applied without a person, and only there', () => {
    const input: SyncInput = { collectorDurationMs: 300_000, approvalTimeoutMs: 28_800_000, maxConnectors: 16, dryRun: false, autoApprove: false, maxSilentStations: 80 };
    const syncLineOf = (changes: Partial<SyncInput>): string | undefined => formatSchedule({ ...view, input: { ...input, ...changes } }).find((line) => line.startsWith('  sync:'));
    expect(syncLineOf({ autoApproveMaxPoints: 50 })).toBe(
      '  sync: collect 5 min, approval timeout 8 h; auto-approve up to 50 points; held for a person when more than 80 % of live stations are silent',
    );
    expect(syncLineOf({})).toBe('  sync: collect 5 min, approval timeout 8 h');
    expect(syncLineOf({ autoApprove: true, maxSilentStations: 100 })).toBe('  sync: collect 5 min, approval timeout 8 h; auto-approve (no limit)');
  });

  it('reads the creation note from the memo (the action\'s, which update changes, first) and the pause note from the state', () => {
    const schedule = {
      scheduleId: 'nightly',
      memo: { cpSyncSpec: 'every 24 h', cpSyncSchedule: { everyMs: 86_400_000, text: 'every 24 h', note: 'why' } },
      action: { type: 'startWorkflow', workflowType: 'syncChargingPoints', args: [], memo: {} },
      state: { paused: true, note: 'maintenance' },
      spec: { timezone: 'UTC' },
      info: { nextActionTimes: [], recentActions: [], runningActions: [] },
    } as unknown as Parameters<typeof viewOfDescription>[0];
    expect(viewOfDescription(schedule)).toMatchObject({ note: 'why', pauseNote: 'maintenance', spec: 'every 24 h' });
    expect(viewOfDescription(schedule)).not.toHaveProperty('timezone');
    expect(viewOfDescription({ ...schedule, state: { paused: false, note: 'why' } })).not.toHaveProperty('pauseNote');
    const updated = { ...schedule, action: { ...schedule.action, memo: { cpSyncSchedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin', text: 'cron "0 3 * * *" (Europe/Berlin)', note: 'later' } } } };
    expect(viewOfDescription({ ...updated, spec: { timezone: 'Europe/Berlin' } })).toMatchObject({ note: 'later', spec: 'cron "0 3 * * *" (Europe/Berlin)', timezone: 'Europe/Berlin' });
    // A schedule made before cp-sync kept its settings: the state's note is the note.
    expect(viewOfDescription({ ...schedule, memo: {} })).toMatchObject({ note: 'maintenance', spec: '(set outside cp-sync)' });
  });
});
