/**
 * A watch's plan over the auto-approve limit, against the real services (issue 15): it waits (`awaiting-approval`,
 * `pending` set) while collection goes on, one webhook notification goes out for it; the next cycle's plan (a new
 * device) supersedes it, so that approving the old fingerprint through the CLI is refused by name (exit 5) and the
 * new plan, notified once as well, applies both devices' points exactly once. `cp-sync plan <watch> --format …`
 * exports the waiting plan, then, once applied, the last cycle's plan.
 */
import { watchKeyOf } from '../../src/domain/watch-keys';
import type { WatchInput } from '../../src/watch-shared';
import { watchStatusQuery } from '../../src/workflows';
import { Publisher, report, useE2e, type StationRow } from '../support/e2e';
import { expectExit, useCliRunner } from '../support/e2e-cli';
import { WebhookReceiver } from '../support/webhook-receiver';
import { approveWatchByCli, startListeningWatch, watchStatusWhen } from '../support/e2e-watch';
import { waitFor } from '../support/wait';

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await WebhookReceiver.start();
});
afterAll(async () => {
  await receiver?.close();
});

const e2e = useE2e('watchok', { workerEnv: () => ({ NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/hooks/watch` }) });
const cli = useCliRunner(e2e);

const INTERVAL_MS = 2000;

function startWatch(input: Partial<WatchInput> & { account: string }) {
  return startListeningWatch(e2e, { intervalMs: INTERVAL_MS, ...input });
}

/** The awaiting-approval notifications of the watch, as the receiver got them: one fingerprint each. */
function awaitingPosted(workflowId: string): string[] {
  return receiver
    .postsFor(workflowId)
    .filter((p) => p.body.event === 'awaiting-approval')
    .map((p) => (p.body.plan as { fingerprint: string }).fingerprint);
}

async function lastHeard(workflowId: string, deviceId: string): Promise<number> {
  const [[row]] = (await e2e.db.pool.query(`SELECT last_heard FROM ${e2e.db.tables.watchDevices} WHERE watch_key = ? AND device_id = ?`, [watchKeyOf(workflowId), deviceId])) as unknown as [
    Array<{ last_heard: Date }>,
  ];
  return row ? row.last_heard.getTime() : 0;
}

async function pointIdsOf(station: StationRow): Promise<number[]> {
  return e2e.db.livePointIds(station);
}

test('a plan over the limit waits and is notified once; the next cycle’s supersedes it; the old fingerprint is refused; the new one applies both devices once', async () => {
  const account = e2e.account();
  const first = await e2e.db.station({ station_id: 'WAPP-0001', name: 'First' });
  const second = await e2e.db.station({ station_id: 'WAPP-0002', name: 'Second' });
  const handle = await startWatch({ account, autoApproveMaxPoints: 1 });
  const publishers = [await Publisher.start(account, [report(first.station_id, 2)], { intervalMs: 300 })];
  try {
    // Two points are over the limit of one: the plan waits.
    const waiting = await watchStatusWhen(handle, 'the first plan to wait', (s) => s.phase === 'awaiting-approval');
    const old = waiting.pending!;
    expect(old.plan).toMatchObject({ pointsToCreate: 2, stationsToChange: 1 });
    expect(waiting.plan?.fingerprint).toBe(old.plan.fingerprint);
    expect(waiting.autoApproveExceeded).toMatch(/exceed the auto-approve limit of 1/);

    // Collection goes on while it waits (the device's row is heard again), later cycles leave the plan as it is,
    // and the notification went out once.
    const heardBefore = await lastHeard(handle.workflowId, first.station_id);
    await watchStatusWhen(handle, 'two more cycles', (s) => s.cycles >= waiting.cycles + 2);
    await waitFor('the device heard again', async () => (await lastHeard(handle.workflowId, first.station_id)) > heardBefore, { timeoutMs: 15_000, intervalMs: 200 });
    await receiver.delivered(handle.workflowId, 1);
    const still = await handle.query(watchStatusQuery);
    expect(still.pending?.plan.fingerprint).toBe(old.plan.fingerprint);
    expect(awaitingPosted(handle.workflowId)).toEqual([old.plan.fingerprint]);
    expect(await pointIdsOf(first)).toEqual([]);

    // A new device: the next cycle's plan covers both and supersedes the waiting one.
    publishers.push(await Publisher.start(account, [report(second.station_id, 1)], { intervalMs: 300 }));
    const replaced = await watchStatusWhen(handle, 'the superseding plan', (s) => s.pending !== null && s.pending.plan.fingerprint !== old.plan.fingerprint);
    const newer = replaced.pending!;
    expect(newer.plan).toMatchObject({ pointsToCreate: 3, stationsToChange: 2 });
    expect(replaced.superseded).toContainEqual({ fingerprint: old.plan.fingerprint, cycle: old.cycle, by: newer.cycle });
    await receiver.delivered(handle.workflowId, 2);
    expect(awaitingPosted(handle.workflowId)).toEqual([old.plan.fingerprint, newer.plan.fingerprint]);

    // Approving what was first notified is refused, naming the plan that replaced it; nothing is written.
    const refused = await cli.run(['approve', handle.workflowId, '--fingerprint', old.plan.fingerprint, '--by', 'alice@ops']);
    expectExit(refused, 5);
    expect(refused.stderr).toContain(`plan ${old.plan.fingerprint} of cycle ${old.cycle} was superseded by cycle ${newer.cycle}'s plan (${newer.plan.fingerprint}); nothing was written`);
    expect(await pointIdsOf(first)).toEqual([]);
    expect(await pointIdsOf(second)).toEqual([]);
    expect((await handle.query(watchStatusQuery)).pending?.plan.fingerprint).toBe(newer.plan.fingerprint);

    // The new plan applies both devices' points, once.
    expectExit(await approveWatchByCli(cli, handle.workflowId, newer.plan.fingerprint), 0);
    const applied = await watchStatusWhen(handle, 'the approved plan applied', (s) => s.phase === 'watching' && s.createdTotal === 3);
    expect(applied).toMatchObject({ pending: null, lastApproval: { by: 'alice@ops', fingerprint: newer.plan.fingerprint } });
    expect(await pointIdsOf(first)).toEqual([1, 2]);
    expect(await pointIdsOf(second)).toEqual([1]);

    // Later cycles (the devices still publishing) write nothing again and notify nothing more.
    await watchStatusWhen(handle, 'two more cycles', (s) => s.cycles >= applied.cycles + 2);
    const later = await handle.query(watchStatusQuery);
    expect(later).toMatchObject({ phase: 'watching', pending: null, createdTotal: 3 });
    expect((await e2e.db.allPoints()).filter((p) => !p.deleted)).toHaveLength(3);
    expect(awaitingPosted(handle.workflowId)).toEqual([old.plan.fingerprint, newer.plan.fingerprint]);
  } finally {
    for (const publisher of publishers) await publisher.stop();
  }
  expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
}, 180_000);

test('cp-sync plan <watch> --format json|csv|sql exports the waiting plan, then the last cycle’s; a device without a station does not re-notify it', async () => {
  const account = e2e.account();
  const station = await e2e.db.station({ station_id: 'WEXP-0001', name: 'Exported' });
  const handle = await startWatch({ account, autoApproveMaxPoints: 1 });
  const none = await cli.run(['plan', handle.workflowId, '--format', 'json']);
  expectExit(none, 1);
  expect(none.stderr).toMatch(/No plan yet: watch .* no cycle has planned anything/);

  const publisher = await Publisher.start(account, [report(station.station_id, 2), report('WEXP-NOSTATION', 1)], { intervalMs: 300 });
  try {
    const waiting = await watchStatusWhen(handle, 'the plan to wait', (s) => s.phase === 'awaiting-approval');
    const pending = waiting.pending!;
    // The device without a station keeps talking: later cycles plan it again, but the waiting plan is the same one
    // and is notified once.
    await watchStatusWhen(handle, 'three more cycles', (s) => s.cycles >= waiting.cycles + 3);
    const later = await handle.query(watchStatusQuery);
    expect(later.pending?.plan.fingerprint).toBe(pending.plan.fingerprint);
    expect(awaitingPosted(handle.workflowId)).toEqual([pending.plan.fingerprint]);
    const shown = later.pending!;

    const json = await cli.json<Record<string, unknown>>(['plan', handle.workflowId, '--format', 'json']);
    expectExit(json.run, 0);
    expect(json.value).toMatchObject({
      workflowId: handle.workflowId,
      cycle: shown.cycle,
      runKey: shown.runKey,
      phase: 'awaiting-approval',
      fingerprint: pending.plan.fingerprint,
      pointsToCreate: 2,
      stations: [expect.objectContaining({ stationPk: station.id, deviceId: station.station_id, missing: [1, 2] })],
      notFoundDeviceIds: ['WEXP-NOSTATION'],
    });
    const csv = await cli.run(['plan', handle.workflowId, '--format', 'csv']);
    expectExit(csv, 0);
    expect(csv.stdout).toBe(
      ['station,station id,device,expected,live,missing,surplus,skipped', `Exported,${station.id},WEXP-0001,2,0,"1,2",,false`, ',,WEXP-NOSTATION,1,,,,false', ''].join('\n'),
    );
    const sql = await cli.run(['plan', handle.workflowId, '--format', 'sql']);
    expectExit(sql, 0);
    expect(sql.stdout).toContain(`, cycle ${shown.cycle} (awaiting-approval), plan ${pending.plan.fingerprint}: 2 charging points to create on 1 stations`);
    expect(sql.stdout).toMatch(new RegExp(`VALUES\n {2}\\(\\d+, 'Exported', 1, '${station.id}', @now, @now\\),\n {2}\\(\\d+, 'Exported', 2, '${station.id}', @now, @now\\);\nCOMMIT;`));
    const table = await cli.run(['plan', handle.workflowId]);
    expectExit(table, 0);
    expect(table.stdout).toContain(`Watch ${handle.workflowId}: awaiting-approval; the plan of cycle ${shown.cycle} waits for approval`);

    expectExit(await approveWatchByCli(cli, handle.workflowId, pending.plan.fingerprint), 0);
    await watchStatusWhen(handle, 'the plan applied', (s) => s.createdTotal === 2 && s.pending === null);
    expect(await pointIdsOf(station)).toEqual([1, 2]);
  } finally {
    await publisher.stop();
  }
  // Nothing waits (the watch stopped): the last cycle's plan, from the watch's final status.
  expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
  const last = (await handle.result()).lastPlan!;
  expect(last.cycle).toBeGreaterThan(0);
  const json = await cli.json<Record<string, unknown>>(['plan', handle.workflowId, '--format', 'json']);
  expectExit(json.run, 0);
  expect(json.value).toMatchObject({ cycle: last.cycle, runKey: last.runKey, phase: 'stopped', fingerprint: last.plan.fingerprint, pointsToCreate: last.plan.pointsToCreate });
  const table = await cli.run(['plan', handle.workflowId]);
  expectExit(table, 0);
  expect(table.stdout).toContain(`Watch ${handle.workflowId}: stopped; nothing waits, the last plan is cycle ${last.cycle}'s`);
}, 180_000);
