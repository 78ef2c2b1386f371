/**
 * The diff, set-based and streamed: one query joins the run's devices with their stations and live points,
 * the rows stream through the pure rules of domain/plan, and the plan is written back in batches. Memory stays
 * flat whatever the fleet size; only a capped summary is returned.
 */
import type { RowDataPacket } from 'mysql2';
import { streamRows, type Pool } from './pool';
import { asPointStationId, asText, readOcppLayout, type OcppLayout } from './ocpp-layout';
import type { SyncDatabase, Tables } from './tables';
import { isTestDevice, missingPointIds, PlanFingerprint, surplusPointIds } from '../domain/plan';
import { PLAN_SAMPLE_LIMIT, type AmbiguousDevice, type PlanStation, type PlanSummary, type RejectedMessage, type SilentStation } from '../shared';

const ROWS_PER_INSERT = 1000;

/** One device as the diff query returns it; station columns are null when no station matched. */
interface DeviceRow {
  device_id: string;
  connectors: number;
  station_pk: string | null;
  station_id: string | null;
  station_name: string | null;
  live_points: string | null;
  /** Set when the undashed id names another live station than the exact id (which wins). */
  other_pk: string | null;
  other_station_id: string | null;
}

/** Called for every device, in station order, for the log lines operators grep for. */
export interface PlanListener {
  stationsInDatabase(count: number): void;
  device(deviceId: string, connectors: number): void;
  notFound(deviceId: string): void;
  station(station: PlanStation): void;
  ambiguous?(ambiguity: AmbiguousDevice): void;
}

export interface PlanOptions {
  runKey: string;
  testDeviceId?: string;
  onProgress?: (devices: number) => void;
  listener?: PlanListener;
}

/**
 * Exact station_id match first, the undashed one otherwise (the original's two-way lookup); when both name live
 * stations, the exact one wins and the other is reported. Device ids are converted to station_id's own collation
 * (ocpp-layout.ts), so station_id's unique index serves both lookups. Points are read per station through
 * charging_points' station_id index, compared in that column's own type.
 */
function diffQuery(t: Tables, layout: OcppLayout): string {
  return `
  SELECT o.device_id, o.connectors,
         s.id AS station_pk, s.station_id, s.name AS station_name,
         (SELECT GROUP_CONCAT(p.point_id ORDER BY p.point_id) FROM ${t.points} p
           WHERE p.station_id = ${asPointStationId('s.id', layout)} AND p.deleted IS NULL) AS live_points,
         CASE WHEN exact.id IS NOT NULL AND plain.id IS NOT NULL AND plain.id <> exact.id THEN plain.id END AS other_pk,
         CASE WHEN exact.id IS NOT NULL AND plain.id IS NOT NULL AND plain.id <> exact.id THEN plain.station_id END AS other_station_id
    FROM ${t.observations} o
    LEFT JOIN ${t.stations} exact ON exact.station_id = ${asText('o.device_id', layout.stationId)} AND exact.deleted IS NULL
    LEFT JOIN ${t.stations} plain ON o.device_plain <> o.device_id
                                 AND plain.station_id = ${asText('o.device_plain', layout.stationId)} AND plain.deleted IS NULL
    LEFT JOIN ${t.stations} s ON s.id = COALESCE(exact.id, plain.id)
   WHERE o.run_key = ?
   ORDER BY s.id IS NULL, s.id, o.device_id`;
}

/** Every live station, in key order: merged with the diff's stations (also in key order) to find the silent ones. */
function liveStationsQuery(t: Tables): string {
  return `SELECT id AS station_pk, station_id, name AS station_name FROM ${t.stations} WHERE deleted IS NULL ORDER BY id`;
}

interface StationRow {
  station_pk: string;
  station_id: string;
  station_name: string;
}

/**
 * Silent stations: live in the database, matched by no device of the run. The diff streams its matched stations in
 * ascending key order; this walks the live stations in the same order beside it (a merge, one primary-key scan, no
 * second join) and calls `silent` for every station the diff passed by.
 */
class SilentStationMerge {
  private current: IteratorResult<StationRow> | undefined;

  constructor(
    private readonly stations: AsyncIterator<StationRow>,
    private readonly silent: (station: StationRow) => Promise<void>,
  ) {}

  /** The diff has reached station `pk` (undefined: the diff has no more stations). */
  async reach(pk: string | undefined): Promise<void> {
    const target = pk === undefined ? undefined : BigInt(pk);
    for (;;) {
      this.current ??= await this.stations.next();
      if (this.current.done) return;
      const key = BigInt(this.current.value.station_pk);
      if (target !== undefined && key > target) return;
      if (target === undefined || key < target) await this.silent(this.current.value);
      this.current = undefined;
    }
  }
}

/** The window closed before the collector ever subscribed: planning on no data would wrongly say "nothing to do". */
export class NeverCollectedError extends Error {
  override readonly name = 'NeverCollectedError';
  constructor(runKey: string) {
    super(`run ${runKey} never subscribed to the MQTT broker during its collection window (see the worker log for the connection errors); nothing was planned`);
  }
}

function parsePointIds(list: string | null): number[] {
  return list === null || list === '' ? [] : list.split(',').map(Number);
}

/** Rows to insert, flushed in multi-row INSERTs of ROWS_PER_INSERT. */
class BatchWriter {
  private rows: unknown[][] = [];
  constructor(
    private readonly pool: Pool,
    private readonly insert: string,
  ) {}

  async add(row: unknown[]): Promise<void> {
    this.rows.push(row);
    if (this.rows.length >= ROWS_PER_INSERT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.rows.length > 0) await this.pool.query(this.insert, [this.rows.splice(0)]);
  }
}

function sample<T>(list: T[], item: T, summary: PlanSummary): void {
  if (list.length < PLAN_SAMPLE_LIMIT) list.push(item);
  else summary.truncated = true;
}

/**
 * One plan at a time per pool. A plan holds two connections while it streams (the diff and the live stations) and
 * borrows a third for each batch it writes; two plans at once could hold every connection of the pool and wait on
 * each other for their writes. A plan that waits here is still heartbeated by its activity.
 */
const planTurns = new WeakMap<Pool, Promise<unknown>>();

export async function buildPlan(db: SyncDatabase, options: PlanOptions): Promise<PlanSummary> {
  const previous = planTurns.get(db.pool) ?? Promise.resolve();
  const turn = previous.catch(() => undefined).then(() => buildPlanNow(db, options));
  planTurns.set(db.pool, turn);
  return turn;
}

async function buildPlanNow({ pool, tables: t }: SyncDatabase, options: PlanOptions): Promise<PlanSummary> {
  const { runKey, testDeviceId, listener } = options;
  const layout = await readOcppLayout(pool, t.ocppDatabase);
  for (const table of [t.planStations, t.notFound, t.silentStations, t.ambiguities]) await pool.query(`DELETE FROM ${table} WHERE run_key = ?`, [runKey]);

  const [[counters]] = await pool.query<RowDataPacket[]>(
    `SELECT messages, rejected, broker_dropped_start, broker_dropped_end FROM ${t.runs} WHERE run_key = ?`,
    [runKey],
  );
  if (!counters) throw new NeverCollectedError(runKey);
  const [[stationCount]] = await pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${t.stations} WHERE deleted IS NULL`);
  const [rejectedSamples] = await pool.query<RowDataPacket[]>(`SELECT topic, payload, reason FROM ${t.rejections} WHERE run_key = ? ORDER BY seq LIMIT ?`, [
    runKey,
    PLAN_SAMPLE_LIMIT + 1,
  ]);
  const silentStationSamples: SilentStation[] = [];
  const ambiguities: AmbiguousDevice[] = [];
  const droppedStart = counters.broker_dropped_start as string | null;
  const droppedEnd = counters.broker_dropped_end as string | null;

  const summary: PlanSummary = {
    fingerprint: '',
    testDeviceId,
    processedDevices: 0,
    messages: Number(counters.messages ?? 0),
    stationsInDatabase: Number(stationCount?.n ?? 0),
    stationsToChange: 0,
    pointsToCreate: 0,
    surplusPoints: 0,
    skippedStations: 0,
    notFound: 0,
    rejected: Number(counters.rejected ?? 0),
    silentStations: 0,
    ambiguousDevices: 0,
    // A counter that went down means the broker restarted during the window: the drops are then unknown.
    brokerDroppedMessages: droppedStart != null && droppedEnd != null && BigInt(droppedEnd) >= BigInt(droppedStart) ? Number(BigInt(droppedEnd) - BigInt(droppedStart)) : undefined,
    stations: [],
    notFoundDeviceIds: [],
    silentStationSamples,
    ambiguities,
    rejectedSamples: rejectedSamples.slice(0, PLAN_SAMPLE_LIMIT).map((r) => ({ topic: String(r.topic), payload: String(r.payload), reason: String(r.reason) }) satisfies RejectedMessage),
    // Samples are distinct messages, so fewer samples than rejects is normal; only the list limit truncates.
    truncated: rejectedSamples.length > PLAN_SAMPLE_LIMIT,
  };
  listener?.stationsInDatabase(summary.stationsInDatabase);
  const fingerprint = new PlanFingerprint();
  const planRows = new BatchWriter(
    pool,
    `INSERT INTO ${t.planStations} (run_key, station_pk, device_id, station_id, station_name, expected, live_points, missing, surplus, skipped) VALUES ?`,
  );
  const notFoundRows = new BatchWriter(pool, `INSERT INTO ${t.notFound} (run_key, device_id, connectors) VALUES ?`);
  const ambiguityRows = new BatchWriter(pool, `INSERT INTO ${t.ambiguities} (run_key, device_id, station_pk, station_id, other_station_pk, other_station_id) VALUES ?`);
  const silentRows = new BatchWriter(pool, `INSERT INTO ${t.silentStations} (run_key, station_pk, station_id, station_name) VALUES ?`);

  // Two devices can name one station (its id with and without dashes): the station keeps the highest count.
  let pending: { row: DeviceRow; live: number[] } | undefined;
  const settleStation = async (): Promise<void> => {
    if (!pending) return;
    const { row, live } = pending;
    pending = undefined;
    const station: PlanStation = {
      deviceId: row.device_id,
      stationId: row.station_id!,
      stationPk: row.station_pk!,
      stationName: row.station_name!,
      expected: row.connectors,
      livePoints: live.length,
      missing: missingPointIds(row.connectors, live),
      surplus: surplusPointIds(row.connectors, live),
      skipped: testDeviceId !== undefined && !isTestDevice(row.device_id, testDeviceId),
    };
    listener?.station(station);
    fingerprint.add(station);
    if (station.missing.length === 0 && station.surplus.length === 0) return;
    if (station.skipped && station.missing.length > 0) summary.skippedStations++;
    else if (station.missing.length > 0) {
      summary.stationsToChange++;
      summary.pointsToCreate += station.missing.length;
    }
    summary.surplusPoints += station.surplus.length;
    sample(summary.stations, station, summary);
    await planRows.add([
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

  const connection = await pool.getConnection();
  const stationsConnection = await pool.getConnection();
  try {
    const silentStations = new SilentStationMerge(
      streamRows<StationRow>(stationsConnection, liveStationsQuery(t), [], 1000)[Symbol.asyncIterator](),
      async (station) => {
        summary.silentStations = (summary.silentStations ?? 0) + 1;
        sample(silentStationSamples, { stationPk: station.station_pk, stationId: station.station_id, stationName: station.station_name }, summary);
        await silentRows.add([runKey, station.station_pk, station.station_id, station.station_name]);
      },
    );
    // GROUP_CONCAT stops at 1024 bytes by default on MySQL: a station's live point ids must arrive whole.
    await connection.query('SET SESSION group_concat_max_len = 1048576');
    for await (const row of streamRows<DeviceRow>(connection, diffQuery(t, layout), [runKey], 500)) {
      summary.processedDevices++;
      if (summary.processedDevices % 10_000 === 0) options.onProgress?.(summary.processedDevices);
      listener?.device(row.device_id, row.connectors);
      await silentStations.reach(row.station_pk ?? undefined);
      if (row.station_pk === null) {
        await settleStation();
        listener?.notFound(row.device_id);
        summary.notFound++;
        sample(summary.notFoundDeviceIds, row.device_id, summary);
        await notFoundRows.add([runKey, row.device_id, row.connectors]);
        continue;
      }
      if (row.other_pk !== null) {
        const ambiguity: AmbiguousDevice = { deviceId: row.device_id, stationId: row.station_id!, otherStationId: row.other_station_id! };
        listener?.ambiguous?.(ambiguity);
        summary.ambiguousDevices = (summary.ambiguousDevices ?? 0) + 1;
        sample(ambiguities, ambiguity, summary);
        await ambiguityRows.add([runKey, row.device_id, row.station_pk, row.station_id, row.other_pk, row.other_station_id]);
      }
      if (pending && pending.row.station_pk === row.station_pk) {
        // Same station reached through its other spelling: keep the higher count (and its device id).
        if (row.connectors > pending.row.connectors) pending.row = row;
        continue;
      }
      await settleStation();
      pending = { row, live: parsePointIds(row.live_points) };
    }
    await settleStation();
    for (const writer of [planRows, notFoundRows, ambiguityRows]) await writer.flush();

    await silentStations.reach(undefined);
    await silentRows.flush();
  } finally {
    connection.release();
    // The live-stations stream may still be open (an error mid-diff): a released connection with a half-read result
    // would be handed to the next user, so it is destroyed instead.
    stationsConnection.destroy();
  }
  summary.fingerprint = fingerprint.digest();
  return summary;
}

/** Recomputes the fingerprint of a stored plan, so that apply writes exactly what was approved. */
export async function storedPlanFingerprint({ pool, tables }: SyncDatabase, runKey: string): Promise<string> {
  const fingerprint = new PlanFingerprint();
  const connection = await pool.getConnection();
  try {
    const rows = streamRows<{ station_pk: string; missing: string; skipped: number }>(
      connection,
      `SELECT station_pk, missing, skipped FROM ${tables.planStations} WHERE run_key = ? ORDER BY station_pk`,
      [runKey],
    );
    for await (const row of rows) {
      fingerprint.add({ stationPk: row.station_pk, missing: parsePointIds(row.missing), skipped: row.skipped === 1 });
    }
  } finally {
    connection.release();
  }
  return fingerprint.digest();
}
