/**
 * Runs ended from outside, and a rejection that does not wait for the window, against the real services (issue 13,
 * point 4): a run cancelled while awaiting approval (the Web UI's "Request Cancellation") reads `cancelled` in
 * `result` (exit 10), `status` and `list`, is told as `cancelled` (never `failed`) and counts no failure in the
 * metrics; a terminated run reads `terminated` with its reason (exit 11); a `reject` sent while the run collects
 * ends it within seconds of a long window, and leaves the broker no session for its collector.
 */
import type { ListedRun } from '../../src/client/list';
import { collectionProgress } from '../../src/client/progress';
import { EXIT } from '../../src/domain/exit-codes';
import { FAILURE_CLASS_PHASES } from '../../src/domain/phases';
import { sessionClientId } from '../../src/mqtt/collector';
import type { SyncResult, SyncStatus } from '../../src/shared';
import { createdSince, snapshot } from '../support/e2e-assert';
import { sessionPresent } from '../support/e2e-broker';
import { describeRun, expectExit, startWorkerProcess, useCliRunner, type WorkerProcess } from '../support/e2e-cli';
import { scrape, valueOf, type Sample } from '../support/e2e-metrics';
import { Publisher, report, useE2e, type SyncHandle } from '../support/e2e';
import { freePort } from '../support/private-process';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

let receiver: WebhookReceiver;
const webhookUrl = (): string => `http://127.0.0.1:${receiver.port}/hooks/outcomes`;

// Registered before useE2e: the harness reads workerEnv in its own beforeAll.
beforeAll(async () => {
  receiver = await WebhookReceiver.start();
});
afterAll(async () => {
  await receiver?.close();
});

const e2e = useE2e('outcomes', { workerEnv: () => ({ NOTIFY_WEBHOOK_URL: webhookUrl() }) });
const cli = useCliRunner(e2e, () => ({ TEMPORAL_TASK_QUEUE: e2e.taskQueue, APPROVAL_TIMEOUT: '10m' }));
const TEST_TIMEOUT = 90_000;

beforeEach(() => {
  receiver.reset();
});

/** One station whose device reports 3 connectors while it has point 1 only: a plan of 2 points. */
async function aStationMissingTwoPoints(stationId: string): Promise<void> {
  const station = await e2e.db.station({ station_id: stationId, name: `Station ${stationId}` });
  await e2e.db.point(station, 1);
}

/** `cp-sync list --json` until the run is listed in `phase` (visibility follows the history by about a second). */
async function listedAs(workflowId: string, phase: string, args: string[] = []): Promise<ListedRun> {
  let listed: ListedRun | undefined;
  return waitFor(
    `cp-sync list ${args.join(' ')}: ${workflowId} listed as ${phase}`,
    async () => {
      const { run, value } = await cli.json<ListedRun[]>(['list', '--since', '10m', '--limit', '1000', ...args]);
      expectExit(run, 0);
      listed = value.find((r) => r.workflowId === workflowId);
      return listed?.phase === phase && listed;
    },
    { timeoutMs: 20_000, intervalMs: 500, lastSeen: () => JSON.stringify(listed) },
  );
}

/** `cp-sync status <id> --json`, which must exit 0. */
async function statusOf(workflowId: string): Promise<SyncStatus> {
  const { run, value } = await cli.json<SyncStatus>(['status', workflowId]);
  expectExit(run, 0);
  return value;
}

/** Scrapes until `ready` holds (the workflow's metrics are exported after its workflow task completes). */
async function scrapeUntil(address: string, ready: (samples: Sample[]) => boolean): Promise<Sample[]> {
  let last: Sample[] = [];
  return waitFor(
    `the metrics at ${address} get there`,
    async () => {
      last = await scrape(address);
      return ready(last) && last;
    },
    { timeoutMs: 15_000, intervalMs: 250, lastSeen: () => JSON.stringify(last.filter((s) => s.name.startsWith('cp_sync_plans'))) },
  );
}

test(
  'cancelled while awaiting approval: result exits 10, status and list read cancelled, a cancelled notification and no failed one, no failure in the metrics',
  async () => {
    await aStationMissingTwoPoints('OUT-CANCEL');
    const before = await snapshot(e2e.db);
    // A worker process of its own, to scrape its metrics endpoint; it tells the same webhook receiver.
    const address = `127.0.0.1:${await freePort()}`;
    const taskQueue = `${e2e.taskQueue}-cancel`;
    let worker: WorkerProcess | undefined = await startWorkerProcess({
      PATH: process.env.PATH,
      ...e2e.env,
      TEMPORAL_TASK_QUEUE: taskQueue,
      METRICS_BIND_ADDRESS: address,
    });
    try {
      const account = e2e.account();
      const publisher = await Publisher.start(account, [report('OUT-CANCEL', 3)]);
      let handle: SyncHandle;
      try {
        handle = await e2e.start({ account }, e2e.workflowId('cancel'), taskQueue);
        await e2e.waitForPhase(handle, 'awaiting-approval');
      } finally {
        await publisher.stop();
      }
      const { workflowId } = handle;
      await receiver.delivered(workflowId, 1);

      // What the Web UI's "Request Cancellation" sends.
      await handle.cancel();

      const result = await cli.json<SyncResult>(['result', workflowId]);
      expectExit(result.run, EXIT.cancelled);
      expect(result.value).toMatchObject({ phase: 'cancelled', created: 0 });
      const text = await cli.run(['result', workflowId]);
      expectExit(text, EXIT.cancelled);
      expect(text.stdout.split('\n')).toEqual(expect.arrayContaining(['=== Cancelled ===', 'No charging points were created']));
      expect(text.stdout).toContain('cancelled while awaiting-approval');
      expect(`${text.stdout}\n${text.stderr}`).not.toMatch(/fail/i);

      const status = await statusOf(workflowId);
      expect(status).toMatchObject({ phase: 'cancelled', cancelledDuring: 'awaiting-approval' });
      expect(status.failedDuring).toBeUndefined();
      expect(status.error).toBeUndefined();
      const human = await cli.run(['status', workflowId]);
      expectExit(human, 0);
      expect(human.stdout).toMatch(new RegExp(`^Sync ${workflowId}: cancelled$`, 'm'));
      expect(human.stdout).toContain('outcome: cancelled while awaiting-approval; nothing written');
      expect(human.stdout).not.toMatch(/fail/i);

      const listed = await listedAs(workflowId, 'cancelled');
      expect(listed.outcome ?? 'cancelled').not.toMatch(/fail/i);
      expect((await listedAs(workflowId, 'cancelled', ['--phase', 'cancelled'])).workflowId).toBe(workflowId);

      // The run told its end before it ended: every notification is in by now.
      const posts = receiver.postsFor(workflowId);
      expect(posts.map((p) => p.body.event)).toEqual(['awaiting-approval', 'cancelled']);
      expect(posts[1]!.body).toMatchObject({ event: 'cancelled', cancelledDuring: 'awaiting-approval' });
      expect(String(posts[1]!.body.text)).not.toMatch(/fail/i);

      const queue = { task_queue: taskQueue };
      const after = await scrapeUntil(address, (s) => valueOf(s, 'cp_sync_plans_total', queue) === 1);
      expect(valueOf(after, 'cp_sync_plans_total', { ...queue, outcome: 'cancelled' })).toBe(1);
      for (const outcome of FAILURE_CLASS_PHASES) expect([outcome, valueOf(after, 'cp_sync_plans_total', { ...queue, outcome }) ?? 0]).toEqual([outcome, 0]);
      expect(valueOf(after, 'cp_sync_approval_wait_seconds_count', { ...queue, outcome: 'cancelled' })).toBe(1);
      expect(valueOf(after, 'cp_sync_runs_awaiting_approval', queue)).toBe(0);

      expect((await createdSince(e2e.db, before)).size).toBe(0);
      expect(await worker.stop()).toBe(0);
      worker = undefined;
    } finally {
      await worker?.kill();
    }
  },
  TEST_TIMEOUT,
);

test(
  'terminated: result exits 11, status and list read terminated, and status gives the reason from the history',
  async () => {
    await aStationMissingTwoPoints('OUT-TERM');
    const before = await snapshot(e2e.db);
    const handle = await e2e.collect(e2e.account(), [report('OUT-TERM', 3)]);
    await e2e.waitForPhase(handle, 'awaiting-approval');
    const reason = 'maintenance window: stopped by the on-call engineer';
    await handle.terminate(reason);

    const result = await cli.json<SyncResult>(['result', handle.workflowId]);
    expectExit(result.run, EXIT.terminated);
    // The reason, said once: `error` is the reason itself, and the outcome line adds `terminated: ` to it.
    expect(result.value).toMatchObject({ phase: 'terminated', created: 0, error: reason });
    const text = await cli.run(['result', handle.workflowId]);
    expectExit(text, EXIT.terminated);
    expect(text.stdout.split('\n')).toEqual(expect.arrayContaining(['=== Terminated ===', `terminated: ${reason}`, 'No charging points were created']));

    const status = await statusOf(handle.workflowId);
    expect(status).toMatchObject({ phase: 'terminated', error: reason });
    expect(status.failedDuring).toBeUndefined();
    const human = await cli.run(['status', handle.workflowId]);
    expectExit(human, 0);
    expect(human.stdout).toMatch(new RegExp(`^Sync ${handle.workflowId}: terminated$`, 'm'));
    expect(human.stdout).toContain(`outcome: terminated: ${reason}`);
    for (const run of [text, human]) expect(run.stdout).not.toMatch(/terminated: terminated|failed/i);

    // Visibility has no reason to give (a terminated run writes nothing more): the list reads it from the history.
    expect(await listedAs(handle.workflowId, 'terminated')).toMatchObject({ outcome: `terminated: ${reason}` });
    await listedAs(handle.workflowId, 'terminated', ['--phase', 'terminated']);
    // A termination runs no workflow code: nobody is told that the run failed.
    expect(receiver.postsFor(handle.workflowId).map((p) => p.body.event)).toEqual(['awaiting-approval']);
    expect((await createdSince(e2e.db, before)).size).toBe(0);
  },
  TEST_TIMEOUT,
);

test(
  'a reject while collecting a 60 s window ends the run within seconds: exit 3, no plan, and the broker keeps no session for the collector',
  async () => {
    await aStationMissingTwoPoints('OUT-REJECT');
    const account = e2e.account();
    const publisher = await Publisher.start(account, [report('OUT-REJECT', 3)]);
    let handle: SyncHandle;
    let rejectedAt: number;
    try {
      handle = await e2e.start({ account, collectorDurationMs: 60_000 });
      const collecting = handle;
      // The collector is connected, subscribed and hearing the device: its persistent session is on the broker.
      await waitFor('the collector heard the device', async () => ((await collectionProgress(collecting))?.devices ?? 0) >= 1, { timeoutMs: 20_000, intervalMs: 200 });
      rejectedAt = Date.now();
      const rejected = await cli.run(['reject', handle.workflowId, '--reason', 'wrong account', '--by', 'cli-operator']);
      expectExit(rejected, 0);
      const result = await cli.json<SyncResult>(['result', handle.workflowId]);
      const endedAfterMs = Date.now() - rejectedAt;
      expectExit(result.run, EXIT.rejected);
      expect(result.value).toMatchObject({ phase: 'rejected', created: 0, rejection: { by: 'cli-operator', reason: 'wrong account' } });
      // Well before the window's end (60 s), with room for a loaded machine.
      if (endedAfterMs >= 15_000) throw new Error(`the rejected run ended ${endedAfterMs} ms after the reject\n${describeRun(result.run)}`);
    } finally {
      await publisher.stop();
    }

    const status = await statusOf(handle.workflowId);
    expect(status).toMatchObject({ phase: 'rejected', rejection: { by: 'cli-operator', reason: 'wrong account' } });
    expect(status.plan).toBeUndefined();
    expect(receiver.postsFor(handle.workflowId).map((p) => p.body.event)).toEqual(['rejected']);
    // The collector was stopped, not abandoned: it ended the run's MQTT session on its way out.
    expect(await sessionPresent(sessionClientId(handle.firstExecutionRunId))).toBe(false);
  },
  TEST_TIMEOUT,
);
