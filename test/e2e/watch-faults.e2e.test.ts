/**
 * `cp-sync watch` survives faults, against the real services (issue 15): a worker process killed with SIGKILL while
 * a cycle's apply runs, and two watches on one database whose devices overlap (the apply lock makes them take
 * turns). Every point ends up exactly once, the counts survive, and the watches go on cycling.
 * (A broker restart and a database restart: watch-restarts.e2e.test.ts.)
 */
import { publishOnce } from '../support/e2e-broker';
import { expectExit, startWorkerProcess, useCliRunner, type WorkerProcess } from '../support/e2e-cli';
import { Publisher, report, useE2e } from '../support/e2e';
import { appliedCycles, createdByCycles, duplicatePoints, highestAttempt, pointsWithin, runningActivity, startWatch, statusAfterMoreCycles, subscriptions } from '../support/e2e-watch';
import { waitFor } from '../support/wait';

/** Long: an apply kept waiting on a held row lock is still waiting when the test is ready to go on. */
const LOCK_WAIT_S = 60;
const e2e = useE2e('watchfaults', { workerEnv: () => ({ OCPP_MYSQL_LOCK_WAIT_TIMEOUT: String(LOCK_WAIT_S) }) });
const cli = useCliRunner(e2e);

const INTERVAL_MS = 2000;
const POLL_MS = 100;

test('a worker killed (SIGKILL) while a cycle applies: a new worker finishes it, every point once, nothing published meanwhile lost', async () => {
  const [s1, s2, s3, s4] = await e2e.db.numberedStations('WKILL', 4);
  const all = [s1!, s2!, s3!, s4!];
  const taskQueue = `${e2e.taskQueue}-kill`;
  const env = { PATH: process.env.PATH, ...e2e.env, TEMPORAL_TASK_QUEUE: taskQueue, OCPP_MYSQL_LOCK_WAIT_TIMEOUT: String(LOCK_WAIT_S) };
  const account = e2e.account();
  const first = await startWorkerProcess(env);
  let second: WorkerProcess | undefined;
  const publishers: Publisher[] = [];
  const lock = await e2e.db.holdRowLock('SELECT id FROM charging_stations WHERE id = ? FOR UPDATE', [s3!.id]);
  try {
    const handle = await startWatch(e2e, { account, intervalMs: INTERVAL_MS }, taskQueue);
    await waitFor('the watch collector to subscribe', () => first.output().includes('Subscribed to connectors-count'), { timeoutMs: 30_000, intervalMs: POLL_MS });

    // Before the crash: two stations get their points as usual.
    publishers.push(await Publisher.start(account, [report(s1!.station_id, 2), report(s2!.station_id, 2)], { intervalMs: 300 }));
    await pointsWithin(e2e, [s1!, s2!], { [s1!.station_id]: [1, 2], [s2!.station_id]: [1, 2] }, 30_000);

    // A third station's cycle applies, and waits on the row lock another writer holds: the worker dies mid-apply.
    publishers.push(await Publisher.start(account, [report(s3!.station_id, 3)], { intervalMs: 300 }));
    await waitFor('the apply of the third station running', () => runningActivity(handle, 'applyMissingPoints'), { timeoutMs: 30_000, intervalMs: POLL_MS });
    await first.kill();
    await lock.release();

    // No worker now: a count that rises and a device that speaks only once reach the broker's session, not the watch.
    await publishOnce(account, s1!.station_id, 3);
    await publishOnce(account, s4!.station_id, 2);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await duplicatePoints(e2e)).toEqual([]);

    second = await startWorkerProcess(env);
    const expected = { [s1!.station_id]: [1, 2, 3], [s2!.station_id]: [1, 2], [s3!.station_id]: [1, 2, 3], [s4!.station_id]: [1, 2] };
    // The heartbeat timeout (10 s) before the apply and the collector are given to the new worker, then a cycle or two.
    await pointsWithin(e2e, all, expected, 90_000);
    expect(await duplicatePoints(e2e)).toEqual([]);
    expect(second.output()).toContain("Resumed this run's MQTT session");

    // The counts survived the crash, and the watch goes on cycling, with no error left behind.
    const status = await statusAfterMoreCycles(handle);
    expect(status).toMatchObject({ kind: 'watch', phase: 'watching', pending: null, createdTotal: 10 });
    expect(status.error).toBeUndefined();
    expect(await createdByCycles(e2e, handle.workflowId)).toBe(10);

    expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
    // The apply the crash interrupted was finished by a later attempt, on the new worker.
    expect(await highestAttempt(handle, 'applyMissingPoints')).toBeGreaterThanOrEqual(2);
  } finally {
    await lock.release();
    for (const publisher of publishers) await publisher.stop();
    await first.kill();
    await second?.stop();
  }
}, 180_000);

test('two watches on one database, their devices overlapping: the apply lock makes them take turns, every point once', async () => {
  const [t1, t2, t3, t4] = await e2e.db.numberedStations('WTWO', 4);
  const all = [t1!, t2!, t3!, t4!];
  const [accountA, accountB] = [e2e.account('a'), e2e.account('b')];
  // A and B both report the second and the third station, the third with different counts.
  const fromA = [report(t1!.station_id, 2), report(t2!.station_id, 2), report(t3!.station_id, 3)];
  const fromB = [report(t2!.station_id, 2), report(t3!.station_id, 2), report(t4!.station_id, 1)];
  const publishers: Publisher[] = [];
  // The apply lock, held as a third apply would hold it: both watches' applies queue behind it.
  const applyLock = await e2e.db.holdRowLock(`SELECT name FROM \`${e2e.db.config.toolDatabase}\`.cp_sync_locks WHERE name = 'apply' FOR UPDATE`, []);
  try {
    const watchA = await startWatch(e2e, { account: accountA, intervalMs: INTERVAL_MS });
    const watchB = await startWatch(e2e, { account: accountB, intervalMs: INTERVAL_MS });
    await waitFor('both collectors to subscribe', () => subscriptions(e2e) >= 2, { timeoutMs: 30_000, intervalMs: POLL_MS });
    publishers.push(await Publisher.start(accountA, fromA, { intervalMs: 300 }), await Publisher.start(accountB, fromB, { intervalMs: 300 }));

    // Both have planned the shared stations and wait to apply.
    for (const watch of [watchA, watchB]) {
      await waitFor(`${watch.workflowId}'s apply running`, () => runningActivity(watch, 'applyMissingPoints'), { timeoutMs: 30_000, intervalMs: POLL_MS });
    }
    await applyLock.release();

    const expected = { [t1!.station_id]: [1, 2], [t2!.station_id]: [1, 2], [t3!.station_id]: [1, 2, 3], [t4!.station_id]: [1] };
    await pointsWithin(e2e, all, expected, 60_000);
    // A cycle or two more: nothing is created twice later either.
    const [statusA, statusB] = await Promise.all([statusAfterMoreCycles(watchA), statusAfterMoreCycles(watchB)]);
    expect(await duplicatePoints(e2e)).toEqual([]);
    await pointsWithin(e2e, all, expected, 1000);

    for (const status of [statusA, statusB]) {
      expect(status).toMatchObject({ phase: 'watching', pending: null });
      expect(status.error).toBeUndefined();
    }
    expect(statusA.createdTotal + statusB.createdTotal).toBe(8);
    // The one that applied second found the shared stations' points already there (its locked re-check).
    const applied = [...(await appliedCycles(e2e, watchA.workflowId)), ...(await appliedCycles(e2e, watchB.workflowId))];
    expect(applied.reduce((sum, c) => sum + c.created, 0)).toBe(8);
    expect(applied.reduce((sum, c) => sum + c.alreadyPresent, 0)).toBeGreaterThan(0);

    for (const watch of [watchA, watchB]) expectExit(await cli.run(['watch', 'stop', watch.workflowId]), 0);
  } finally {
    await applyLock.release();
    for (const publisher of publishers) await publisher.stop();
  }
}, 180_000);
