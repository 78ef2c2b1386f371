/**
 * Issue 13, points 2 and 5 (the CLI's side): a broker that went away after the worker started shows in `run`'s
 * progress line and in `status --json` within 5 s of the collector's first failed attempt, naming CLOUD_HOST and the
 * OS error; once the run has failed, `status`, `result` and `list` read it from the workflow's own record, with no
 * `Activity task failed` wrapper. Real services: a private Mosquitto, stopped once the worker has probed it.
 */
import type { ListedRun } from '../../src/client/list';
import type { SyncStatus } from '../../src/shared';
import { describeRun, expectExit, useCliRunner } from '../support/e2e-cli';
import { useE2e } from '../support/e2e';
import * as privateMosquitto from '../support/private-mosquitto';

let broker: privateMosquitto.PrivateMosquitto | undefined;
// Before the harness's worker, which probes the broker at start.
beforeAll(async () => {
  broker = await privateMosquitto.start();
}, 30_000);
afterAll(async () => {
  await broker?.stop();
});

const e2e = useE2e('brokertrouble', { workerEnv: () => ({ CLOUD_HOST: broker?.url, CLOUD_CREDENTIALS: undefined }) });
const cli = useCliRunner(e2e, () => ({ TEMPORAL_TASK_QUEUE: e2e.taskQueue }));

/** The bound, plus a Node process's start (status) and a poll's interval on a busy machine. */
const WITHIN_MS = 5000 + 2500;
const WINDOW = '8s';

test('a broker that is gone: run and status say CLOUD_HOST … connection refused within 5 s; the failed run reads from its own record', async () => {
  await broker!.stop();
  broker = undefined;
  const refused = /cannot reach the MQTT broker: CLOUD_HOST 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/;
  const workflowId = e2e.workflowId('gone');
  const account = e2e.account();
  let shownInProgressAt: number | undefined;
  const running = cli.run(['run', '--id', workflowId, '--account', account, '--duration', WINDOW, '--dry-run'], {}, 90_000, (stderr) => {
    if (shownInProgressAt === undefined && stderr.split('\n').some((line) => line.startsWith('Collecting') && refused.test(line))) shownInProgressAt = Date.now();
    return false;
  });

  // The collector's first attempt fails within a second of the run's start (the port refuses at once).
  const handle = e2e.handle(workflowId);
  let collectingSince: number | undefined;
  while (collectingSince === undefined) {
    collectingSince = await handle.describe().then(() => Date.now(), () => undefined);
    if (collectingSince === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  let fromStatus: SyncStatus & { connectionError?: { setting: string; message: string } } = (await cli.json<SyncStatus>(['status', workflowId])).value;
  while (fromStatus.connectionError === undefined && fromStatus.phase === 'collecting' && Date.now() - collectingSince < 15_000) {
    fromStatus = (await cli.json<SyncStatus>(['status', workflowId])).value;
  }
  const statusAt = Date.now();
  expect(fromStatus).toMatchObject({ phase: 'collecting', connectionError: { setting: 'CLOUD_HOST', message: expect.stringMatching(/^CLOUD_HOST 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/) } });
  expect(statusAt - collectingSince).toBeLessThan(WITHIN_MS);
  const human = await cli.run(['status', workflowId]);
  expect(human.stdout).toMatch(refused);

  const run = await running;
  expectExit(run, 1);
  expect(shownInProgressAt).toBeDefined();
  expect(shownInProgressAt! - collectingSince).toBeLessThan(WITHIN_MS);
  expect(run.stdout).toMatch(/✗ Sync failed while collecting: the collector never connected to the MQTT broker during the collection window: CLOUD_HOST 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/);
  if (/Activity task failed/.test(run.stdout + run.stderr)) throw new Error(`Temporal's wrapper in the output\n${describeRun(run)}`);

  // The ended run, three ways, one record.
  const ended = (await cli.json<SyncStatus>(['status', workflowId])).value;
  expect(ended).toMatchObject({ phase: 'failed', failedDuring: 'collecting', error: expect.stringMatching(/^the collector never connected to the MQTT broker during the collection window: CLOUD_HOST /) });
  const result = await cli.json<SyncStatus>(['result', workflowId]);
  expectExit(result.run, 1);
  expect(result.value).toMatchObject({ phase: 'failed', failedDuring: 'collecting', error: ended.error });
  const listed = (await cli.json<ListedRun[]>(['list', '--since', '10m', '--limit', '1000'])).value.find((r) => r.workflowId === workflowId);
  expect(listed).toMatchObject({ phase: 'failed', outcome: `failed during collecting: ${ended.error}` });
  for (const read of [run, result.run]) expect(`${read.stdout}${read.stderr}`).not.toContain('Activity task failed');
  expect(JSON.stringify(ended)).not.toContain('Activity task failed');
}, 120_000);
