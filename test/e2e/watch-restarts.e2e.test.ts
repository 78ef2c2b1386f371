/**
 * `cp-sync watch` through restarts of the services it depends on (issue 15), each a private one, never the shared
 * one: a Mosquitto with persistence, stopped and started again while devices publish, and a MariaDB (the ocpp and
 * the tool's databases) killed while a cycle's apply runs and started again. The watch does not fail, every point
 * ends up exactly once, and no error is left in its status once the service is back.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { WatchStatus } from '../../src/watch-shared';
import { publishOnce } from '../support/e2e-broker';
import { expectExit, useCliRunner } from '../support/e2e-cli';
import { Publisher, report, useE2e } from '../support/e2e';
import { start as startMariadb, type PrivateMariadb } from '../support/private-mariadb';
import { start as startMosquitto, type PrivateMosquitto } from '../support/private-mosquitto';
import {
  createdByCycles,
  duplicatePoints,
  finishedAttempts,
  highestAttempt,
  pointsWithin,
  runningActivity,
  startWatch,
  statusAfterMoreCycles,
  subscriptions,
  watchStatus,
  watchStatusWhen,
  type StatusWait,
} from '../support/e2e-watch';
import { waitFor } from '../support/wait';

let server: PrivateMariadb | undefined;
let broker: PrivateMosquitto | undefined;

// Registered before useE2e's own beforeAll: the harness creates its databases there, and its worker probes the broker.
beforeAll(async () => {
  [server, broker] = await Promise.all([startMariadb(), startMosquitto({ persistence: true })]);
}, 90_000);

const e2e = useE2e('watchrestart', {
  server: () => {
    if (!server) throw new Error('the private MariaDB did not start');
    return { host: server.host, port: server.port, user: server.user, password: server.password };
  },
  broker: () => ({ url: broker!.url }),
  // Anonymous on the private broker. An apply kept waiting on a held row lock waits long enough for the crash.
  workerEnv: () => ({ CLOUD_HOST: broker?.url, CLOUD_CREDENTIALS: undefined, OCPP_MYSQL_LOCK_WAIT_TIMEOUT: '60' }),
});
const cli = useCliRunner(e2e);

// After the harness's own afterAll (which drops its databases and user on the private server).
afterAll(async () => {
  await Promise.all([server?.stop(), broker?.stop()]);
}, 30_000);

const INTERVAL_MS = 2000;
const POLL_MS = 100;

/** Where a restart test's wait stands, named if it runs out: the watch's pending activities and the worker's last lines. */
function restartContext(handle: WorkflowHandle): StatusWait['context'] {
  return async () => {
    const { raw } = await handle.describe();
    const activities = JSON.stringify((raw.pendingActivities ?? []).map((a) => ({ type: a.activityType?.name, state: a.state, attempt: a.attempt, failure: a.lastFailure?.message })));
    return `activities ${activities}; the worker's last lines:\n${e2e.lines.slice(-20).map((l) => `${l.level} ${l.line}`).join('\n')}`;
  };
}

/** Polls the watch's status until `ready` holds (20 s unless `timeoutMs`), naming what the restart left if it does not. */
function statusWhen(handle: WorkflowHandle, what: string, ready: (status: WatchStatus) => boolean, timeoutMs = 20_000): Promise<WatchStatus> {
  return watchStatusWhen(handle, what, ready, { timeoutMs, context: restartContext(handle) });
}

async function subscribed(count: number): Promise<void> {
  await waitFor('the watch collector to subscribe', () => subscriptions(e2e) >= count, { timeoutMs: 30_000, intervalMs: POLL_MS });
}

test('a broker restart while devices publish: what is published after it (and the publisher kept meanwhile) gets its points; the watch goes on', async () => {
  const [r1, r2, r3] = await e2e.db.numberedStations('WBROKER', 3);
  const account = e2e.account();
  const url = broker!.url;
  const publishers: Publisher[] = [];
  try {
    const handle = await startWatch(e2e, { account, intervalMs: INTERVAL_MS });
    await subscribed(1);
    // Publishing through the restart: mqtt.js keeps its QoS 1 messages while the broker is away and sends them after.
    publishers.push(await Publisher.start(account, [report(r1!.station_id, 2)], { intervalMs: 300, broker: { url } }));
    await pointsWithin(e2e, [r1!], { [r1!.station_id]: [1, 2] }, 30_000);

    await broker!.restart(3000);
    // Right after the restart, before the collector is back, maybe: the persisted session queues them for it.
    await publishOnce(account, r1!.station_id, 3, url);
    await publishOnce(account, r2!.station_id, 2, url);
    publishers.push(await Publisher.start(account, [report(r3!.station_id, 3)], { intervalMs: 300, broker: { url } }));

    const expected = { [r1!.station_id]: [1, 2, 3], [r2!.station_id]: [1, 2], [r3!.station_id]: [1, 2, 3] };
    await pointsWithin(e2e, [r1!, r2!, r3!], expected, 60_000);
    expect(await duplicatePoints(e2e)).toEqual([]);

    const status = await statusAfterMoreCycles(handle);
    expect(status).toMatchObject({ kind: 'watch', phase: 'watching', pending: null, createdTotal: 8 });
    expect(status.error).toBeUndefined();
    // The collector rode the restart out: it reconnected, and was never retried.
    expect(e2e.infoLines()).toContain('Reconnecting to MQTT broker…');

    expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
    expect(await finishedAttempts(handle, 'collectWatchCounts')).toEqual([1]);
  } finally {
    for (const publisher of publishers) await publisher.stop();
  }
}, 180_000);

test('a broker away for a while shows in status and the Web UI details, naming CLOUD_HOST, and clears once the collector is back', async () => {
  const account = e2e.account();
  const handle = await startWatch(e2e, { account, intervalMs: INTERVAL_MS });
  await subscribed(subscriptions(e2e) + 1);
  // Not awaited yet: the status is read while the broker is away.
  const restarting = broker!.restart(12_000);
  try {
    const away = await statusWhen(handle, 'the broker problem shown', (shown) => shown.brokerProblem !== undefined, 15_000);
    expect(away.brokerProblem).toMatchObject({ setting: 'CLOUD_HOST' });
    const human = await cli.run(['status', handle.workflowId]);
    expectExit(human, 0);
    expect(human.stdout).toContain('cannot reach the MQTT broker: CLOUD_HOST');
    // The Web UI's Current Details (the SDK's built-in metadata query).
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('**Broker:** cannot reach the MQTT broker: CLOUD\\_HOST');
  } finally {
    await restarting;
  }
  const back = await statusWhen(handle, 'the broker problem cleared', (shown) => shown.brokerProblem === undefined, 30_000);
  expect(back).toMatchObject({ kind: 'watch', phase: 'watching' });
  expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
}, 120_000);

test('a database crash while a cycle applies: retried until the database is back, every point once; status shows the failure, then clears', async () => {
  const [gaps, fresh, later] = await e2e.db.numberedStations('WDB', 3);
  await e2e.db.point(gaps!, 1);
  const account = e2e.account();
  const url = broker!.url;
  let publisher: Publisher | undefined;
  // Held by another writer: the cycle's apply waits on it, in its transaction, when the database goes (both
  // stations: a cycle that heard only one of them waits as well). The crash may also land earlier in the attempt,
  // while it streams its plan: there it once hung for good (db/pool.ts watchConnection, lost-connection.e2e).
  const lock = await e2e.db.holdRowLock('SELECT id FROM charging_stations WHERE id IN (?) FOR UPDATE', [[gaps!.id, fresh!.id]]);
  let down = false;
  try {
    const handle = await startWatch(e2e, { account, intervalMs: INTERVAL_MS });
    await subscribed(1);
    publisher = await Publisher.start(account, [report(gaps!.station_id, 3), report(fresh!.station_id, 2)], { intervalMs: 300, broker: { url } });
    await waitFor('the apply running', () => runningActivity(handle, 'applyMissingPoints'), { timeoutMs: 30_000, intervalMs: POLL_MS });

    await server!.crash();
    down = true;
    await lock.release();
    // The failed attempt shows while the database is away (the apply's retries back off from 1 s).
    const failing = await statusWhen(handle, 'status shows the failed apply', (shown) => (shown.error ?? '').startsWith('applyMissingPoints attempt'));
    expect(failing.error).toMatch(/^applyMissingPoints attempt \d+ failed \(.+\); retrying$/);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await server!.restart();
    down = false;

    await pointsWithin(e2e, [gaps!, fresh!], { [gaps!.station_id]: [1, 2, 3], [fresh!.station_id]: [1, 2] }, 90_000);
    // Once the database is back, the watch goes on: a device heard now gets its points too.
    await publishOnce(account, later!.station_id, 2, url);
    await pointsWithin(e2e, [gaps!, fresh!, later!], { [gaps!.station_id]: [1, 2, 3], [fresh!.station_id]: [1, 2], [later!.station_id]: [1, 2] }, 30_000);
    expect(await duplicatePoints(e2e)).toEqual([]);

    // The rows commit before the apply's result reaches the workflow: wait for the count, not only for the rows.
    const status = await statusWhen(handle, 'the error cleared and the six points counted', (shown) => shown.error === undefined && shown.createdTotal >= 6, 30_000);
    expect(status).toMatchObject({ kind: 'watch', phase: 'watching', pending: null, createdTotal: 6 });
    expect(await createdByCycles(e2e, handle.workflowId)).toBe(6);

    expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
    // The apply the crash interrupted succeeded on a later attempt.
    expect(await highestAttempt(handle, 'applyMissingPoints')).toBeGreaterThanOrEqual(2);
  } finally {
    await lock.release();
    await publisher?.stop();
    // For the tests after this one, whatever happened here.
    if (down) await server!.restart();
  }
}, 180_000);

test('a database crash between cycles: the cycles retry their plan until it is back, then the error clears and the watch goes on', async () => {
  const [quiet, heard] = await e2e.db.numberedStations('WIDLE', 2);
  const account = e2e.account();
  const url = broker!.url;
  const handle = await startWatch(e2e, { account, intervalMs: INTERVAL_MS });
  await subscribed(1);
  await publishOnce(account, quiet!.station_id, 1, url);
  await pointsWithin(e2e, [quiet!], { [quiet!.station_id]: [1] }, 30_000);

  await server!.crash();
  let down = true;
  try {
    const failing = await statusWhen(handle, 'status shows the failed cycle', (shown) => (shown.error ?? '').startsWith('planWatchCycle attempt'));
    expect(failing.error).toMatch(/^planWatchCycle attempt \d+ failed \(.+\); retrying$/);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await server!.restart();
    down = false;

    // Cycles with nothing to do once it is back (the failed one, and one more): the error they showed is gone, though
    // nothing was applied.
    const after = await statusWhen(handle, 'two cycles after the restart', (shown) => shown.cycles >= failing.cycles + 2, 60_000);
    expect(after).toMatchObject({ phase: 'watching', pending: null, createdTotal: 1 });
    expect(after.error).toBeUndefined();
    await publishOnce(account, heard!.station_id, 2, url);
    await pointsWithin(e2e, [quiet!, heard!], { [quiet!.station_id]: [1], [heard!.station_id]: [1, 2] }, 30_000);
    const status = await watchStatus(handle);
    expect(status).toMatchObject({ phase: 'watching', pending: null, createdTotal: 3 });
    expect(status.error).toBeUndefined();
    expect(await duplicatePoints(e2e)).toEqual([]);
    expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
  } finally {
    // For the tests after this one, whatever happened here.
    if (down) await server!.restart();
  }
}, 180_000);
