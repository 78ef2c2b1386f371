/**
 * The one write: every missing point of an approved plan, in one transaction. First the transaction takes the
 * tool's apply lock (a row in its own schema), so applies against this ocpp-db take turns. Then each planned
 * station and its live points are re-read with shared locking reads (the latest committed rows, not a snapshot,
 * and held until commit: the backend cannot add or delete those rows meanwhile), so a retry, a racing run, or a
 * point someone else added after the plan never yields a second row for the same connector. Shared locks need
 * only the SELECT privilege, on MySQL 8 as on MariaDB. The run's record is updated in the same transaction: a
 * retry after a lost acknowledgement returns the recorded result.
 */
import type { RowDataPacket } from 'mysql2';
import { inTransaction, type Connection } from './pool';
import { readOcppLayout, type OcppLayout } from './ocpp-layout';
import type { SyncDatabase, Tables } from './tables';
import { allocateIdBlock } from '../domain/ids';
import type { ApplyResult } from '../shared';

const STATIONS_PER_BATCH = 500;
const ROWS_PER_INSERT = 1000;

export interface NewPoint {
  id: string;
  name: string;
  point_id: number;
  station_id: string;
  created: Date;
  updated: Date;
}

export interface ApplyOptions {
  runKey: string;
  /** The approved plan's fingerprint, recorded with the run. */
  fingerprint: string;
  /** Called with each station's new points before they are inserted (for the original's log lines). */
  onStationPoints?: (stationName: string, points: NewPoint[]) => void;
  onProgress?: (stationsDone: number) => void;
}

export type ApplyOutcome = ApplyResult & { replayed: boolean };

interface PlannedStation {
  stationPk: string;
  missing: number[];
}

async function plannedStations(connection: Connection, t: Tables, runKey: string): Promise<PlannedStation[]> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT station_pk, missing FROM ${t.planStations} WHERE run_key = ? AND skipped = 0 AND missing <> '' ORDER BY station_pk`,
    [runKey],
  );
  return rows.map((r) => ({ stationPk: String(r.station_pk), missing: String(r.missing).split(',').map(Number) }));
}

/**
 * Station keys as SQL integer literals: compared with an integer column as integers, never through a string (which
 * MySQL would compare as a double, rounding keys above 2^53). They come from BIGINT UNSIGNED columns; checked anyway.
 */
function integerList(keys: string[]): string {
  for (const key of keys) if (!/^\d{1,20}$/.test(key)) throw new Error(`not a station key: ${JSON.stringify(key)}`);
  return keys.join(', ');
}

/** Live stations of the batch, share-locked: none can be deleted or renamed until the points are in. */
async function lockStations(connection: Connection, t: Tables, stationPks: string[]): Promise<Map<string, string>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT id, name FROM ${t.stations} WHERE id IN (${integerList(stationPks)}) AND deleted IS NULL ORDER BY id LOCK IN SHARE MODE`,
  );
  return new Map(rows.map((r) => [String(r.id), String(r.name)]));
}

/** The batch's live points, share-locked with their index gaps: nobody can add a point to these stations meanwhile. */
async function livePoints(connection: Connection, t: Tables, layout: OcppLayout, stationPks: string[]): Promise<Map<string, number[]>> {
  // charging_points.station_id in its own type: integer literals for an integer column, string parameters (which
  // take the column's collation) for a text one.
  const [rows] =
    layout.pointStationId.kind === 'integer'
      ? await connection.query<RowDataPacket[]>(
          `SELECT station_id, point_id FROM ${t.points} WHERE station_id IN (${integerList(stationPks)}) AND deleted IS NULL LOCK IN SHARE MODE`,
        )
      : await connection.query<RowDataPacket[]>(`SELECT station_id, point_id FROM ${t.points} WHERE station_id IN (?) AND deleted IS NULL LOCK IN SHARE MODE`, [
          stationPks,
        ]);
  const byStation = new Map<string, number[]>();
  for (const row of rows) {
    const key = String(row.station_id);
    const list = byStation.get(key) ?? [];
    list.push(Number(row.point_id));
    byStation.set(key, list);
  }
  return byStation;
}

export async function applyPlan({ pool, tables: t }: SyncDatabase, { runKey, fingerprint, onStationPoints, onProgress }: ApplyOptions): Promise<ApplyOutcome> {
  const layout = await readOcppLayout(pool, t.ocppDatabase);
  return inTransaction(pool, async (connection) => {
    await connection.query(`SELECT name FROM ${t.locks} WHERE name = 'apply' FOR UPDATE`);
    const [[run]] = await connection.query<RowDataPacket[]>(
      `SELECT applied, created_points, stations_changed, already_present, stations_gone FROM ${t.runs} WHERE run_key = ? FOR UPDATE`,
      [runKey],
    );
    if (!run) throw new Error(`no record of run ${runKey} in ${t.runs}: the plan was not built in this database (CP_SYNC_DATABASE)`);
    if (run.applied !== null) {
      return {
        created: Number(run.created_points),
        stationsChanged: Number(run.stations_changed),
        alreadyPresent: Number(run.already_present),
        stationsGone: Number(run.stations_gone),
        replayed: true,
      };
    }

    const planned = await plannedStations(connection, t, runKey);
    const now = new Date();
    const toInsert: Omit<NewPoint, 'id'>[] = [];
    const perStation: { name: string; from: number; count: number }[] = [];
    let alreadyPresent = 0;
    let stationsGone = 0;
    for (let start = 0; start < planned.length; start += STATIONS_PER_BATCH) {
      const batch = planned.slice(start, start + STATIONS_PER_BATCH);
      const pks = batch.map((s) => s.stationPk);
      const names = await lockStations(connection, t, pks);
      const live = await livePoints(connection, t, layout, pks);
      for (const station of batch) {
        const name = names.get(station.stationPk);
        if (name === undefined) {
          stationsGone++;
          continue;
        }
        const present = new Set(live.get(station.stationPk) ?? []);
        const stillMissing = station.missing.filter((pointId) => !present.has(pointId));
        alreadyPresent += station.missing.length - stillMissing.length;
        if (stillMissing.length === 0) continue;
        perStation.push({ name, from: toInsert.length, count: stillMissing.length });
        for (const pointId of stillMissing) toInsert.push({ name, point_id: pointId, station_id: station.stationPk, created: now, updated: now });
      }
      onProgress?.(Math.min(start + STATIONS_PER_BATCH, planned.length));
    }

    // A locking read of the highest id also locks the gap above it, so no concurrent insert can take our ids.
    const [[highest]] = await connection.query<RowDataPacket[]>(`SELECT MAX(id) AS id FROM ${t.points} LOCK IN SHARE MODE`);
    const ids = allocateIdBlock(highest?.id == null ? null : BigInt(String(highest.id)), toInsert.length);
    const rows: NewPoint[] = toInsert.map((point, i) => ({ id: ids[i]!.toString(), ...point }));
    for (const { name, from, count } of perStation) onStationPoints?.(name, rows.slice(from, from + count));
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      const values = rows.slice(start, start + ROWS_PER_INSERT).map((p) => [p.id, p.name, p.point_id, p.station_id, p.created, p.updated]);
      await connection.query(`INSERT INTO ${t.points} (id, name, point_id, station_id, created, updated) VALUES ?`, [values]);
    }

    const result: ApplyResult = { created: rows.length, stationsChanged: perStation.length, alreadyPresent, stationsGone };
    await connection.query(
      `UPDATE ${t.runs} SET applied = ?, applied_fingerprint = ?, created_points = ?, stations_changed = ?, already_present = ?, stations_gone = ? WHERE run_key = ?`,
      [now, fingerprint, result.created, result.stationsChanged, result.alreadyPresent, result.stationsGone, runKey],
    );
    return { ...result, replayed: false };
  });
}
