/**
 * The diff, set-based and streamed: two sorted streams (the run's devices matched to stations, every live station with
 * its live points), both in station key order, merged in one pass by the pure rules of domain/plan-merge: no query
 * runs per device and no sort spills to disk. The plan is written back in batches while the streams are paused, so
 * memory stays flat whatever the fleet size; only a capped summary is returned.
 */
import type { RowDataPacket } from 'mysql2';
import { AttemptQueries } from '../db/attempt-queries';
import { SerialWrites, TableRows } from '../db/write-behind';
import { streamBatches, type Connection, type Pool } from '../db/pool';
import { asPointStationId, asText, readOcppLayout, type OcppLayout } from '../db/ocpp-layout';
import type { SyncDatabase, Tables } from '../db/tables';
import { PlanFingerprint } from '../domain/plan';
import { mergePlan, parsePointIds, type LiveStation, type MatchedDevice, type PlanEvent } from '../domain/plan-merge';
import { PlanSummaryBuilder, type RunCounters } from '../domain/plan-summary';
import { PLAN_SAMPLE_LIMIT, type AmbiguousDevice, type PlanStation, type PlanSummary, type RejectedMessage } from '../shared';

/** Rows of each stream handed to the merge at once (db/pool.ts streamBatches). */
const ROWS_PER_BATCH = 1000;
const ROWS_PER_INSERT = 1000;
/** Plan rows that may wait for their INSERT before the merge waits for them. */
const MAX_QUEUED_ROWS = 5000;

/** Called for every device, in station order, for the log lines operators grep for. */
export interface PlanListener {
  stationsInDatabase(count: number): void;
  device(deviceId: string, connectors: number): void;
  notFound(deviceId: string): void;
  station(station: PlanStation): void;
  ambiguous?(ambiguity: AmbiguousDevice): void;
  /** After each batch of rows (the plan built during the window, at close): holds the planner until its lines are out. */
  batchDone?(): Promise<void>;
}

export interface PlanOptions {
  runKey: string;
  /** The attempt's connections and tags, so that a cancelled or timed-out attempt's queries are killed. */
  queries?: AttemptQueries;
  testDeviceId?: string;
  onProgress?: (devices: number) => void;
  listener?: PlanListener;
}

/**
 * The run's devices matched to their stations, in station key order (devices without a station last). Exact
 * station_id match first, the undashed one otherwise (the original's two-way lookup); when both name live stations,
 * the exact one wins and the other is reported. Device ids are converted to station_id's own collation
 * (ocpp-layout.ts), so station_id's unique index serves both lookups. An id without dashes looks up a NULL key the
 * second time, which the server skips (a condition beside the lookup would not spare it: ~30 % of the query). Only
 * keys travel here (the station's name and points come from the live-stations stream), so the sort stays narrow.
 */
function devicesQuery(t: Tables, layout: OcppLayout): string {
  const match = stationMatch(t, layout);
  return `
  SELECT ${match.columns}
    FROM ${t.observations} o
    ${match.joins}
   WHERE o.run_key = ?
   ORDER BY stationPk IS NULL, stationPk, o.device_id`;
}

/**
 * How an observation `o` finds its station (the rule of devicesQuery's comment above), for every planner that matches
 * devices: the selected columns (deviceId, connectors, stationPk, otherStationPk, otherStationId) and the two joins.
 */
export function stationMatch(t: Tables, layout: OcppLayout): { columns: string; joins: string } {
  const ambiguous = 'exact.id IS NOT NULL AND plain.id IS NOT NULL AND plain.id <> exact.id';
  return {
    columns: `o.device_id AS deviceId, o.connectors, COALESCE(exact.id, plain.id) AS stationPk,
         CASE WHEN ${ambiguous} THEN plain.id END AS otherStationPk,
         CASE WHEN ${ambiguous} THEN plain.station_id END AS otherStationId`,
    joins: `LEFT JOIN ${t.stations} exact ON exact.station_id = ${asText('o.device_id', layout.stationId)} AND exact.deleted IS NULL
    LEFT JOIN ${t.stations} plain ON plain.station_id = ${asText('IF(o.device_plain <> o.device_id, o.device_plain, NULL)', layout.stationId)}
                                 AND plain.deleted IS NULL`,
  };
}

/**
 * Every live station with its live points, in key order: a primary-key scan of the stations (no sort) joined to
 * charging_points through its station_id index, compared in that column's own type.
 */
function liveStationsQuery(t: Tables, layout: OcppLayout): string {
  return `
  SELECT s.id AS stationPk, s.station_id AS stationId, s.name AS stationName, GROUP_CONCAT(p.point_id) AS livePoints
    FROM ${t.stations} s
    LEFT JOIN ${t.points} p ON p.station_id = ${asPointStationId('s.id', layout)} AND p.deleted IS NULL
   WHERE s.deleted IS NULL
   GROUP BY s.id
   ORDER BY s.id`;
}

/**
 * The devices' sort holds only keys (about 100 bytes a device): this lets a million devices sort in memory instead
 * of spilling to disk. The server allocates what the rows need, up to this.
 */
const DIFF_SORT_BUFFER_BYTES = 256 * 1024 * 1024;

/** The window closed before the collector ever subscribed: planning on no data would wrongly say "nothing to do". */
export class NeverCollectedError extends Error {
  override readonly name = 'NeverCollectedError';
  constructor(runKey: string) {
    super(`run ${runKey} never subscribed to the MQTT broker during its collection window (see the worker log for the connection errors); nothing was planned`);
  }
}

/**
 * One plan at a time per pool. A plan holds three connections (the two streams and its writes); two plans at once
 * could hold every connection of the pool between them and wait on each other for a third. A plan that waits here is
 * still heartbeated by its activity, and its wait is no stall (`queries.waitingFor`): the plan before it is watched by
 * its own activity, and gives up its turn when its attempt is stopped, even if its work hangs for ever.
 */
const planTurns = new WeakMap<Pool, Promise<unknown>>();

export function inPlanTurn<T>(pool: Pool, work: () => Promise<T>, queries?: AttemptQueries): Promise<T> {
  const previous = (planTurns.get(pool) ?? Promise.resolve()).catch(() => undefined);
  const turn = (queries ? queries.waitingFor(previous) : previous).then(work);
  planTurns.set(pool, queries ? Promise.race([turn, queries.stopped]) : turn);
  return turn;
}

/** The full plan: every device of the run against every live station (in its turn, see `inPlanTurn`). */
export async function buildPlan(db: SyncDatabase, options: PlanOptions): Promise<PlanSummary> {
  return inPlanTurn(db.pool, () => buildPlanNow(db, options), options.queries);
}

/** The full plan, without waiting for a turn: for a caller that already holds one. */
export async function buildPlanNow({ pool, tables: t }: SyncDatabase, options: PlanOptions): Promise<PlanSummary> {
  const { runKey, testDeviceId, listener } = options;
  const queries = options.queries ?? new AttemptQueries(pool);
  const layout = await readOcppLayout(pool, t.ocppDatabase);
  const connections: Connection[] = [];
  try {
    for (let i = 0; i < 3; i++) connections.push(await queries.connection());
    const [devicesConnection, stationsConnection, writeConnection] = connections as [Connection, Connection, Connection];
    await Promise.all([
      devicesConnection.query('SET SESSION sort_buffer_size = ?', [DIFF_SORT_BUFFER_BYTES]),
      // GROUP_CONCAT stops at 1024 bytes by default on MySQL: a station's live point ids must arrive whole.
      stationsConnection.query('SET SESSION group_concat_max_len = 1048576'),
    ]);
    // Both streams start now: the devices' sort runs in the database while the small reads below go on.
    // Keys arrive as strings (bigNumberStrings): the rows are the merge's input as they are.
    const devices = streamBatches<MatchedDevice>(devicesConnection, queries.tag(devicesQuery(t, layout)), [runKey], ROWS_PER_BATCH);
    const stations = streamBatches<LiveStation>(stationsConnection, queries.tag(liveStationsQuery(t, layout)), [], ROWS_PER_BATCH);

    const statement = async (sql: string, params: unknown[] = []): Promise<RowDataPacket[]> => (await writeConnection.query<RowDataPacket[]>(queries.tag(sql), params))[0];
    for (const table of [t.planStations, t.notFound, t.silentStations, t.ambiguities]) await statement(`DELETE FROM ${table} WHERE run_key = ?`, [runKey]);
    const [counters] = await statement(`SELECT messages, rejected, broker_dropped_start, broker_dropped_end FROM ${t.runs} WHERE run_key = ?`, [runKey]);
    if (!counters) throw new NeverCollectedError(runKey);
    const [stationCount] = await statement(`SELECT COUNT(*) AS n FROM ${t.stations} WHERE deleted IS NULL`);
    const rejectedSamples = await statement(`SELECT topic, payload, reason FROM ${t.rejections} WHERE run_key = ? ORDER BY seq LIMIT ?`, [runKey, PLAN_SAMPLE_LIMIT + 1]);

    const summary = new PlanSummaryBuilder({
      counters: runCounters(counters),
      stationsInDatabase: Number(stationCount?.n ?? 0),
      rejectedSamples: rejectedSamples.map((r) => ({ topic: String(r.topic), payload: String(r.payload), reason: String(r.reason) }) satisfies RejectedMessage),
      testDeviceId,
    });
    listener?.stationsInDatabase(summary.stationsInDatabase);
    const writes = new SerialWrites(writeConnection, (sql) => queries.tag(sql), MAX_QUEUED_ROWS);
    const rowsOf = (insert: string): TableRows => new TableRows(writes, insert, ROWS_PER_INSERT);
    const planRows = rowsOf(
      `INSERT INTO ${t.planStations} (run_key, station_pk, device_id, station_id, station_name, expected, live_points, missing, surplus, skipped) VALUES ?`,
    );
    const notFoundRows = rowsOf(`INSERT INTO ${t.notFound} (run_key, device_id, connectors) VALUES ?`);
    const ambiguityRows = rowsOf(`INSERT INTO ${t.ambiguities} (run_key, device_id, station_pk, station_id, other_station_pk, other_station_id) VALUES ?`);
    const silentRows = rowsOf(`INSERT INTO ${t.silentStations} (run_key, station_pk, station_id, station_name) VALUES ?`);

    const planStation = (station: PlanStation): void => {
      listener?.station(station);
      if (!summary.station(station)) return;
      planRows.add([
        runKey,
        station.stationPk,
        station.deviceId,
        station.stationId,
        station.stationName,
        station.expected,
        station.livePoints,
        station.missing.join(','),
        station.surplus.join(','),
        station.skipped ? 1 : 0,
      ]);
    };
    const event = (event: PlanEvent): void => {
      switch (event.kind) {
        case 'device': {
          const heard = summary.device();
          if (heard % 10_000 === 0) options.onProgress?.(heard);
          listener?.device(event.deviceId, event.connectors);
          return;
        }
        case 'notFound':
          listener?.notFound(event.deviceId);
          summary.notFound(event.deviceId);
          notFoundRows.add([runKey, event.deviceId, event.connectors]);
          return;
        case 'ambiguous': {
          const { ambiguity } = event;
          listener?.ambiguous?.(ambiguity);
          summary.ambiguous(ambiguity);
          ambiguityRows.add([runKey, ambiguity.deviceId, event.stationPk, ambiguity.stationId, event.otherStationPk, ambiguity.otherStationId]);
          return;
        }
        case 'silent':
          summary.silent(event.station);
          silentRows.add([runKey, event.station.stationPk, event.station.stationId, event.station.stationName]);
          return;
        case 'station':
          planStation(event.station);
          return;
      }
    };
    await mergePlan(devices, stations, { event, batchDone: () => writes.keepUp() }, testDeviceId);
    for (const table of [planRows, notFoundRows, ambiguityRows, silentRows]) table.flush();
    await writes.finish();
    return summary.finish();
  } finally {
    // A stream may still be open (an error mid-diff), and the sessions carry the diff's settings: a released
    // connection would hand both to the next user, so all three are destroyed instead.
    for (const connection of connections) queries.done(connection, true);
  }
}

/** The run's counters as mysql2 returns them (BIGINT UNSIGNED as strings, bigNumberStrings). */
export function runCounters(row: RowDataPacket): RunCounters {
  return {
    messages: Number(row.messages ?? 0),
    rejected: Number(row.rejected ?? 0),
    brokerDroppedStart: (row.broker_dropped_start as string | null) ?? null,
    brokerDroppedEnd: (row.broker_dropped_end as string | null) ?? null,
  };
}

/** Recomputes the fingerprint of a stored plan, so that apply writes exactly what was approved. */
export async function storedPlanFingerprint({ pool, tables }: SyncDatabase, runKey: string, queries = new AttemptQueries(pool)): Promise<string> {
  const fingerprint = new PlanFingerprint();
  const connection = await queries.connection();
  let complete = false;
  try {
    const batches = streamBatches<{ station_pk: string; missing: string; skipped: number }>(
      connection,
      queries.tag(`SELECT station_pk, missing, skipped FROM ${tables.planStations} WHERE run_key = ? ORDER BY station_pk`),
      [runKey],
    );
    for await (const rows of batches) {
      for (const row of rows) fingerprint.add({ stationPk: row.station_pk, missing: parsePointIds(row.missing), skipped: row.skipped === 1 });
    }
    complete = true;
  } finally {
    queries.done(connection, !complete);
  }
  return fingerprint.digest();
}
