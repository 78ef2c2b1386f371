/**
 * `cp-sync schedule …` on the real Temporal dev server, with the harness's worker serving the CLI's task queue:
 * a schedule's run is an ordinary sync with a workflow id derived from the schedule id, its auto-approve limit
 * applies a small plan without a human and leaves a bigger one waiting, and the commands' exit statuses hold.
 */
import { randomBytes } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { EXIT } from '../../src/domain/exit-codes';
import type { ScheduleView } from '../../src/client/schedule-view';
import type { SyncResult } from '../../src/shared';
import { createdSince, snapshot } from '../support/e2e-assert';
import { expectExit, useCliRunner } from '../support/e2e-cli';
import { Publisher, report, useE2e, WINDOW_MS } from '../support/e2e';
import { waitFor } from '../support/wait';

const created: string[] = [];
// Registered before useE2e, so that it runs while the harness's client is still connected.
afterAll(async () => {
  // Schedules outlive the test process: delete every one this file created.
  for (const id of created) {
    await e2e.client.schedule
      .getHandle(id)
      .delete()
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  }
});

const e2e = useE2e('schedules');
const TEST_TIMEOUT = 60_000;
/** The tests that run a dozen CLI processes: on a machine shared with other test runs each can take seconds. */
const LONG_TEST_TIMEOUT = 120_000;

const cli = useCliRunner(e2e, () => ({ TEMPORAL_TASK_QUEUE: e2e.taskQueue, COLLECTOR_DURATION: String(WINDOW_MS), APPROVAL_TIMEOUT: '10m' }));

function aScheduleId(): string {
  const id = `cps-e2e-schedule-${randomBytes(4).toString('hex')}`;
  created.push(id);
  return id;
}

/** Publishes while the triggered run collects; returns the run's workflow id. */
async function triggerWhilePublishing(scheduleId: string, account: string, deviceId: string, connectors: number): Promise<{ workflowId: string; runId: string }> {
  const publisher = await Publisher.start(account, [report(deviceId, connectors)]);
  try {
    const { run, value } = await cli.json<{ workflowId: string; runId: string }>(['schedule', 'trigger', scheduleId]);
    expectExit(run, EXIT.ok);
    e2e.handle(value.workflowId);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 500));
    return value;
  } finally {
    await publisher.stop();
  }
}

describe('cp-sync schedule', () => {
  test(
    'create, describe, list, trigger: the run is a sync named after the schedule, auto-approved within its limit; pause, unpause, delete',
    async () => {
      const station = await e2e.db.station({ station_id: 'SCH-0001', name: 'Scheduled' });
      await e2e.db.point(station, 1);
      const before = await snapshot(e2e.db);
      const id = aScheduleId();
      const account = e2e.account();

      const create = await cli.run(['schedule', 'create', id, '--every', '24h', '--account', account, '--auto-approve-max-points', '2', '--note', 'nightly sync, e2e']);
      expectExit(create, EXIT.ok);
      expect(create.stdout).toContain(`Created schedule ${id} on task queue ${e2e.taskQueue}; auto-approve up to 2 points`);

      const { value: described } = await cli.json<ScheduleView>(['schedule', 'describe', id]);
      expect(described).toMatchObject({
        scheduleId: id,
        spec: 'every 24 h',
        paused: false,
        note: 'nightly sync, e2e',
        taskQueue: e2e.taskQueue,
        input: { collectorDurationMs: WINDOW_MS, account, autoApproveMaxPoints: 2, autoApprove: false, dryRun: false },
        running: [],
      });
      expect(described.nextRuns.length).toBeGreaterThan(0);

      // The server's list is eventually consistent: the new schedule shows within seconds.
      const listed = await waitFor(
        `schedule ${id} listed`,
        async () => (await cli.json<ScheduleView[]>(['schedule', 'list'])).value.find((s) => s.scheduleId === id),
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(listed).toMatchObject({ spec: 'every 24 h', paused: false });

      const { workflowId } = await triggerWhilePublishing(id, account, 'SCH-0001', 3);
      expect(workflowId.startsWith(`${id}-`)).toBe(true);
      const result = (await e2e.client.workflow.getHandle(workflowId).result()) as SyncResult;
      expect(result).toMatchObject({ phase: 'applied', created: 2, approval: { by: 'auto-approve (limit 2)', auto: true } });
      expect([...(await createdSince(e2e.db, before)).values()].flat()).toEqual([2, 3]);
      const status = await cli.run(['status', workflowId]);
      expectExit(status, EXIT.ok);
      expect(status.stdout).toContain('approved by auto-approve (limit 2)');

      // The pause note sits beside the creation note; each recent run shows its outcome beside its start.
      expectExit(await cli.run(['schedule', 'pause', id, '--note', 'maintenance']), EXIT.ok);
      expect((await cli.json<ScheduleView>(['schedule', 'describe', id])).value).toMatchObject({ paused: true, note: 'nightly sync, e2e', pauseNote: 'maintenance' });
      const paused = await cli.run(['schedule', 'describe', id]);
      expect(paused.stdout).toContain('  note: nightly sync, e2e\n  paused: maintenance\n');
      expect(paused.stdout).toMatch(new RegExp(`^  ran: \\d{4}-\\d\\d-\\d\\dT\\S+Z  ${workflowId}  applied: 2 points created`, 'm'));
      // list tells each recent run's outcome as describe does (not "(outcome unknown)").
      expect((await cli.run(['schedule', 'list'])).stdout).toMatch(new RegExp(`^  ran: \\S+  ${workflowId}  applied: 2 points created`, 'm'));
      expectExit(await cli.run(['schedule', 'unpause', id]), EXIT.ok);
      expect((await cli.json<ScheduleView>(['schedule', 'describe', id])).value).toMatchObject({
        paused: false,
        note: 'nightly sync, e2e',
        pauseNote: expect.stringMatching(/^unpaused by /),
        recentRuns: [{ workflowId, phase: 'applied', outcome: expect.stringMatching(/^applied: 2 points created/), startedAt: expect.any(String) }],
      });

      const again = await cli.run(['schedule', 'create', id, '--cron', '0 2 * * *']);
      expectExit(again, EXIT.alreadyRunning);
      expect(again.stderr).toContain(`A schedule with id ${id} already exists`);

      expectExit(await cli.run(['schedule', 'delete', id]), EXIT.ok);
      const gone = await cli.run(['schedule', 'describe', id]);
      expectExit(gone, EXIT.failed);
      expect(gone.stderr).toContain(`No schedule with id ${id}`);
    },
    LONG_TEST_TIMEOUT,
  );

  test(
    'a plan above the limit waits for an operator; trigger is refused while that run is going (overlap skip)',
    async () => {
      const station = await e2e.db.station({ station_id: 'SCH-0002', name: 'Scheduled, big' });
      await e2e.db.point(station, 1);
      const id = aScheduleId();
      const account = e2e.account();
      expectExit(await cli.run(['schedule', 'create', id, '--cron', '0 2 * * *', '--timezone', 'Europe/Berlin', '--account', account, '--auto-approve-max-points', '1']), EXIT.ok);
      expect((await cli.json<ScheduleView>(['schedule', 'describe', id])).value.spec).toBe('cron "0 2 * * *" (Europe/Berlin)');

      const { workflowId } = await triggerWhilePublishing(id, account, 'SCH-0002', 3);
      const handle = e2e.handle(workflowId);
      const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
      expect(waiting.autoApproveExceeded).toBe('2 points to create exceed the auto-approve limit of 1');
      expect(waiting.approval).toBeUndefined();

      const refused = await cli.run(['schedule', 'trigger', id]);
      expectExit(refused, EXIT.alreadyRunning);
      expect(refused.stderr).toContain(`${workflowId} of schedule ${id} is still running`);

      await e2e.reject(handle, 'e2e: too big for tonight');
      expect(((await handle.result()) as SyncResult).phase).toBe('rejected');
    },
    TEST_TIMEOUT,
  );

  test(
    'cp-sync start takes the same limit: a plan within it is applied without a human',
    async () => {
      const station = await e2e.db.station({ station_id: 'SCH-0003', name: 'Started' });
      await e2e.db.point(station, 1);
      const account = e2e.account();
      const workflowId = e2e.workflowId('start-limit');
      const publisher = await Publisher.start(account, [report('SCH-0003', 3)]);
      try {
        const { run, value } = await cli.json<{ workflowId: string }>(['start', '--id', workflowId, '--account', account, '--auto-approve-max-points', '2', '--auto-approve-max-stations', '1']);
        expectExit(run, EXIT.ok);
        expect(value.workflowId).toBe(workflowId);
        const result = (await e2e.handle(workflowId).result()) as SyncResult;
        expect(result).toMatchObject({ phase: 'applied', created: 2, approval: { by: 'auto-approve (limit 2, 1 station)', auto: true } });
      } finally {
        await publisher.stop();
      }
    },
    TEST_TIMEOUT,
  );

  test(
    'schedule update changes the spec, window, account, limits and note in place: the recent runs and counters stay; next times in the cron\'s zone',
    async () => {
      const id = aScheduleId();
      const account = e2e.account();
      expectExit(await cli.run(['schedule', 'create', id, '--every', '24h', '--account', account, '--auto-approve-max-points', '2', '--note', 'first note']), EXIT.ok);
      const { workflowId } = await triggerWhilePublishing(id, account, 'SCH-UPD-1', 1);
      await e2e.client.workflow.getHandle(workflowId).result().catch(() => undefined);
      const before = (await cli.json<ScheduleView>(['schedule', 'describe', id])).value;

      const newAccount = e2e.account();
      const { run, value: updated } = await cli.json<ScheduleView>([
        'schedule', 'update', id, '--cron', '0 3 * * 1-5', '--timezone', 'Europe/Berlin', '--duration', '8s', '--account', newAccount,
        '--auto-approve-max-points', '4', '--auto-approve-max-stations', '2', '--max-silent-stations', '80', '--note', 'second note',
      ]);
      expectExit(run, EXIT.ok);
      expect(updated).toMatchObject({
        scheduleId: id,
        spec: 'cron "0 3 * * 1-5" (Europe/Berlin)',
        timezone: 'Europe/Berlin',
        note: 'second note',
        input: { collectorDurationMs: 8000, account: newAccount, autoApproveMaxPoints: 4, autoApproveMaxStations: 2, maxSilentStations: 80, approvalTimeoutMs: 600_000 },
        actionsTaken: before.actionsTaken,
        recentRuns: [{ workflowId, runId: before.recentRuns[0]!.runId, phase: before.recentRuns[0]!.phase }],
      });
      expect(updated.recentRuns[0]!.phase).toEqual(expect.any(String));
      // The server's next times, in UTC in the JSON, are 03:00 on weekdays in Berlin: 01:00Z or 02:00Z.
      expect(updated.nextRuns[0]).toMatch(/T0[12]:00:00\.000Z$/);
      const shown = await cli.run(['schedule', 'describe', id]);
      expect(shown.stdout).toMatch(/^ {2}next: \d{4}-\d\d-\d\d 03:00 Europe\/Berlin, /m);
      expect(shown.stdout).toContain('  note: second note\n');
      expect(shown.stdout).toContain('; held for a person when more than 80 % of live stations are silent');

      // The same rule as create: an approval timeout at or above the time between two runs, refused unless forced.
      const refused = await cli.run(['schedule', 'update', id, '--every', '1h', '--approval-timeout', '2h']);
      expectExit(refused, EXIT.usage);
      expect(refused.stderr).toContain('the approval timeout, 2 h (--approval-timeout), is not shorter than the time between two runs, 1 h (every 1 h)');
      expect((await cli.json<ScheduleView>(['schedule', 'describe', id])).value.spec).toBe('cron "0 3 * * 1-5" (Europe/Berlin)');
      const forced = await cli.run(['schedule', 'update', id, '--every', '1h', '--approval-timeout', '2h', '--force']);
      expectExit(forced, EXIT.ok);
      expect(forced.stderr).toContain('Warning: the approval timeout, 2 h (--approval-timeout), is not shorter');
      expect(forced.stdout).toContain(`Updated schedule ${id}; auto-approve up to 4 points and 2 stations`);
      expect((await cli.json<ScheduleView>(['schedule', 'describe', id])).value).toMatchObject({ spec: 'every 1 h', note: 'second note', input: { approvalTimeoutMs: 7_200_000 } });
      expect((await cli.json<ScheduleView>(['schedule', 'describe', id])).value).not.toHaveProperty('timezone');
    },
    LONG_TEST_TIMEOUT,
  );

  test(
    'create refuses an approval timeout at or above the cron\'s gap (APPROVAL_TIMEOUT too); --force creates it with a warning',
    async () => {
      const id = aScheduleId();
      const refused = await cli.run(['schedule', 'create', id, '--cron', '0 2 * * *', '--timezone', 'Europe/Berlin'], { APPROVAL_TIMEOUT: '24h' });
      expectExit(refused, EXIT.usage);
      expect(refused.stderr).toContain('the approval timeout, 24 h (APPROVAL_TIMEOUT), is not shorter than the time between two runs, 24 h (cron "0 2 * * *" (Europe/Berlin))');
      expect(refused.stderr).toContain('or pass --force');
      const gone = await cli.run(['schedule', 'describe', id]);
      expectExit(gone, EXIT.failed);

      const forced = await cli.run(['schedule', 'create', id, '--cron', '0 2 * * *', '--timezone', 'Europe/Berlin', '--force'], { APPROVAL_TIMEOUT: '30h' });
      expectExit(forced, EXIT.ok);
      expect(forced.stderr).toContain('Warning: the approval timeout, 30 h (APPROVAL_TIMEOUT), is not shorter');
      expect(forced.stdout).toMatch(/^ {2}next: \d{4}-\d\d-\d\d 02:00 Europe\/Berlin, /m);
    },
    TEST_TIMEOUT,
  );

  test('refuses bad usage with exit 2, naming the option', async () => {
    const none = await cli.run(['schedule', 'create', aScheduleId()]);
    expectExit(none, EXIT.usage);
    expect(none.stderr).toContain('expected exactly one of --every <duration> and --cron');
    const both = await cli.run(['schedule', 'create', aScheduleId(), '--every', '1h', '--auto-approve', '--auto-approve-max-points', '5']);
    expectExit(both, EXIT.usage);
    expect(both.stderr).toContain('--auto-approve applies any plan');
    const zero = await cli.run(['schedule', 'create', aScheduleId(), '--every', '1h', '--auto-approve-max-points', '0']);
    expectExit(zero, EXIT.usage);
    expect(zero.stderr).toContain('--auto-approve-max-points');
  });
});
