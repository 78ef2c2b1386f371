/**
 * Finding runs and debugging them as an operator does, against the real dev server: `cp-sync list` from visibility
 * (search attributes and memo upserted by the workflow), the static summary of a run, a history exported with the
 * real `temporal workflow show --output json` replaying against the code, and the words of a CLI without a worker.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { EXIT } from '../../src/domain/exit-codes';
import type { ListedRun } from '../../src/client/list';
import { startSync } from '../../src/client/sync-client';
import { syncInputFrom } from '../../src/cli/sync-options';
import { expectExit, useCliRunner } from '../support/e2e-cli';
import { report, temporalAddress, useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';

const e2e = useE2e('visibility');
const TEST_TIMEOUT = 60_000;

const cli = useCliRunner(e2e, () => ({ TEMPORAL_TASK_QUEUE: e2e.taskQueue, APPROVAL_TIMEOUT: '10m' }));


/**
 * `cp-sync list --json` until `ready` holds for the run `workflowId` (visibility follows the history by about a
 * second on the dev server), for at most 15 s.
 */
async function listedWhen(workflowId: string, args: string[], ready: (run: ListedRun | undefined) => boolean): Promise<ListedRun | undefined> {
  let listed: ListedRun | undefined;
  // Wrapped: a run that is not listed (undefined) may be what `ready` waits for.
  const found = await waitFor(
    `cp-sync list ${args.join(' ')}: ${workflowId} gets there`,
    async () => {
      const { run, value } = await cli.json<ListedRun[]>(['list', '--since', '10m', '--limit', '1000', ...args]);
      expectExit(run, 0);
      listed = value.find((r) => r.workflowId === workflowId);
      return ready(listed) && { listed };
    },
    { timeoutMs: 15_000, intervalMs: 250, lastSeen: () => JSON.stringify(listed) },
  );
  return found.listed;
}

test(
  'list --phase awaiting-approval shows a waiting run with its points and database; once approved and ended, list shows the outcome and who decided',
  async () => {
    const station = await e2e.db.station({ station_id: 'VIS-0001', name: 'Visible' });
    await e2e.db.point(station, 1);
    const handle = await e2e.collect(e2e.account(), [report('VIS-0001', 3)]);
    const { plan } = await e2e.waitForPhase(handle, 'awaiting-approval');

    const waiting = await listedWhen(handle.workflowId, ['--phase', 'awaiting-approval'], (r) => r !== undefined);
    expect(waiting).toMatchObject({ phase: 'awaiting-approval', pointsToCreate: 2, runId: handle.firstExecutionRunId });
    const table = await cli.run(['list', '--phase', 'awaiting-approval', '--since', '10m', '--limit', '1000']);
    expect(table.stdout.split('\n')[0]).toMatch(/^WORKFLOW ID\s+PHASE\s+POINTS\s+DATABASE\s+STARTED\s+DECIDED BY$/);
    expect(table.stdout).toMatch(new RegExp(`^${handle.workflowId}\\s+awaiting-approval\\s+2\\s+\\S+\\s+\\S+Z\\s+-$`, 'm'));

    const approved = await cli.run(['approve', handle.workflowId, '--fingerprint', plan!.fingerprint, '--by', 'alice@ops']);
    expectExit(approved, 0);
    expect((await handle.result()).phase).toBe('applied');

    const ended = await listedWhen(handle.workflowId, [], (r) => r?.phase === 'applied');
    expect(ended).toMatchObject({ decidedBy: 'alice@ops', outcome: 'applied: 2 points created on 1 stations; approved by alice@ops', closedAt: expect.any(String) });
    // Gone from the morning check.
    await listedWhen(handle.workflowId, ['--phase', 'awaiting-approval'], (r) => r === undefined);
  },
  TEST_TIMEOUT,
);

test(
  'a run started by cp-sync start carries its database and window in its summary and CpSyncDatabase',
  async () => {
    const workflowId = e2e.workflowId('summary');
    const account = e2e.account();
    const started = await cli.run(['start', '--id', workflowId, '--account', account, '--duration', '30s', '--dry-run']);
    expectExit(started, 0);
    const handle = e2e.handle(workflowId);
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`charging-points-sync ${e2e.env.OCPP_MYSQL_DATABASE} · 30 s window · account ${account} · dry run`);
    expect(await description.staticDetails()).toContain(`**Database:** ${e2e.env.OCPP_MYSQL_DATABASE}`);
    const listed = await listedWhen(workflowId, [], (r) => r !== undefined);
    expect(listed?.database).toBe(e2e.env.OCPP_MYSQL_DATABASE);
    await handle.terminate('test over');
  },
  TEST_TIMEOUT,
);

test(
  'list --database shows the runs meant for one database only, newest start first even when the older one is still running, with a DATABASE column',
  async () => {
    // Each a database label of its own: the namespace is shared with every other test run.
    const database = `e2e_list_${e2e.taskQueue.replace(/[^A-Za-z0-9]/g, '').slice(-20)}`;
    const account = e2e.account();
    const older = e2e.workflowId('older-running');
    const newer = e2e.workflowId('newer-ended');
    const other = e2e.workflowId('other-db');
    await startSync(e2e.client, e2e.taskQueue, older, syncInputFrom({ duration: 30_000, dryRun: true, account }, {}), database);
    e2e.handle(older);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await startSync(e2e.client, e2e.taskQueue, newer, syncInputFrom({ duration: 500, dryRun: true, account }, {}), database);
    await startSync(e2e.client, e2e.taskQueue, other, syncInputFrom({ duration: 500, dryRun: true, account }, {}), `${database}_x`);
    await e2e.handle(newer).result();
    await e2e.handle(other).result();

    // SQL visibility would list the running one first (then by close time): the list promises newest start first.
    let listed: ListedRun[] = [];
    await waitFor(
      `cp-sync list --database ${database}: both runs, the newer one ended`,
      async () => {
        const { run, value } = await cli.json<ListedRun[]>(['list', '--database', database, '--since', '10m']);
        expectExit(run, 0);
        listed = value;
        return value.length === 2 && value[0]?.closedAt !== undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, lastSeen: () => JSON.stringify(listed) },
    );
    expect(listed.map((r) => [r.workflowId, r.database])).toEqual([
      [newer, database],
      [older, database],
    ]);
    expect(listed[1]).toMatchObject({ phase: 'collecting' });
    expect((await cli.json<ListedRun[]>(['list', '--database', database, '--since', '10m', '--limit', '1'])).value.map((r) => r.workflowId)).toEqual([newer]);

    const table = (await cli.run(['list', '--database', database, '--since', '10m'])).stdout.split('\n');
    expect(table[0]).toMatch(/^WORKFLOW ID\s+PHASE\s+POINTS\s+DATABASE\s+STARTED\s+DECIDED BY$/);
    expect(table[1]).toMatch(new RegExp(`^${newer}\\s+\\S+\\s+\\S+\\s+${database}\\s+\\S+Z\\s+-$`));
    expect(table[2]).toMatch(new RegExp(`^${older}\\s+collecting\\s+-\\s+${database}\\s`));
    await e2e.handle(older).terminate('test over');
  },
  TEST_TIMEOUT,
);

test(
  'a history exported by `temporal workflow show --output json` replays against the workflow code (historyFromJSON)',
  async () => {
    const station = await e2e.db.station({ station_id: 'VIS-0002', name: 'Exported' });
    await e2e.db.point(station, 1);
    const handle = await e2e.collect(e2e.account(), [report('VIS-0002', 2)]);
    const { plan } = await e2e.waitForPhase(handle, 'awaiting-approval');
    expectExit(await cli.run(['approve', handle.workflowId, '--fingerprint', plan!.fingerprint, '--by', 'exporter']), 0);
    await handle.result();

    const temporalCli = process.env.TEMPORAL_CLI || process.env.TEMPORAL_CLI_PATH || 'temporal';
    const dir = mkdtempSync(join(tmpdir(), 'cp-sync-export-'));
    try {
      const file = join(dir, 'history.json');
      const { stdout } = await promisify(execFile)(
        temporalCli,
        ['workflow', 'show', '--workflow-id', handle.workflowId, '--run-id', handle.firstExecutionRunId, '--output', 'json', '--address', temporalAddress(), '--namespace', 'default'],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      writeFileSync(file, stdout);
      const history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
      expect(history.events?.length).toBeGreaterThan(10);
      await Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows') }, history, handle.workflowId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  TEST_TIMEOUT,
);

test(
  'cp-sync run with no worker on its task queue says that none answers and that the started sync waits for one',
  async () => {
    const workflowId = e2e.workflowId('no-worker');
    const run = await cli.run(['run', '--id', workflowId, '--account', e2e.account(), '--duration', '1s'], { TEMPORAL_TASK_QUEUE: `${e2e.taskQueue}-nobody` });
    expectExit(run, EXIT.failed);
    expect(run.stderr).toContain(`No worker answers on task queue ${e2e.taskQueue}-nobody`);
    expect(run.stderr).toContain('The sync is started and waits for a worker');
    expect(run.stderr).not.toContain('Failed to query Workflow');
    expect((await e2e.handle(workflowId).describe()).status.name).toBe('RUNNING');
  },
  TEST_TIMEOUT,
);

test(
  'cp-sync reject with no worker on the task queue says that nothing was decided and to send it again',
  async () => {
    const workflowId = e2e.workflowId('no-worker-reject');
    const queue = { TEMPORAL_TASK_QUEUE: `${e2e.taskQueue}-nobody` };
    e2e.handle(workflowId);
    expectExit(await cli.run(['start', '--id', workflowId, '--account', e2e.account(), '--duration', '1s'], queue), 0);
    const run = await cli.run(['reject', workflowId, '--reason', 'no worker'], queue);
    expectExit(run, EXIT.failed);
    expect(run.stderr).toContain(`No worker answers on task queue ${e2e.taskQueue}-nobody`);
    expect(run.stderr).toContain(`Nothing was decided: start a worker with \`cp-sync worker\` (same TEMPORAL_TASK_QUEUE), then run \`cp-sync reject ${workflowId}\` again.`);
    expect(run.stderr).not.toContain('waits for a worker');
  },
  TEST_TIMEOUT,
);

test(
  'Ctrl-C during the collection window leaves the command, not the sync, and says how to follow or stop it',
  async () => {
    const workflowId = e2e.workflowId('ctrl-c');
    const run = await cli.run(['run', '--id', workflowId, '--account', e2e.account(), '--duration', '20s'], {}, 30_000, (stderr) => stderr.includes('Collecting'));
    expectExit(run, EXIT.interrupted);
    expect(run.stderr).toContain(`Interrupted. Sync ${workflowId} continues without this command: follow it with \`cp-sync status ${workflowId}\``);
    expect(run.stderr).toContain(`stop it before it writes with \`cp-sync reject ${workflowId}\``);
    const handle = e2e.handle(workflowId);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expectExit(await cli.run(['reject', workflowId, '--reason', 'interrupted test']), 0);
    expect((await handle.result()).phase).toBe('rejected');
  },
  TEST_TIMEOUT,
);
