/**
 * The windowed sync's plan, built while its window is open, so that the work left at window close follows what
 * arrived late rather than the size of the fleet. The rows are the full planner's (store/planner.ts), under the
 * run's key, kept up to date step by step:
 *
 * - the snapshot, once at the start: every live station is written as silent, and their number kept (what the full
 *   planner counts at close); the time of the snapshot is what ocpp-db must not have changed since (see `ocppChangedSince`);
 * - each step takes the devices the collectors marked (new, or heard again: cp_sync_window_dirty), matches them to
 *   their stations exactly as the full planner does, and re-plans every station they name from all of the run's devices
 *   that name it, by the same rules (domain/plan-merge): a station's plan row, its devices without a station, its
 *   ambiguities, and its silent row gone.
 *
 * Every write holds the run's state row (FOR UPDATE) and checks that the plan at close has not taken over: once it
 * has (`closed`), nothing here writes again, whatever a lost collector's retry does.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { AttemptQueries, inAttemptTransaction } from '../db/attempt-queries';
import { streamBatches, type Connection } from '../db/pool';
import { readOcppLayout, type OcppLayout } from '../db/ocpp-layout';
import type { SyncDatabase, Tables } from '../db/tables';
import { compareStationKeys, mergePlan, type MatchedDevice, type PlanEvent } from '../domain/plan-merge';
import { isKeptStation } from '../domain/plan-summary';
import { keyList, liveStationsOf, once } from './watch-planner';
import { stationMatch } from './planner';

const SNAPSHOT_ROWS_PER_INSERT = 5000;
/** Devices a step plans at most: its IN lists and its transaction stay small, so a close waits little for one. */
export const DEVICES_PER_STEP = 5000;

export interface WindowState {
  snapshotAt: Date | null;
  stations: number | null;
  closed: boolean;
  abandoned: boolean;
}

/** Runs `work` in a transaction that holds the run's state row; undefined when the plan at close has taken over. */
export async function withRunState<T>(
  db: SyncDatabase,
  queries: AttemptQueries,
  runKey: string,
  work: (connection: Connection, state: WindowState) => Promise<T>,
  { evenIfClosed = false } = {},
): Promise<T | undefined> {
  const t = db.tables;
  // Before the transaction, committed at once: inside it, two callers' shared locks on the existing row would deadlock
  // on their SELECT … FOR UPDATE.
  await queries.query(`INSERT IGNORE INTO ${t.windowState} (run_key) VALUES (?)`, [runKey]);
  return inAttemptTransaction(queries, async (connection) => {
    const [[row]] = await connection.query<RowDataPacket[]>(
      queries.tag(`SELECT snapshot_at, stations, closed, abandoned FROM ${t.windowState} WHERE run_key = ? FOR UPDATE`),
      [runKey],
    );
    const state: WindowState = {
      snapshotAt: (row?.snapshot_at as Date | null) ?? null,
      stations: row?.stations == null ? null : Number(row.stations),
      closed: Number(row?.closed) === 1,
      abandoned: Number(row?.abandoned) === 1,
    };
    return state.closed && !evenIfClosed ? undefined : work(connection, state);
  });
}

/**
 * Whether either ocpp-db table may have changed since `since` (the snapshot's time, the server's clock): the server's
 * last-modified time of each table, in whole seconds, so a change in the same second counts. A table without one
 * (never modified since the server started, or forgotten by its table cache) counts as changed: nothing here can
 * tell. MySQL 8 caches these figures for a day unless told not to.
 */
export async function ocppChangedSince(connection: Connection, tag: (sql: string) => string, t: Tables, since: Date): Promise<boolean> {
  await connection.query('SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
  const [rows] = await connection.query<RowDataPacket[]>(
    tag(`SELECT TABLE_NAME AS name, UPDATE_TIME IS NULL OR UPDATE_TIME >= ? AS changed
           FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('charging_stations', 'charging_points')`),
    [since, t.ocppDatabase],
  );
  return rows.length !== 2 || rows.some((r) => Number(r.changed) === 1);
}

/**
 * The snapshot: every live station as silent, and how many. False when it cannot be taken (the plan at close has
 * taken over, or an earlier attempt's snapshot was cut short: the plan is then built in full at close).
 */
export async function takeSnapshot(
  db: SyncDatabase,
  queries: AttemptQueries,
  runKey: string,
  stopped: () => boolean,
  rest: (workedMs: number) => Promise<void> = () => Promise.resolve(),
): Promise<boolean> {
  const t = db.tables;
  const start = await withRunState(db, queries, runKey, async (connection, state) => {
    if (state.abandoned) return false;
    if (state.snapshotAt !== null) {
      if (state.stations === null) await connection.query(queries.tag(`UPDATE ${t.windowState} SET abandoned = 1 WHERE run_key = ?`), [runKey]);
      return state.stations === null ? false : 'taken';
    }
    // The time first: whatever changes from now on is seen by the check at close.
    await connection.query(queries.tag(`UPDATE ${t.windowState} SET snapshot_at = NOW() WHERE run_key = ?`), [runKey]);
    return true;
  });
  if (start !== true) return start === 'taken';
  const reader = await queries.connection();
  let stations = 0;
  let complete = false;
  try {
    const batches = streamBatches<{ id: string; station_id: string; name: string }>(
      reader,
      queries.tag(`SELECT id, station_id, name FROM ${t.stations} WHERE deleted IS NULL`),
      [],
      SNAPSHOT_ROWS_PER_INSERT,
    );
    for await (const batch of batches) {
      if (stopped()) return false;
      const started = Date.now();
      const written = await withRunState(db, queries, runKey, async (connection) => {
        const rows = batch.map((s) => [runKey, String(s.id), String(s.station_id), String(s.name)]);
        await connection.query(queries.tag(`INSERT INTO ${t.silentStations} (run_key, station_pk, station_id, station_name) VALUES ?`), [rows]);
        return true;
      });
      if (!written) return false;
      stations += batch.length;
      await rest(Date.now() - started);
    }
    complete = true;
  } finally {
    queries.done(reader, !complete);
  }
  const recorded = await withRunState(db, queries, runKey, async (connection) => {
    await connection.query(queries.tag(`UPDATE ${t.windowState} SET stations = ? WHERE run_key = ?`), [stations, runKey]);
    return true;
  });
  return recorded === true;
}

/**
 * Once the planning during the window has given up: its rows go, a chunk at a time, so that the full planner at close
 * does not spend its time deleting them (the snapshot alone is a row per live station). Stops when the plan at close
 * has taken over (it deletes what is left).
 */
export async function discardWindowRows(db: SyncDatabase, queries: AttemptQueries, runKey: string, stopped: () => boolean): Promise<void> {
  const t = db.tables;
  for (const table of [t.silentStations, t.planStations, t.notFound, t.ambiguities]) {
    for (let deleted = SNAPSHOT_ROWS_PER_INSERT; deleted === SNAPSHOT_ROWS_PER_INSERT && !stopped(); ) {
      const result = await withRunState(db, queries, runKey, async (connection) => {
        const [done] = await connection.query<ResultSetHeader>(queries.tag(`DELETE FROM ${table} WHERE run_key = ? LIMIT ${SNAPSHOT_ROWS_PER_INSERT}`), [runKey]);
        return done.affectedRows;
      });
      if (result === undefined) return;
      deleted = result;
    }
  }
}

/** The marked devices (at most `limit`), with their counts now, matched to stations as the full planner matches them. */
function markedDevicesQuery(t: Tables, layout: OcppLayout, limit: number): string {
  const match = stationMatch(t, layout);
  return `
  SELECT ${match.columns}
    FROM ${t.windowDirty} d
    JOIN ${t.observations} o ON o.run_key = d.run_key AND o.device_id = d.device_id
    ${match.joins}
   WHERE d.run_key = ?
   LIMIT ${limit}`;
}

const key = (value: string | number | null | undefined): string | null => (value === null || value === undefined ? null : String(value));

function matched(row: RowDataPacket): MatchedDevice {
  return {
    deviceId: String(row.deviceId),
    connectors: Number(row.connectors),
    stationPk: key(row.stationPk as string | null),
    otherStationPk: key(row.otherStationPk as string | null),
    otherStationId: key(row.otherStationId as string | null),
  };
}

/** The full planner's device order: by station key, devices without a station last, then by device id (ascii_bin). */
export function byStationThenDevice(a: MatchedDevice, b: MatchedDevice): number {
  if (a.stationPk !== b.stationPk) {
    if (a.stationPk === null) return 1;
    if (b.stationPk === null) return -1;
    return compareStationKeys(a.stationPk, b.stationPk);
  }
  return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;
}

/**
 * One step: plans up to `limit` marked devices and the stations they name. Returns how many devices it planned
 * (0: none was marked), or undefined when the plan at close has taken over. `evenIfClosed`: the plan at close's own
 * steps.
 */
export async function planMarkedDevices(db: SyncDatabase, queries: AttemptQueries, runKey: string, { limit = DEVICES_PER_STEP, evenIfClosed = false } = {}): Promise<number | undefined> {
  const t = db.tables;
  const tag = (sql: string): string => queries.tag(sql);
  const layout = await readOcppLayout(db.pool, t.ocppDatabase);
  return withRunState(
    db,
    queries,
    runKey,
    async (connection) => {
      const query = async (sql: string, params: unknown[] = []): Promise<RowDataPacket[]> => (await connection.query<RowDataPacket[]>(tag(sql), params))[0];
      const marked = (await query(markedDevicesQuery(t, layout, limit), [runKey])).map(matched);
      if (marked.length === 0) return 0;
      await query(
        `INSERT INTO ${t.windowDevices} (run_key, device_id, connectors, station_pk, other_station_pk, other_station_id) VALUES ?
         ON DUPLICATE KEY UPDATE connectors = VALUES(connectors), station_pk = VALUES(station_pk),
                                 other_station_pk = VALUES(other_station_pk), other_station_id = VALUES(other_station_id)`,
        [marked.map((d) => [runKey, d.deviceId, d.connectors, d.stationPk, d.otherStationPk, d.otherStationId])],
      );
      const stationPks = [...new Set(marked.flatMap((d) => (d.stationPk === null ? [] : [d.stationPk])))];
      // Every device of the run that names one of these stations: a station's plan follows the highest of their counts.
      const devices =
        stationPks.length === 0
          ? []
          : (
              await query(
                `SELECT device_id AS deviceId, connectors, station_pk AS stationPk, other_station_pk AS otherStationPk, other_station_id AS otherStationId
                   FROM ${t.windowDevices} WHERE run_key = ? AND station_pk IN (${keyList(stationPks)})`,
                [runKey],
              )
            ).map(matched);
      devices.push(...marked.filter((d) => d.stationPk === null));
      devices.sort(byStationThenDevice);
      const live = await liveStationsOf(db, tag, layout, stationPks);
      await writeStep(connection, tag, t, runKey, devices, live);
      // Unmarked only where no higher count arrived since it was read (that one is planned by the next step).
      const byCount = new Map<number, string[]>();
      for (const d of marked) byCount.set(d.connectors, [...(byCount.get(d.connectors) ?? []), d.deviceId]);
      for (const [connectors, ids] of byCount) {
        await query(`DELETE FROM ${t.windowDirty} WHERE run_key = ? AND connectors <= ? AND device_id IN (?)`, [runKey, connectors, ids]);
      }
      return marked.length;
    },
    { evenIfClosed },
  );
}

/** The merge of these devices with their live stations, written as the full planner writes it (testDeviceId aside). */
async function writeStep(
  connection: Connection,
  tag: (sql: string) => string,
  t: Tables,
  runKey: string,
  devices: MatchedDevice[],
  live: Awaited<ReturnType<typeof liveStationsOf>>,
): Promise<void> {
  const rows = { plan: [] as unknown[][], inSync: [] as string[], planned: [] as string[], notFound: [] as unknown[][], ambiguities: [] as unknown[][] };
  const event = (e: PlanEvent): void => {
    if (e.kind === 'notFound') rows.notFound.push([runKey, e.deviceId, e.connectors]);
    else if (e.kind === 'ambiguous') {
      rows.ambiguities.push([runKey, e.ambiguity.deviceId, e.stationPk, e.ambiguity.stationId, e.otherStationPk, e.ambiguity.otherStationId]);
    } else if (e.kind === 'station') {
      const s = e.station;
      rows.planned.push(s.stationPk);
      if (!isKeptStation(s)) rows.inSync.push(s.stationPk);
      else rows.plan.push([runKey, s.stationPk, s.deviceId, s.stationId, s.stationName, s.expected, s.livePoints, s.missing.join(','), s.surplus.join(','), 0]);
    }
    // 'silent' cannot come: only the stations the devices name were read. 'device': counted at close.
  };
  await mergePlan(once(devices), once(live), { event, batchDone: () => Promise.resolve() });
  const run = async (sql: string, params: unknown[]): Promise<void> => {
    await connection.query(tag(sql), params);
  };
  if (rows.planned.length > 0) await run(`DELETE FROM ${t.silentStations} WHERE run_key = ? AND station_pk IN (${keyList(rows.planned)})`, [runKey]);
  if (rows.inSync.length > 0) await run(`DELETE FROM ${t.planStations} WHERE run_key = ? AND station_pk IN (${keyList(rows.inSync)})`, [runKey]);
  const upserts: [string, string, unknown[][]][] = [
    [
      `${t.planStations} (run_key, station_pk, device_id, station_id, station_name, expected, live_points, missing, surplus, skipped)`,
      'device_id = VALUES(device_id), station_id = VALUES(station_id), station_name = VALUES(station_name), expected = VALUES(expected), ' +
        'live_points = VALUES(live_points), missing = VALUES(missing), surplus = VALUES(surplus), skipped = VALUES(skipped)',
      rows.plan,
    ],
    [`${t.notFound} (run_key, device_id, connectors)`, 'connectors = VALUES(connectors)', rows.notFound],
    [
      `${t.ambiguities} (run_key, device_id, station_pk, station_id, other_station_pk, other_station_id)`,
      'station_pk = VALUES(station_pk), station_id = VALUES(station_id), other_station_pk = VALUES(other_station_pk), other_station_id = VALUES(other_station_id)',
      rows.ambiguities,
    ],
  ];
  for (const [into, update, list] of upserts) if (list.length > 0) await run(`INSERT INTO ${into} VALUES ? ON DUPLICATE KEY UPDATE ${update}`, [list]);
}
