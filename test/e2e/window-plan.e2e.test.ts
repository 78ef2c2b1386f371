/**
 * The plan built during the window against the full planner, on the same observations and the same database
 * (MariaDB, no mocks): the same summary (counts, samples, fingerprint), the same rows in the four plan tables, the same
 * log lines. Each run is fed like a window: batches flushed as the collectors flush them, steps of planning between
 * them, and the plan at close. Where the plan cannot be built during the window (ocpp-db changed, LOG_LEVEL=debug, a
 * device never planned), the full planner builds it, and the result is the full planner's all the same.
 */
import { originalLogLines } from '../../src/activities/diff';
import { AttemptQueries } from '../../src/db/attempt-queries';
import { createPool, type Pool } from '../../src/db/pool';
import type { SyncDatabase } from '../../src/db/tables';
import { undashed } from '../../src/domain/plan';
import type { Log } from '../../src/log';
import { ObservationStore } from '../../src/store/observation-store';
import { buildPlan } from '../../src/store/planner';
import { planAtWindowClose, type ClosePlan } from '../../src/store/window-plan';
import { discardWindowRows, planMarkedDevices, takeSnapshot } from '../../src/store/window-planner';
import { E2eDatabase, type StationRow } from '../support/e2e-db';

let db: E2eDatabase;
let pool: Pool;
let sync: SyncDatabase;
let nextRun = 0;

/** The server records a table's last change in whole seconds: the snapshot must come in a later second than the seeding. */
const nextSecond = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1100));

const DEVICES = 1300;
const connectorsOf = (i: number): number => 1 + (i % 4);
/** Half of the stations store their id without dashes; every fifth device has no station. */
const hasStation = (i: number): boolean => i % 5 !== 0;
const stationIdOf = (i: number): string => (i % 2 === 0 ? `DEV${i}` : `DEV-${i}`);
const stations = new Map<number, StationRow>();

beforeAll(async () => {
  db = await E2eDatabase.create('cps_e2e_window');
  pool = createPool(db.config, 6);
  sync = { pool, tables: db.tables };
  for (let i = 0; i < DEVICES; i++) {
    if (!hasStation(i)) continue;
    const station = await db.station({ station_id: stationIdOf(i), name: `Station ${i}` });
    stations.set(i, station);
    const all = Array.from({ length: connectorsOf(i) }, (_, k) => k + 1);
    const kind = i % 7;
    const points = kind === 0 ? [] : kind === 1 ? all.filter((p) => p !== 2) : kind === 2 ? [...all, 9] : all;
    for (const p of points) await db.point(station, p);
    if (i % 7 === 3) await db.point(station, 1, { deleted: new Date() });
    // Ambiguous: the device's exact id names this station, its undashed id another one (which stays silent).
    if (i % 17 === 4 && i % 2 === 1) await db.station({ station_id: `DEV${i}`, name: `Undashed twin ${i}` });
  }
  // More silent stations than a summary lists (200).
  for (let k = 0; k < 230; k++) await db.station({ station_id: `SILENT-${k}`, name: `Silent ${k}` });
}, 300_000);

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** The window's batches: most devices, then the rest with some devices heard again (higher, lower, the same count). */
function batches(): [[string, number][], [string, number][]] {
  const first: [string, number][] = [];
  const second: [string, number][] = [];
  for (let i = 0; i < DEVICES; i++) {
    (i < 800 ? first : second).push([`DEV-${i}`, connectorsOf(i)]);
    // A second device naming the same (undashed) station by its exact id: a higher count, the same, or a lower one.
    if (i % 11 === 3 && i % 2 === 0) second.push([`DEV${i}`, connectorsOf(i) + ((i % 3) - 1)]);
    if (i < 800 && i % 9 === 0) second.push([`DEV-${i}`, connectorsOf(i) + 1]);
    if (i < 800 && i % 9 === 1) second.push([`DEV-${i}`, Math.max(1, connectorsOf(i) - 1)]);
  }
  return [first, second];
}

async function newRun(): Promise<string> {
  const runKey = `window-run-${nextRun++}`;
  await pool.query(`INSERT INTO ${db.tables.runs} (run_key, workflow_id, started) VALUES (?, 'window-e2e', UTC_TIMESTAMP())`, [runKey]);
  return runKey;
}

async function flush(runKey: string, counts: [string, number][]): Promise<void> {
  const byDevice = new Map<string, number>();
  for (const [device, n] of counts) byDevice.set(device, Math.max(byDevice.get(device) ?? 0, n));
  await new ObservationStore(sync, { markForWindowPlan: true }).flush(runKey, { counts: byDevice, messages: counts.length, rejected: [], rejectedCount: 0 });
}

/** Steps as the first collector runs them: small ones, until nothing is marked. */
async function planDuringWindow(runKey: string): Promise<void> {
  const queries = new AttemptQueries(pool);
  while (((await planMarkedDevices(sync, queries, runKey, { limit: 300 })) ?? 0) > 0);
}

function recordingLog(): { log: Log; lines: string[]; drains: () => number } {
  const lines: string[] = [];
  let drains = 0;
  const line = (level: string) => (text: string) => lines.push(`${level} ${text}`);
  const drained = (): Promise<void> => {
    drains++;
    return Promise.resolve();
  };
  return { lines, drains: () => drains, log: { info: line('info'), debug: line('debug'), warn: line('warn'), error: line('error'), drained } };
}

async function planRows(runKey: string): Promise<Record<string, unknown[]>> {
  const t = db.tables;
  const rows: Record<string, unknown[]> = {};
  for (const [name, table, order] of [
    ['plan', t.planStations, 'station_pk'],
    ['notFound', t.notFound, 'device_id'],
    ['silent', t.silentStations, 'station_pk'],
    ['ambiguities', t.ambiguities, 'device_id'],
  ] as const) {
    const [list] = await pool.query(`SELECT * FROM ${table} WHERE run_key = ? ORDER BY ${order}`, [runKey]);
    rows[name] = (list as Record<string, unknown>[]).map(({ run_key: _, ...rest }) => rest);
  }
  return rows;
}

/** Two runs heard the same window: one planned during it, one by the full planner at close. Everything must match. */
async function expectSamePlan(windowRun: string, fullRun: string, options: { testDeviceId?: string; debug?: boolean } = {}): Promise<ClosePlan> {
  const windowLog = recordingLog();
  const fullLog = recordingLog();
  const closed = await planAtWindowClose(sync, { runKey: windowRun, ...options, listener: originalLogLines(windowLog.log, options.debug ?? false) });
  const full = await buildPlan(sync, { runKey: fullRun, testDeviceId: options.testDeviceId, listener: originalLogLines(fullLog.log, options.debug ?? false) });
  expect(closed.summary).toEqual(full);
  expect(await planRows(windowRun)).toEqual(await planRows(fullRun));
  expect(windowLog.lines).toEqual(fullLog.lines);
  // The replay at close waits for the log between its batches (standard output's backlog stays bounded).
  if (closed.built === 'during-window') expect(windowLog.drains()).toBeGreaterThan(0);
  return closed;
}

/** A window run and a full run fed the same batches; `between` runs after the first batch has been planned. */
async function twoRuns(between?: () => Promise<void>, late = 60): Promise<[string, string]> {
  const [windowRun, fullRun] = [await newRun(), await newRun()];
  const [first, second] = batches();
  await nextSecond();
  expect(await takeSnapshot(sync, new AttemptQueries(pool), windowRun, () => false)).toBe(true);
  await flush(windowRun, first);
  await flush(fullRun, first);
  await planDuringWindow(windowRun);
  await between?.();
  await flush(windowRun, second.slice(0, -late));
  await planDuringWindow(windowRun);
  // What arrived late: planned at close.
  await flush(windowRun, second.slice(-late));
  await flush(fullRun, second);
  return [windowRun, fullRun];
}

test('the plan built during the window is the full plan: rows, summary, fingerprint, log lines', async () => {
  const [windowRun, fullRun] = await twoRuns();
  const closed = await expectSamePlan(windowRun, fullRun);
  expect(closed).toMatchObject({ built: 'during-window' });
  expect(closed.built === 'during-window' && closed.lateDevices).toBeGreaterThan(0);
  // The fleet exercises what it should: every list over its cap, ambiguities, two devices on one station.
  const s = closed.summary;
  expect(s).toMatchObject({ truncated: true, silentStations: expect.any(Number) as number });
  expect(s.notFound).toBeGreaterThan(200);
  expect(s.silentStations).toBeGreaterThan(230);
  expect(s.ambiguousDevices).toBeGreaterThan(0);
  expect(s.stationsToChange + (s.surplusPoints > 0 ? 1 : 0)).toBeGreaterThan(200);
  expect(s.pointsToCreate).toBeGreaterThan(0);
}, 120_000);

test('--test-device: the same stations skipped, the same fingerprint (dashed and undashed test ids)', async () => {
  for (const testDeviceId of ['DEV-21', undashed('DEV-14')]) {
    const [windowRun, fullRun] = await twoRuns();
    const closed = await expectSamePlan(windowRun, fullRun, { testDeviceId });
    expect(closed.built).toBe('during-window');
    expect(closed.summary.skippedStations).toBeGreaterThan(0);
    expect(closed.summary.pointsToCreate).toBeGreaterThan(0);
  }
}, 120_000);

test('LOG_LEVEL=debug, too many devices left at close, a device never planned, a count never seen: the full planner builds it', async () => {
  const [debugWindow, debugFull] = await twoRuns();
  expect(await expectSamePlan(debugWindow, debugFull, { debug: true })).toMatchObject({ built: 'full', reason: 'LOG_LEVEL=debug prints every device' });

  const [windowRun, fullRun] = await twoRuns();
  // Stored without its mark (a collector of an older version): the window knows nothing of it.
  for (const runKey of [windowRun, fullRun]) {
    await pool.query(`INSERT INTO ${db.tables.observations} (run_key, device_id, device_plain, connectors) VALUES (?, 'DEV-7', 'DEV7', 4) ON DUPLICATE KEY UPDATE connectors = 4`, [runKey]);
  }
  await pool.query(`DELETE FROM ${db.tables.windowDevices} WHERE run_key = ? AND device_id = 'DEV-7'`, [windowRun]);
  expect(await expectSamePlan(windowRun, fullRun)).toMatchObject({ built: 'full', reason: '1 devices were not planned during the window' });

  // More than a tenth of the devices left at close: planning them a step at a time would be slower than the full plan.
  const [lateWindow, lateFull] = await twoRuns(undefined, 400);
  expect(await expectSamePlan(lateWindow, lateFull)).toMatchObject({ built: 'full', reason: expect.stringMatching(/^\d+ devices were left to plan at window close/) as string });

  // A higher count stored without its mark (a worker killed between a flush's two writes).
  const [risenWindow, risenFull] = await twoRuns();
  for (const runKey of [risenWindow, risenFull]) await pool.query(`UPDATE ${db.tables.observations} SET connectors = connectors + 1 WHERE run_key = ? AND device_id = 'DEV-8'`, [runKey]);
  expect(await expectSamePlan(risenWindow, risenFull)).toMatchObject({ built: 'full', reason: 'devices were heard with higher counts than they were planned with' });
}, 120_000);

test('stations changed in ocpp-db during the window: the full planner builds the plan, as of the change', async () => {
  const changes = async (): Promise<void> => {
    // A missing point added, a live one deleted, a station for a device that had none, a station deleted.
    await db.point(stations.get(7)!, 2);
    await pool.query(`UPDATE charging_points SET deleted = UTC_TIMESTAMP() WHERE station_id = ? AND point_id = 1`, [stations.get(13)!.id]);
    await db.station({ station_id: 'DEV-10', name: 'Arrived during the window' });
    await pool.query(`UPDATE charging_stations SET deleted = UTC_TIMESTAMP() WHERE id = ?`, [stations.get(21)!.id]);
  };
  const [windowRun, fullRun] = await twoRuns(changes);
  expect(await expectSamePlan(windowRun, fullRun)).toMatchObject({ built: 'full', reason: 'ocpp-db changed during the window' });

  // When the first collector sees the change (its check between steps), it gives up and deletes what it wrote, so
  // that the full planner at close has little to delete; the plan is the full planner's all the same.
  const [givenUp, fullAgain] = await twoRuns();
  const queries = new AttemptQueries(pool);
  await pool.query(`UPDATE ${db.tables.windowState} SET abandoned = 1 WHERE run_key = ?`, [givenUp]);
  await discardWindowRows(sync, queries, givenUp, () => false);
  const rows = await planRows(givenUp);
  expect(Object.values(rows).map((list) => list.length)).toEqual([0, 0, 0, 0]);
  expect(await expectSamePlan(givenUp, fullAgain)).toMatchObject({ built: 'full', reason: 'the planning during the window did not complete' });
}, 120_000);
