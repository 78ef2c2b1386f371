/**
 * NOTIFY_WEBHOOK_URL against a real receiver on 127.0.0.1 (test/support/webhook-receiver.ts), with the harness's
 * real worker: every event arrives once with its fields, a failing receiver is retried without holding up the
 * sync, and the URL (which carries a token) shows nowhere: not in history, logs or the status.
 */
import { loadStatus } from '../../src/client/sync-client';
import { createdSince, snapshot } from '../support/e2e-assert';
import { report, useE2e } from '../support/e2e';
import { WebhookReceiver } from '../support/webhook-receiver';

const TOKEN = `hook-token-${Date.now().toString(36)}`;
let receiver: WebhookReceiver;

// Registered before useE2e: the harness reads workerEnv in its own beforeAll.
beforeAll(async () => {
  receiver = await WebhookReceiver.start();
});
afterAll(async () => {
  await receiver?.close();
});

const e2e = useE2e('notify', { workerEnv: () => ({ NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/hooks/${TOKEN}` }) });
const TEST_TIMEOUT = 60_000;

beforeEach(async () => {
  receiver.reset();
  await e2e.db.clearOcppTables();
});

/** One station whose device reports 3 connectors while it has point 1 only: a plan of 2 points on 1 station. */
async function aStationMissingTwoPoints(stationId: string): Promise<void> {
  const station = await e2e.db.station({ station_id: stationId, name: `Station ${stationId}` });
  await e2e.db.point(station, 1);
}

async function expectTokenNowhere(workflowId: string): Promise<void> {
  const history = JSON.stringify(await e2e.client.workflow.getHandle(workflowId).fetchHistory());
  expect(history).not.toContain(TOKEN);
  expect(history).not.toContain(`127.0.0.1:${receiver.port}`);
  expect(JSON.stringify(e2e.lines)).not.toContain(TOKEN);
}

describe('webhook notifications', () => {
  test(
    'awaiting-approval, then applied: each once, with the text, the plan, the approve command line and the Web UI link',
    async () => {
      await aStationMissingTwoPoints('NTF-0001');
      const before = await snapshot(e2e.db);
      const handle = await e2e.collect(e2e.account(), [report('NTF-0001', 3)]);
      const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
      const fingerprint = waiting.plan!.fingerprint;

      const [awaiting] = await receiver.delivered(handle.workflowId, 1);
      expect(awaiting!.path).toBe(`/hooks/${TOKEN}`);
      expect(awaiting!.contentType).toBe('application/json');
      expect(awaiting!.body).toMatchObject({
        event: 'awaiting-approval',
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        plan: { fingerprint, pointsToCreate: 2, stationsToChange: 1 },
        approvalDeadline: waiting.approvalDeadline,
        approveCommand: `cp-sync approve ${handle.workflowId} --fingerprint ${fingerprint}`,
        webUiUrl: `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)}/${handle.firstExecutionRunId}/history`,
      });
      expect(awaiting!.body.text).toEqual(expect.stringContaining(`awaits approval until ${waiting.approvalDeadline!.replace(/\.000Z$/, 'Z')} (in `));
      expect(awaiting!.body.text).toEqual(expect.stringContaining(`cp-sync approve ${handle.workflowId} --fingerprint ${fingerprint}`));

      await e2e.approve(handle, fingerprint, 'alice@ops');
      const done = await handle.result();
      expect(done.phase).toBe('applied');
      const posts = await receiver.delivered(handle.workflowId, 2);
      expect(posts.map((p) => p.body.event)).toEqual(['awaiting-approval', 'applied']);
      expect(posts[1]!.body).toMatchObject({ event: 'applied', created: 2, stationsChanged: 1, approvedBy: 'alice@ops' });
      expect(posts[1]!.body.text).toEqual(expect.stringContaining('applied: 2 charging points created on 1 stations, approved by alice@ops'));
      expect(receiver.postsFor(handle.workflowId)).toHaveLength(2);
      expect(done.notifications?.map((n) => [n.event, n.state])).toEqual([
        ['awaiting-approval', 'sent'],
        ['applied', 'sent'],
      ]);
      expect([...(await createdSince(e2e.db, before)).values()].flat()).toEqual([2, 3]);
      await expectTokenNowhere(handle.workflowId);
    },
    TEST_TIMEOUT,
  );

  test(
    'a receiver that answers 500 three times is retried: delivered on the fourth attempt, and the sync ends as it would have',
    async () => {
      await aStationMissingTwoPoints('NTF-0002');
      const before = await snapshot(e2e.db);
      receiver.answerNext(500, 500, 500);
      const handle = await e2e.collect(e2e.account(), [report('NTF-0002', 3)], { autoApproveMaxPoints: 2 });
      const done = await handle.result();
      expect(done).toMatchObject({ phase: 'applied', created: 2, approval: { by: 'auto-approve (limit 2)', auto: true } });
      expect(receiver.postsFor(handle.workflowId).map((p) => [p.body.event, p.answered])).toEqual([
        ['applied', 500],
        ['applied', 500],
        ['applied', 500],
        ['applied', 200],
      ]);
      expect(done.notifications).toEqual([{ event: 'applied', state: 'sent', at: expect.any(String) }]);
      expect([...(await createdSince(e2e.db, before)).values()].flat()).toEqual([2, 3]);
      expect(e2e.infoLines().filter((l) => l.includes('attempt') && l.includes('HTTP 500'))).toHaveLength(3);
      await expectTokenNowhere(handle.workflowId);
    },
    TEST_TIMEOUT,
  );

  test(
    'a receiver that keeps failing never fails the sync: applied, and the status says the notification failed',
    async () => {
      await aStationMissingTwoPoints('NTF-0003');
      receiver.answerNext(...Array<number>(5).fill(503));
      const startedAt = Date.now();
      const handle = await e2e.collect(e2e.account(), [report('NTF-0003', 3)], { autoApprove: true });
      const done = await handle.result();
      expect(done).toMatchObject({ phase: 'applied', created: 2 });
      expect(done.notifications).toEqual([{ event: 'applied', state: 'failed', error: 'the webhook answered HTTP 503', at: expect.any(String) }]);
      expect(receiver.postsFor(handle.workflowId)).toHaveLength(5);
      // Five attempts, 1 + 2 + 4 + 8 s apart at most: bounded, well inside the one-minute schedule-to-close.
      expect(Date.now() - startedAt).toBeLessThan(45_000);
    },
    TEST_TIMEOUT,
  );

  test(
    'rejected and expired are told once each; a dry run is not told',
    async () => {
      await aStationMissingTwoPoints('NTF-0004');
      const rejected = await e2e.collect(e2e.account(), [report('NTF-0004', 3)]);
      await e2e.waitForPhase(rejected, 'awaiting-approval');
      await e2e.reject(rejected, 'not tonight');
      expect((await rejected.result()).phase).toBe('rejected');

      const expired = await e2e.collect(e2e.account(), [report('NTF-0004', 3)], { approvalTimeoutMs: 1000 });
      expect((await expired.result()).phase).toBe('expired');

      const dryRun = await e2e.collect(e2e.account(), [report('NTF-0004', 3)], { dryRun: true });
      expect((await dryRun.result()).phase).toBe('dry-run');

      const rejectedPosts = await receiver.delivered(rejected.workflowId, 2);
      expect(rejectedPosts.map((p) => p.body.event)).toEqual(['awaiting-approval', 'rejected']);
      expect(rejectedPosts[1]!.body).toMatchObject({ rejectedBy: 'e2e-operator', rejectionReason: 'not tonight' });
      const expiredPosts = await receiver.delivered(expired.workflowId, 2);
      expect(expiredPosts.map((p) => p.body.event)).toEqual(['awaiting-approval', 'expired']);
      expect(receiver.postsFor(dryRun.workflowId)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  test(
    'failed is told with the error; the ended run\'s status (from the final status its failure carries) shows its notifications',
    async () => {
      await aStationMissingTwoPoints('NTF-0005');
      const handle = await e2e.collect(e2e.account(), [report('NTF-0005', 3)]);
      const fingerprint = (await e2e.waitForPhase(handle, 'awaiting-approval')).plan!.fingerprint;
      // The write meets a table that is not there: a database error no retry can fix.
      await e2e.db.pool.query('RENAME TABLE charging_points TO charging_points_away');
      try {
        await e2e.approve(handle, fingerprint);
        await expect(handle.result()).rejects.toThrow();
      } finally {
        await e2e.db.pool.query('RENAME TABLE charging_points_away TO charging_points');
      }
      const posts = await receiver.delivered(handle.workflowId, 2);
      expect(posts.map((p) => p.body.event)).toEqual(['awaiting-approval', 'failed']);
      expect(posts[1]!.body).toMatchObject({ event: 'failed', failedDuring: 'applying', error: expect.stringContaining('charging_points') });
      expect(posts[1]!.body.text).toEqual(expect.stringContaining('failed while applying'));
      const status = await loadStatus(e2e.client.workflow.getHandle(handle.workflowId));
      expect(status.phase).toBe('failed');
      expect(status.notifications?.map((n) => [n.event, n.state])).toEqual([
        ['awaiting-approval', 'sent'],
        ['failed', 'sent'],
      ]);
    },
    TEST_TIMEOUT,
  );
});
