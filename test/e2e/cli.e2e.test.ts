/**
 * The operator's command line, built (`npm run -s build`) and run as a child process against the real services:
 * the in-process worker of the harness serves the CLI's TEMPORAL_TASK_QUEUE. Checks the contract of the README:
 * commands, --json documents, exit statuses, configuration errors, and that secrets never show.
 */
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { EXIT } from '../../src/domain/exit-codes';
import { approve, reject } from '../../src/client/sync-client';
import { approveSignal } from '../../src/workflows/definitions';
import { collectionProgress } from '../../src/client/progress';
import { byStationId, createdSince, snapshot } from '../support/e2e-assert';
import { expectExit, startWorkerProcess, useCliRunner, type CliRun, type WorkerProcess } from '../support/e2e-cli';
import { Publisher, report, useE2e, WINDOW_MS } from '../support/e2e';
import { waitFor } from '../support/wait';
import type { SyncResult, SyncStatus } from '../../src/shared';

const e2e = useE2e('cli');
const TEST_TIMEOUT = 40_000;

const cli = useCliRunner(e2e, () => ({ TEMPORAL_TASK_QUEUE: e2e.taskQueue, COLLECTOR_DURATION: String(WINDOW_MS), APPROVAL_TIMEOUT: '10m' }));


/** The first line of stderr, and that there is only one. */
function oneLine(run: CliRun): string {
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

function expectNoSecrets(): void {
  const output = cli.allOutput();
  for (const secret of e2e.secrets) expect(output).not.toContain(secret);
}

describe('cp-sync', () => {
  test(
    'start --json, a second start with the same id (exit 6), status --json, approve with a wrong fingerprint (exit 5), approve, result --json',
    async () => {
      const { db } = e2e;
      const station = await db.station({ station_id: 'CLI-0001', name: 'CLI station' });
      await db.point(station, 1);
      const account = e2e.account();
      const workflowId = e2e.workflowId('cli');
      const before = await snapshot(db);
      const publisher = await Publisher.start(account, [report('CLI-0001', 3), report('CLI-NOBODY', 2)]);
      let status: SyncStatus;
      try {
        const started = await cli.json(['start', '--id', workflowId, '--account', account]);
        expectExit(started.run, 0);
        expect(started.value).toEqual({ workflowId, runId: expect.stringMatching(/\S/) });
        const handle = e2e.handle(workflowId);

        const again = await cli.run(['start', '--id', workflowId, '--account', account]);
        expectExit(again, 6);
        expect(oneLine(again)).toMatch(new RegExp(`A sync with id ${workflowId} is already running`));
        expect(again.stdout).toBe('');

        status = await e2e.waitForPhase(handle, 'awaiting-approval');
      } finally {
        await publisher.stop();
      }

      const shown = await cli.json<SyncStatus & { workflowId: string }>(['status', workflowId]);
      expectExit(shown.run, 0);
      expect(shown.value).toMatchObject({
        workflowId,
        phase: 'awaiting-approval',
        plan: { fingerprint: status.plan!.fingerprint, pointsToCreate: 2, notFound: 1, processedDevices: 2, notFoundDeviceIds: ['CLI-NOBODY'] },
      });

      const wrong = await cli.run(['approve', workflowId, '--fingerprint', '0123456789abcdef']);
      expectExit(wrong, 5);
      expect(oneLine(wrong)).toMatch(/^Approval refused: fingerprint 0123456789abcdef is not the current plan's .*Nothing was written\.$/);
      expect((await createdSince(db, before)).size).toBe(0);

      // --wait: the plan approved by its headline, then the run's report, and the exit status of `result`.
      const approved = await cli.run(['approve', workflowId, '--by', 'cli-operator', '--wait']);
      expectExit(approved, 0);
      expect(approved.stdout).toContain(`Approved plan ${status.plan!.fingerprint} of sync ${workflowId} as cli-operator`);
      expect(approved.stdout).toContain(`Plan ${status.plan!.fingerprint}: 2 points to create on 1 stations`);
      expect(approved.stdout.split('\n')).toEqual(expect.arrayContaining(['=== Success ===', 'Total charging points created: 2']));

      const result = await cli.json<SyncResult>(['result', workflowId]);
      expectExit(result.run, 0);
      expect(result.value).toMatchObject({ phase: 'applied', created: 2, processedDevices: 2, notFound: ['CLI-NOBODY'], approval: { by: 'cli-operator' } });
      expect([...(await createdSince(db, before)).values()]).toEqual([[2, 3]]);

      // The report for people carries the original's lines.
      const text = await cli.run(['result', workflowId]);
      expectExit(text, 0);
      expect(text.stdout.split('\n')).toEqual(
        expect.arrayContaining([
          '=== Success ===',
          'Total charging points created: 2',
          'Processed 2 unique devices',
          '=== Stations Not Found by deviceId from cloud topic (1) ===',
          'CLI-NOBODY',
        ]),
      );
      expectNoSecrets();
    },
    TEST_TIMEOUT,
  );

  test(
    'reject: the run ends rejected, result exits 3 and nothing is written',
    async () => {
      const { db } = e2e;
      await db.station({ station_id: 'CLI-0002', name: 'Rejected station' });
      const account = e2e.account();
      const workflowId = e2e.workflowId('reject');
      const before = await snapshot(db);
      const publisher = await Publisher.start(account, [report('CLI-0002', 2)]);
      try {
        expectExit((await cli.json(['start', '--id', workflowId, '--account', account])).run, 0);
        await e2e.waitForPhase(e2e.handle(workflowId), 'awaiting-approval');
      } finally {
        await publisher.stop();
      }

      const rejected = await cli.run(['reject', workflowId, '--reason', 'not today', '--by', 'cli-operator']);
      expectExit(rejected, 0);
      const result = await cli.json<SyncResult>(['result', workflowId]);
      expectExit(result.run, 3);
      expect(result.value).toMatchObject({ phase: 'rejected', created: 0, rejection: { by: 'cli-operator', reason: 'not today' } });
      expect((await createdSince(db, before)).size).toBe(0);

      // Too late now: a second rejection or an approval is refused (exit 5).
      expectExit(await cli.run(['reject', workflowId]), 5);
      expectExit(await cli.run(['approve', workflowId]), 5);
      expectNoSecrets();
    },
    TEST_TIMEOUT,
  );

  test(
    'a bad configuration value exits 2 with one line naming the variable, and never echoes a secret',
    async () => {
      const neverStarted = e2e.workflowId('never');
      const [port, duration, credentials, database] = await Promise.all([
        cli.run(['worker'], { OCPP_MYSQL_PORT: 'abc' }),
        cli.run(['start', '--id', neverStarted], { COLLECTOR_DURATION: 'soon' }),
        // The real credentials with their closing brace cut off: not JSON, and secret all the same.
        cli.run(['worker'], { CLOUD_CREDENTIALS: e2e.env.CLOUD_CREDENTIALS!.slice(0, -1) }),
        cli.run(['worker'], { OCPP_MYSQL_DATABASE: undefined }),
      ]);
      for (const [run, variable] of [
        [port, 'OCPP_MYSQL_PORT'],
        [duration, 'COLLECTOR_DURATION'],
        [credentials, 'CLOUD_CREDENTIALS'],
        [database, 'OCPP_MYSQL_DATABASE'],
      ] as const) {
        expectExit(run, 2);
        expect(oneLine(run)).toMatch(new RegExp(`^Configuration error: ${variable}: `));
        expect(run.stdout).toBe('');
      }
      expect(oneLine(port)).toContain('"abc"');
      expect(oneLine(duration)).toContain('"soon"');
      await expect(e2e.client.workflow.getHandle(neverStarted).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      expectNoSecrets();
    },
    TEST_TIMEOUT,
  );
});

describe('cp-sync worker as its own process', () => {
  test(
    "a worker set up with TEST_DEVICE_ID writes only that device even for a sync started without one; run --yes --json prints one JSON document",
    async () => {
      const { db } = e2e;
      const target = await db.station({ station_id: 'WTD0001', name: 'Worker test device' });
      const other = await db.station({ station_id: 'WTD-OTHER', name: 'Other' });
      const before = await snapshot(db);
      const taskQueue = `${e2e.taskQueue}-process`;
      const worker = await startWorkerProcess({ PATH: process.env.PATH, ...e2e.env, TEMPORAL_TASK_QUEUE: taskQueue, TEST_DEVICE_ID: 'WTD-0001' });
      const account = e2e.account();
      const publisher = await Publisher.start(account, [report('WTD-0001', 2), report('WTD-OTHER', 2)]);
      let ran: CliRun;
      try {
        ran = await cli.run(['run', '--yes', '--json', '--account', account, '--id', e2e.workflowId('worker-process')], { TEMPORAL_TASK_QUEUE: taskQueue, TEST_DEVICE_ID: undefined });
      } finally {
        await publisher.stop();
        expect(await worker.stop()).toBe(0);
      }
      expectExit(ran, 0);
      const result = JSON.parse(ran.stdout) as SyncResult;
      expect(result).toMatchObject({ phase: 'applied', created: 2, processedDevices: 2, plan: { testDeviceId: 'WTD-0001', skippedStations: 1 } });
      expect(byStationId(await createdSince(db, before), [target, other])).toEqual({ WTD0001: [1, 2] });
      expect(worker.output()).toContain('⚠️  TEST MODE: Only processing device: WTD-0001');
      expect(worker.output()).toContain('⊘ Skipped (test mode)');
      for (const secret of e2e.secrets) expect(worker.output()).not.toContain(secret);
    },
    60_000,
  );
});

describe('a worker killed mid-window', () => {
  test(
    'another worker resumes the same window: devices heard before and after the crash are both in the plan',
    async () => {
      const { db } = e2e;
      await db.station({ station_id: 'CRASH-BEFORE', name: 'Heard before the crash' });
      await db.station({ station_id: 'CRASH-AFTER', name: 'Heard after the crash' });
      const taskQueue = `${e2e.taskQueue}-crash`;
      const env = { PATH: process.env.PATH, ...e2e.env, TEMPORAL_TASK_QUEUE: taskQueue };
      const first = await startWorkerProcess(env);
      const account = e2e.account();
      const workflowId = e2e.workflowId('crash');
      let second: WorkerProcess | undefined;
      const before = await Publisher.start(account, [report('CRASH-BEFORE', 2)]);
      try {
        // The window outlasts the heartbeat timeout (10 s), so the retry happens inside it.
        const started = await cli.run(['start', '--id', workflowId, '--account', account, '--duration', '16s', '--dry-run'], { TEMPORAL_TASK_QUEUE: taskQueue });
        expectExit(started, 0);
        const handle = e2e.handle(workflowId);
        await waitFor('a device heard', async () => ((await collectionProgress(handle))?.devices ?? 0) >= 1, { timeoutMs: 10_000, intervalMs: 200 });
        await first.kill();
        await before.stop();
        second = await startWorkerProcess(env);
        const after = await Publisher.start(account, [report('CRASH-AFTER', 3)]);
        try {
          const status = await e2e.waitForPhase(handle, 'dry-run', 40_000);
          expect(status.plan).toMatchObject({ processedDevices: 2, pointsToCreate: 5, stationsToChange: 2 });
          expect(status.collectionNote).toBeUndefined();
        } finally {
          await after.stop();
        }
        expect(second.output()).toContain('Resuming the collection window (attempt 2)');
      } finally {
        await before.stop();
        await first.kill();
        await second?.stop();
      }
    },
    90_000,
  );
});

/** Defects found while building, kept as tests so that they stay fixed. */
describe('regressions', () => {
  // With signals, the workflow kept the last 10 refusals and the CLI polled them; an Update's refusal is its answer.
  test(
    'every stale approval is refused at once, and a refused Update leaves nothing in the status or the history',
    async () => {
      await e2e.db.station({ station_id: 'CLI-CAP', name: 'Cap' });
      const handle = await e2e.collect(e2e.account(), [report('CLI-CAP', 1)]);
      await e2e.waitForPhase(handle, 'awaiting-approval');
      for (let i = 0; i < 12; i++) {
        const outcome = await approve(handle, { fingerprint: '0123456789abcdef', by: 'cli-operator' }).then(
          () => 'approved',
          (err: { exitCode?: number }) => err.exitCode,
        );
        expect(outcome).toBe(EXIT.refused);
      }
      expect((await e2e.status(handle)).refusedApprovals).toEqual([]);
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  // CLOUD_HOST may carry user:password, and a malformed one (the value that gets printed) must not show it.
  test(
    'a malformed CLOUD_HOST with user:password in it is not echoed with its password',
    async () => {
      const run = await cli.run(['worker'], { CLOUD_HOST: 'mqtts//operator:cloud-host-secret@broker.example.com:8883' });
      expectExit(run, 2);
      expect(oneLine(run)).toMatch(/^Configuration error: CLOUD_HOST: /);
      expect(run.stderr).not.toContain('cloud-host-secret');
    },
    TEST_TIMEOUT,
  );

  // An approval that lands between reject()'s phase check and its signal wins; the rejecting operator must hear so.
  test(
    'a rejection that loses the race against an approval is reported as refused, not as done',
    async () => {
      const { db } = e2e;
      await db.station({ station_id: 'CLI-RACE', name: 'Race' });
      const handle = await e2e.collect(e2e.account(), [report('CLI-RACE', 1)]);
      const { plan } = await e2e.waitForPhase(handle, 'awaiting-approval');
      // The approval arrives right after reject() has seen "awaiting-approval", just before its Update.
      const racing = new Proxy(handle as WorkflowHandle, {
        get(target, property, receiver) {
          if (property !== 'executeUpdate') return Reflect.get(target, property, receiver) as unknown;
          return async (...args: Parameters<WorkflowHandle['executeUpdate']>) => {
            await target.signal(approveSignal, { fingerprint: plan!.fingerprint, by: 'other-operator' });
            return target.executeUpdate(...args);
          };
        },
      });
      const outcome = await reject(racing, 'changed my mind', { by: 'cli-operator' }).then(
        () => 'reported as rejected',
        (err: { exitCode?: number }) => err.exitCode,
      );
      expect(await handle.result()).toMatchObject({ phase: 'applied', created: 1 });
      expect(outcome).toBe(EXIT.refused);
    },
    TEST_TIMEOUT,
  );
});
