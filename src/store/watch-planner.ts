/**
 * The watch's incremental plan: only the devices a cycle claimed (new, risen, heard again without a station), plus
 * those of a plan still waiting for approval, matched to their stations through station_id's unique index, and only
 * those stations' live points, read through charging_points' station_id index. Nothing here reads the whole fleet:
 * the cost of a cycle follows the devices that changed, not the size of ocpp-db.
 *
 * The rules are the sync's (domain/plan-merge: the same matching, missing and surplus points, ambiguities), and
 * the plan is recorded like a sync's (its rows under the cycle's run key, a cp_sync_runs record, the same
 * fingerprint), so that the sync's apply (db/applier.ts) writes it unchanged, with its lock and locked re-check.
 */
import type { RowDataPacket } from 'mysql2';
import { AttemptQueries } from '../db/attempt-queries';
import { asPointStationId, asText, readOcppLayout, type OcppLayout } from '../db/ocpp-layout';
import type { SyncDatabase, Tables } from '../db/tables';
import { WatchDeviceStore } from './watch-devices';
import { PlanFingerprint } from '../domain/plan';
import { mergePlan, type LiveStation, type MatchedDevice, type PlanEvent } from '../domain/plan-merge';
import { PLAN_SAMPLE_LIMIT, type PlanSummary } from '../shared';

const ROWS_PER_INSERT = 1000;

export interface CyclePlanOptions {
  workflowId: string;
  watchKey: string;
  runKey: string;
  fromCycle: number;
  queries?: AttemptQueries;
}

/** The claimed devices and the live station each names (exact id first, then without dashes), in station order. */
function claimedDevicesQuery(t: Tables, layout: OcppLayout): string {
  const both = 'e.id IS NOT NULL AND u.id IS NOT NULL AND u.id <> e.id';
  return `
  SELECT w.device_id AS deviceId, w.connectors, COALESCE(e.id, u.id) AS stationPk,
         IF(${both}, u.id, NULL) AS otherStationPk, IF(${both}, u.station_id, NULL) AS otherStationId
    FROM ${t.watchDevices} w
    LEFT JOIN ${t.stations} e ON e.station_id = ${asText('w.device_id', layout.stationId)} AND e.deleted IS NULL
    LEFT JOIN ${t.stations} u ON w.device_plain <> w.device_id AND u.station_id = ${asText('w.device_plain', layout.stationId)} AND u.deleted IS NULL
   WHERE w.watch_key = ? AND w.planned_cycle >= ?
   ORDER BY stationPk IS NULL, stationPk, w.device_id`;
}

/** Keys from BIGINT UNSIGNED columns, as integer literals (never compared through a double); checked anyway. */
export function keyList(keys: readonly string[]): string {
  for (const key of keys) if (!/^\d{1,20}$/.test(key)) throw new Error(`not a station key: ${JSON.stringify(key)}`);
  return keys.join(', ');
}

/** The named stations with their live points, one row per point, by primary key and the points' station index. */
export async function liveStationsOf(db: SyncDatabase, tag: (sql: string) => string, layout: OcppLayout, stationPks: readonly string[]): Promise<LiveStation[]> {
  if (stationPks.length === 0) return [];
  const t = db.tables;
  const [rows] = await db.pool.query<RowDataPacket[]>(
    tag(`SELECT s.id AS stationPk, s.station_id AS stationId, s.name AS stationName, p.point_id AS pointId
       FROM ${t.stations} s
       LEFT JOIN ${t.points} p ON p.station_id = ${asPointStationId('s.id', layout)} AND p.deleted IS NULL
      WHERE s.id IN (${keyList(stationPks)}) AND s.deleted IS NULL
      ORDER BY s.id`),
  );
  const stations: LiveStation[] = [];
  for (const row of rows) {
    const pk = String(row.stationPk);
    let last = stations.at(-1);
    if (last?.stationPk !== pk) {
      last = { stationPk: pk, stationId: String(row.stationId), stationName: String(row.stationName), livePoints: null };
      stations.push(last);
    }
    if (row.pointId !== null) last.livePoints = last.livePoints === null ? String(row.pointId) : `${last.livePoints},${String(row.pointId)}`;
  }
  return stations;
}

/** The rows as the merge's one batch (it reads streams of batches). */
export function once<T>(items: T[]): AsyncIterable<T[]> {
  return {
    [Symbol.asyncIterator]: () => {
      let done = items.length === 0;
      return {
        next: (): Promise<IteratorResult<T[]>> => {
          const result: IteratorResult<T[]> = done ? { done: true, value: undefined } : { done: false, value: items };
          done = true;
          return Promise.resolve(result);
        },
      };
    },
  };
}

/** The summary of a cycle's plan, before its events are counted. */
function emptyCycleSummary(stationsRead: number): PlanSummary {
  return {
    fingerprint: '',
    processedDevices: 0,
    messages: 0,
    stationsInDatabase: stationsRead,
    stationsToChange: 0,
    pointsToCreate: 0,
    surplusPoints: 0,
    skippedStations: 0,
    notFound: 0,
    rejected: 0,
    ambiguousDevices: 0,
    stations: [],
    notFoundDeviceIds: [],
    ambiguities: [],
    rejectedSamples: [],
    truncated: false,
  };
}

/** Plans the devices claimed since `fromCycle` and records the plan under `runKey`; returns its capped summary. */
export async function planCycle(db: SyncDatabase, options: CyclePlanOptions): Promise<PlanSummary> {
  const { tables: t, pool } = db;
  const queries = options.queries ?? new AttemptQueries(pool);
  const tag = (sql: string): string => queries.tag(sql);
  const layout = await readOcppLayout(pool, t.ocppDatabase);
  const [devices] = await pool.query<RowDataPacket[]>(tag(claimedDevicesQuery(t, layout)), [options.watchKey, options.fromCycle]);
  const matched = devices.map((d) => ({ ...d, stationPk: d.stationPk === null ? null : String(d.stationPk), otherStationPk: d.otherStationPk === null ? null : String(d.otherStationPk) })) as MatchedDevice[];
  const stationPks = [...new Set(matched.flatMap((d) => (d.stationPk === null ? [] : [d.stationPk])))];
  const live = await liveStationsOf(db, tag, layout, stationPks);

  const summary = emptyCycleSummary(live.length);
  const fingerprint = new PlanFingerprint();
  const rows = { plan: [] as unknown[][], notFound: [] as unknown[][], ambiguities: [] as unknown[][] };
  const withStation: string[] = [];
  const keep = <T>(list: T[] | undefined, item: T): void => {
    if (list && list.length < PLAN_SAMPLE_LIMIT) list.push(item);
    else summary.truncated = true;
  };
  const event = (e: PlanEvent): void => {
    if (e.kind === 'device') summary.processedDevices++;
    else if (e.kind === 'notFound') {
      summary.notFound++;
      keep(summary.notFoundDeviceIds, e.deviceId);
      rows.notFound.push([options.runKey, e.deviceId, e.connectors]);
    } else if (e.kind === 'ambiguous') {
      summary.ambiguousDevices = (summary.ambiguousDevices ?? 0) + 1;
      keep(summary.ambiguities, e.ambiguity);
      rows.ambiguities.push([options.runKey, e.ambiguity.deviceId, e.stationPk, e.ambiguity.stationId, e.otherStationPk, e.ambiguity.otherStationId]);
    } else if (e.kind === 'station') {
      const s = e.station;
      withStation.push(s.deviceId);
      fingerprint.add(s);
      if (s.missing.length === 0 && s.surplus.length === 0) return;
      if (s.missing.length > 0) summary.stationsToChange++;
      summary.pointsToCreate += s.missing.length;
      summary.surplusPoints += s.surplus.length;
      keep(summary.stations, s);
      rows.plan.push([options.runKey, s.stationPk, s.deviceId, s.stationId, s.stationName, s.expected, s.livePoints, s.missing.join(','), s.surplus.join(','), 0]);
    }
    // No station is silent here: only the stations the devices named were read.
  };
  await mergePlan(once(matched), once(live), { event, batchDone: () => Promise.resolve() });
  summary.fingerprint = fingerprint.digest();

  await recordCyclePlan(db, tag, options, rows);
  const store = new WatchDeviceStore(db);
  await store.markStations(
    options.watchKey,
    rows.notFound.map((r) => String(r[1])),
    withStation,
  );
  return summary;
}

/** The cycle's plan rows and run record; a retried cycle replaces what an earlier attempt wrote. */
async function recordCyclePlan(db: SyncDatabase, tag: (sql: string) => string, options: CyclePlanOptions, rows: Record<'plan' | 'notFound' | 'ambiguities', unknown[][]>): Promise<void> {
  const t = db.tables;
  const connection = await db.pool.getConnection();
  try {
    await connection.beginTransaction();
    await connection.query(tag(`INSERT IGNORE INTO ${t.runs} (run_key, workflow_id, started) VALUES (?, ?, ?)`), [options.runKey, options.workflowId, new Date()]);
    for (const table of [t.planStations, t.notFound, t.ambiguities]) await connection.query(tag(`DELETE FROM ${table} WHERE run_key = ?`), [options.runKey]);
    const inserts: [string, unknown[][]][] = [
      [`INSERT INTO ${t.planStations} (run_key, station_pk, device_id, station_id, station_name, expected, live_points, missing, surplus, skipped) VALUES ?`, rows.plan],
      [`INSERT INTO ${t.notFound} (run_key, device_id, connectors) VALUES ?`, rows.notFound],
      [`INSERT INTO ${t.ambiguities} (run_key, device_id, station_pk, station_id, other_station_pk, other_station_id) VALUES ?`, rows.ambiguities],
    ];
    for (const [insert, list] of inserts) {
      for (let start = 0; start < list.length; start += ROWS_PER_INSERT) await connection.query(tag(insert), [list.slice(start, start + ROWS_PER_INSERT)]);
    }
    await connection.commit();
  } catch (err) {
    await connection.rollback().catch(() => undefined);
    throw err;
  } finally {
    connection.release();
  }
}
