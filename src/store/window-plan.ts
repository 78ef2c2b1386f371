/**
 * The windowed sync's plan at window close. When the plan was built during the window (store/window-planner.ts),
 * this plans the devices marked since its last step, checks that the result is the full planner's, and assembles
 * the summary and the log lines from the stored rows: the work follows the devices that arrived late and the plan's
 * own rows, not the fleet. Otherwise, or when any check fails, the full planner (store/planner.ts) builds it, and
 * the reason is returned for the log.
 *
 * The checks: the snapshot of the stations is complete; ocpp-db's two tables have not changed since it was taken
 * (a device's station, a station's points and the silent stations are then what they were when each was planned);
 * every device of the run was planned, with the count it has now. LOG_LEVEL=debug prints a line for every device: the full planner does.
 */
import type { RowDataPacket } from 'mysql2';
import { AttemptQueries } from '../db/attempt-queries';
import { streamBatches, type Connection } from '../db/pool';
import type { SyncDatabase } from '../db/tables';
import { undashed } from '../domain/plan';
import { compareStationKeys, parsePointIds } from '../domain/plan-merge';
import { PlanSummaryBuilder } from '../domain/plan-summary';
import { PLAN_SAMPLE_LIMIT, type PlanStation, type PlanSummary, type RejectedMessage, type SilentStation } from '../shared';
import { buildPlanNow, inPlanTurn, NeverCollectedError, runCounters, type PlanListener, type PlanOptions } from './planner';
import { ocppChangedSince, planMarkedDevices, withRunState } from './window-planner';

/** Devices a step at close plans at most (the close waits for them all anyway; fewer, larger steps cost less). */
const DEVICES_PER_CLOSING_STEP = 20_000;

/** The share of the run's devices left to plan at close above which the full plan is the faster one. */
const MAX_LATE_SHARE = 0.1;

export type ClosePlan = { summary: PlanSummary; built: 'during-window'; lateDevices: number } | { summary: PlanSummary; built: 'full'; reason: string };

/** The plan at window close, from the plan built during the window when it can be, in full otherwise. */
export async function planAtWindowClose(db: SyncDatabase, options: PlanOptions & { debug?: boolean }): Promise<ClosePlan> {
  return inPlanTurn(
    db.pool,
    async () => {
      const outcome = options.debug ? { fallback: 'LOG_LEVEL=debug prints every device' } : await planFromWindow(db, options);
      if ('summary' in outcome) return { summary: outcome.summary, built: 'during-window', lateDevices: outcome.lateDevices };
      // The full planner rewrites the run's rows: a retry of this activity must never take them for the window's.
      const queries = options.queries ?? new AttemptQueries(db.pool);
      await withRunState(
        db,
        queries,
        options.runKey,
        async (connection) => {
          await connection.query(queries.tag(`UPDATE ${db.tables.windowState} SET closed = 1, abandoned = 1 WHERE run_key = ?`), [options.runKey]);
        },
        { evenIfClosed: true },
      );
      return { summary: await buildPlanNow(db, options), built: 'full', reason: outcome.fallback };
    },
    options.queries,
  );
}

async function planFromWindow(db: SyncDatabase, options: PlanOptions): Promise<{ summary: PlanSummary; lateDevices: number } | { fallback: string }> {
  const { runKey } = options;
  const t = db.tables;
  const queries = options.queries ?? new AttemptQueries(db.pool);
  const tag = (sql: string): string => queries.tag(sql);
  const one = async (sql: string, params: unknown[] = []): Promise<RowDataPacket | undefined> => (await db.pool.query<RowDataPacket[]>(tag(sql), params))[0][0];

  const counters = await one(`SELECT messages, rejected, broker_dropped_start, broker_dropped_end FROM ${t.runs} WHERE run_key = ?`, [runKey]);
  if (!counters) throw new NeverCollectedError(runKey);
  // From here on, nothing planned during the window writes again (a lost collector's retry included).
  const state = await withRunState(
    db,
    queries,
    runKey,
    async (connection, current) => {
      await connection.query(tag(`UPDATE ${t.windowState} SET closed = 1 WHERE run_key = ?`), [runKey]);
      return current;
    },
    { evenIfClosed: true },
  );
  if (state?.snapshotAt == null) return { fallback: 'nothing was planned during the window' };
  if (state.abandoned || state.stations === null) return { fallback: 'the planning during the window did not complete' };

  const left = Number((await one(`SELECT COUNT(*) AS n FROM ${t.windowDirty} WHERE run_key = ?`, [runKey]))?.n ?? 0);
  const devicesAndTotal = (table: string): Promise<RowDataPacket | undefined> =>
    one(`SELECT COUNT(*) AS n, COALESCE(SUM(connectors), 0) AS total FROM ${table} WHERE run_key = ?`, [runKey]);
  // The collectors have stopped: the observations are final. With no device left to plan, so are the planned ones,
  // and the two scans of the fleet's rows (~0.6 s each at 1M) run side by side.
  const [heard, plannedBeforeClose] = await Promise.all([devicesAndTotal(t.observations), left === 0 ? devicesAndTotal(t.windowDevices) : undefined]);
  // Planning this many devices at close, a step at a time, would take longer than the full plan of the whole run.
  if (left > MAX_LATE_SHARE * Number(heard?.n ?? 0)) return { fallback: `${left} devices were left to plan at window close, too many to plan them one step at a time` };
  let lateDevices = 0;
  for (;;) {
    const planned = await planMarkedDevices(db, queries, runKey, { limit: DEVICES_PER_CLOSING_STEP, evenIfClosed: true });
    if (!planned) break;
    lateDevices += planned;
  }
  const connection = await queries.connection();
  try {
    if (await ocppChangedSince(connection, tag, t, state.snapshotAt)) return { fallback: 'ocpp-db changed during the window' };
  } finally {
    queries.done(connection, false);
  }
  // A device is planned with the count it has now when the sums agree too: a planned count is one read from the
  // observations, which only ever rise. (A mark lost between a flush's two writes, a worker killed there, shows here.)
  const planned = plannedBeforeClose ?? (await devicesAndTotal(t.windowDevices));
  const devices = Number(heard?.n ?? 0);
  if (devices !== Number(planned?.n ?? 0)) return { fallback: `${devices - Number(planned?.n ?? 0)} devices were not planned during the window` };
  if (String(heard?.total) !== String(planned?.total)) return { fallback: 'devices were heard with higher counts than they were planned with' };

  if (options.testDeviceId !== undefined) {
    // Test mode decides which stations are skipped by the device that a station's plan follows, as the full planner.
    await db.pool.query(tag(`UPDATE ${t.planStations} SET skipped = IF(device_id = ? OR REPLACE(device_id, '-', '') = ?, 0, 1) WHERE run_key = ?`), [
      options.testDeviceId === '' ? null : options.testDeviceId,
      options.testDeviceId === '' ? null : undashed(options.testDeviceId),
      runKey,
    ]);
  }
  const rejectedSamples = (await db.pool.query<RowDataPacket[]>(tag(`SELECT topic, payload, reason FROM ${t.rejections} WHERE run_key = ? ORDER BY seq LIMIT ?`), [runKey, PLAN_SAMPLE_LIMIT + 1]))[0];
  const summary = new PlanSummaryBuilder({
    counters: runCounters(counters),
    stationsInDatabase: state.stations,
    rejectedSamples: rejectedSamples.map((r) => ({ topic: String(r.topic), payload: String(r.payload), reason: String(r.reason) }) satisfies RejectedMessage),
    testDeviceId: options.testDeviceId,
  });
  options.listener?.stationsInDatabase(summary.stationsInDatabase);
  summary.devices(devices);
  const [silent, silentFirst] = await Promise.all([
    one(`SELECT COUNT(*) AS n FROM ${t.silentStations} WHERE run_key = ?`, [runKey]),
    db.pool.query<RowDataPacket[]>(tag(`SELECT station_pk, station_id, station_name FROM ${t.silentStations} WHERE run_key = ? ORDER BY station_pk LIMIT ?`), [runKey, PLAN_SAMPLE_LIMIT + 1]),
  ]);
  summary.silentStations(
    Number(silent?.n ?? 0),
    silentFirst[0].map((r) => ({ stationPk: String(r.station_pk), stationId: String(r.station_id), stationName: String(r.station_name) }) satisfies SilentStation),
  );
  await replayRows(db, queries, runKey, summary, options.listener);
  return { summary: summary.finish(), lateDevices };
}

type Row = RowDataPacket;

/** Rows of the streamed plan tables, a batch at a time; only a batch boundary awaits (as in domain/plan-merge). */
const ROWS_PER_BATCH = 1000;

/**
 * The stored rows through the summary and the log lines, in the full planner's order: by station, a station's
 * ambiguous devices before its plan; the devices without a station last, by id. Each batch is worked through
 * synchronously: a promise per row costs more, at a million rows, than the rows themselves.
 */
async function replayRows(db: SyncDatabase, queries: AttemptQueries, runKey: string, summary: PlanSummaryBuilder, listener: PlanListener | undefined): Promise<void> {
  const t = db.tables;
  const connections: Connection[] = [];
  let complete = false;
  try {
    for (let i = 0; i < 2; i++) connections.push(await queries.connection());
    const [planConnection, otherConnection] = connections as [Connection, Connection];
    const stations = streamBatches<Row>(planConnection, queries.tag(`SELECT * FROM ${t.planStations} WHERE run_key = ? ORDER BY station_pk`), [runKey], ROWS_PER_BATCH);
    const source = streamBatches<Row>(otherConnection, queries.tag(`SELECT * FROM ${t.ambiguities} WHERE run_key = ? ORDER BY station_pk, device_id`), [runKey], ROWS_PER_BATCH)[
      Symbol.asyncIterator
    ]();
    const ambiguities = { batch: [] as Row[], index: 0, ended: false };
    const needsFill = (): boolean => !ambiguities.ended && ambiguities.index >= ambiguities.batch.length;
    const fill = async (): Promise<void> => {
      while (needsFill()) {
        const next = await source.next();
        if (next.done) ambiguities.ended = true;
        else Object.assign(ambiguities, { batch: next.value, index: 0 });
      }
    };
    /** The ambiguities up to station `pk` (all: undefined); false when the batch ran out first (fill, then again). */
    const ambiguitiesUpTo = (pk: string | undefined): boolean => {
      for (let a = ambiguities.batch[ambiguities.index]; a !== undefined; a = ambiguities.batch[ambiguities.index]) {
        if (pk !== undefined && compareStationKeys(String(a.station_pk), pk) > 0) return true;
        const ambiguity = { deviceId: String(a.device_id), stationId: String(a.station_id), otherStationId: String(a.other_station_id) };
        listener?.ambiguous?.(ambiguity);
        summary.ambiguous(ambiguity);
        ambiguities.index++;
      }
      return !needsFill();
    };
    const reach = async (pk: string | undefined): Promise<void> => {
      while (!ambiguitiesUpTo(pk)) await fill();
    };
    for await (const batch of stations) {
      for (const row of batch) {
        const station = plannedStation(row);
        if (!ambiguitiesUpTo(station.stationPk)) await reach(station.stationPk);
        listener?.station(station);
        summary.station(station);
      }
      await listener?.batchDone?.();
    }
    await reach(undefined);
    const notFound = streamBatches<Row>(planConnection, queries.tag(`SELECT device_id, connectors FROM ${t.notFound} WHERE run_key = ? ORDER BY device_id`), [runKey], ROWS_PER_BATCH);
    for await (const batch of notFound) {
      for (const row of batch) {
        const deviceId = String(row.device_id);
        listener?.device(deviceId, Number(row.connectors));
        listener?.notFound(deviceId);
        summary.notFound(deviceId);
      }
      await listener?.batchDone?.();
    }
    complete = true;
  } finally {
    for (const connection of connections) queries.done(connection, !complete);
  }
}

function plannedStation(row: Row): PlanStation {
  return {
    stationPk: String(row.station_pk),
    deviceId: String(row.device_id),
    stationId: String(row.station_id),
    stationName: String(row.station_name),
    expected: Number(row.expected),
    livePoints: Number(row.live_points),
    missing: parsePointIds(String(row.missing)),
    surplus: parsePointIds(String(row.surplus)),
    skipped: Number(row.skipped) === 1,
  };
}
