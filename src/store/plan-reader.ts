/**
 * Reads one run's plan back from the tool's tables (what the planner wrote), row by row: every list streams from its
 * own query, so a plan of a million stations is read with flat memory. Also the planned stations as ocpp-db has them
 * now (for `cp-sync plan --format sql`), the reads store/applier.ts makes under lock, without the locks; what the apply
 * would insert is decided from them by domain/still-missing.ts, as the apply decides.
 */
import type { RowDataPacket } from 'mysql2';
import { streamRows } from '../db/pool';
import { asPointStationId, readOcppLayout } from '../db/ocpp-layout';
import type { SyncDatabase } from '../db/tables';
import type { PlannedStationNow } from '../domain/still-missing';
import type { AmbiguousDevice, PlanStation, RejectedMessage, SilentStation } from '../shared';

/** The run's record in cp_sync_runs: absent once `cp-sync prune` removed it (or for a plan built elsewhere). */
export interface PlanRun {
  workflowId: string;
  /** When the apply committed; null while the plan is not applied. */
  applied: Date | null;
}

export interface NotFoundDevice {
  deviceId: string;
  connectors: number;
}

/** A planned station with points to write, as ocpp-db has it now. */
export interface PendingStation extends PlannedStationNow {
  stationPk: string;
}

/** Rows as mysql2 returns them: keys as strings (bigNumberStrings), lists as comma-separated text. */
interface PlanStationRow {
  station_pk: string;
  device_id: string;
  station_id: string;
  station_name: string;
  expected: number;
  live_points: number;
  missing: string;
  surplus: string;
  skipped: number;
}

interface PendingRow {
  station_pk: string;
  missing: string;
  name: string | null;
  live_points: string | null;
}

function pointIds(list: string | null | undefined): number[] {
  return list === null || list === undefined || list === '' ? [] : list.split(',').map(Number);
}

/**
 * Streams `sql` on a connection of its own. A consumer that stops early leaves a half-read result on the connection,
 * so the connection is then destroyed rather than returned to the pool.
 */
async function* rows<T>({ pool }: SyncDatabase, sql: string, params: unknown[], setup: string[] = []): AsyncGenerator<T> {
  const connection = await pool.getConnection();
  let complete = false;
  try {
    for (const statement of setup) await connection.query(statement);
    yield* streamRows<T>(connection, sql, params, 1000);
    complete = true;
  } finally {
    if (complete) connection.release();
    else connection.destroy();
  }
}

export async function planRun({ pool, tables: t }: SyncDatabase, runKey: string): Promise<PlanRun | undefined> {
  const [[row]] = await pool.query<RowDataPacket[]>(`SELECT workflow_id, applied FROM ${t.runs} WHERE run_key = ?`, [runKey]);
  return row ? { workflowId: String(row.workflow_id), applied: (row.applied as Date | null) ?? null } : undefined;
}

/** Every station of the plan (to change, skipped in test mode, or with surplus points only), by station key. */
export async function* planStations(db: SyncDatabase, runKey: string): AsyncGenerator<PlanStation> {
  const sql = `SELECT station_pk, device_id, station_id, station_name, expected, live_points, missing, surplus, skipped
                 FROM ${db.tables.planStations} WHERE run_key = ? ORDER BY station_pk`;
  for await (const r of rows<PlanStationRow>(db, sql, [runKey])) {
    yield {
      deviceId: String(r.device_id),
      stationId: String(r.station_id),
      stationPk: String(r.station_pk),
      stationName: String(r.station_name),
      expected: Number(r.expected),
      livePoints: Number(r.live_points),
      missing: pointIds(r.missing),
      surplus: pointIds(r.surplus),
      skipped: Number(r.skipped) === 1,
    };
  }
}

export async function* notFoundDevices(db: SyncDatabase, runKey: string): AsyncGenerator<NotFoundDevice> {
  const sql = `SELECT device_id, connectors FROM ${db.tables.notFound} WHERE run_key = ? ORDER BY device_id`;
  for await (const r of rows<RowDataPacket>(db, sql, [runKey])) yield { deviceId: String(r.device_id), connectors: Number(r.connectors) };
}

export async function* silentStations(db: SyncDatabase, runKey: string): AsyncGenerator<SilentStation> {
  const sql = `SELECT station_pk, station_id, station_name FROM ${db.tables.silentStations} WHERE run_key = ? ORDER BY station_pk`;
  for await (const r of rows<RowDataPacket>(db, sql, [runKey])) yield { stationPk: String(r.station_pk), stationId: String(r.station_id), stationName: String(r.station_name) };
}

export async function* ambiguities(db: SyncDatabase, runKey: string): AsyncGenerator<AmbiguousDevice> {
  const sql = `SELECT device_id, station_id, other_station_id FROM ${db.tables.ambiguities} WHERE run_key = ? ORDER BY device_id`;
  for await (const r of rows<RowDataPacket>(db, sql, [runKey])) yield { deviceId: String(r.device_id), stationId: String(r.station_id), otherStationId: String(r.other_station_id) };
}

/** The stored samples of rejected messages (the collector keeps the first REJECTION_SAMPLE_LIMIT), in arrival order. */
export async function* rejections(db: SyncDatabase, runKey: string): AsyncGenerator<RejectedMessage> {
  const sql = `SELECT topic, payload, reason FROM ${db.tables.rejections} WHERE run_key = ? ORDER BY seq`;
  for await (const r of rows<RowDataPacket>(db, sql, [runKey])) yield { topic: String(r.topic), payload: String(r.payload), reason: String(r.reason) };
}

/** The highest charging_points.id now (null for an empty table): the apply's new ids continue from it. */
export async function highestPointId({ pool, tables: t }: SyncDatabase): Promise<bigint | null> {
  const [[row]] = await pool.query<RowDataPacket[]>(`SELECT MAX(id) AS id FROM ${t.points}`);
  return row?.id == null ? null : BigInt(String(row.id));
}

/**
 * The planned stations with points to write (not skipped), in the apply's order (station key), each with its current
 * name (undefined once deleted) and live point ids, as the apply re-reads them under lock.
 */
export async function* pendingStations(db: SyncDatabase, runKey: string): AsyncGenerator<PendingStation> {
  const t = db.tables;
  const layout = await readOcppLayout(db.pool, t.ocppDatabase);
  const sql = `
    SELECT ps.station_pk, ps.missing, s.name,
           (SELECT GROUP_CONCAT(p.point_id ORDER BY p.point_id) FROM ${t.points} p
             WHERE p.station_id = ${asPointStationId('s.id', layout)} AND p.deleted IS NULL) AS live_points
      FROM ${t.planStations} ps
      LEFT JOIN ${t.stations} s ON s.id = ps.station_pk AND s.deleted IS NULL
     WHERE ps.run_key = ? AND ps.skipped = 0 AND ps.missing <> ''
     ORDER BY ps.station_pk`;
  // GROUP_CONCAT stops at 1024 bytes by default on MySQL: a station's live point ids must arrive whole.
  for await (const r of rows<PendingRow>(db, sql, [runKey], ['SET SESSION group_concat_max_len = 1048576'])) {
    yield { stationPk: String(r.station_pk), name: r.name === null ? undefined : String(r.name), planned: pointIds(r.missing), live: pointIds(r.live_points) };
  }
}
