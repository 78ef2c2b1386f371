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
import { AttemptQueries, inAttemptTransaction } from '../db/attempt-queries';
import { streamBatches, type Connection } from '../db/pool';
import { SerialWrites, TableRows } from '../db/write-behind';
import { readOcppLayout, type OcppLayout } from '../db/ocpp-layout';
import type { SyncDatabase, Tables } from '../db/tables';
import { allocateIdBlock } from '../domain/ids';
import { parsePointIds } from '../domain/plan-merge';
import { ApplyTally } from '../domain/still-missing';
import type { ApplyResult } from '../shared';

/**
 * Set-based batches: each batch of planned stations is re-read under lock in two statements, and its new points go
 * out in multi-row INSERTs, so the time goes to the inserts rather than to round trips. 5,000 stations make IN lists
 * of about 50 KB; 5,000 new rows make an INSERT of about 400 KB: both far below max_allowed_packet (16 MiB by default,
 * 4 MiB on old servers).
 *
 * The transaction's connection is kept busy: the next batch's locked re-reads are sent before this batch's points are
 * worked out and inserted, so the database reads while Node computes, and the plan itself is streamed on a second
 * connection (it is the tool's own table, written before the approval: it needs no lock).
 */
const STATIONS_PER_BATCH = 5000;
/** New points per INSERT; `cp-sync plan --format sql` writes its INSERTs the same size. */
export const POINTS_PER_INSERT = 5000;
/** New points that may wait for their INSERT before the next batch is read. */
const MAX_QUEUED_ROWS = 10_000;

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
  /** The attempt's connections and tags, so that a cancelled or timed-out attempt's queries are killed. */
  queries?: AttemptQueries;
  /** The approved plan's fingerprint, recorded with the run. */
  fingerprint: string;
  /** Called with each station's new points before they are inserted (for the original's log lines). */
  onStationPoints?: (stationName: string, points: NewPoint[]) => void;
  onProgress?: (stationsDone: number) => void;
}

export type ApplyOutcome = ApplyResult & { replayed: boolean };

/** Tags a statement with the attempt that runs it (db/attempt-queries.ts). */
type Tag = (sql: string) => string;

interface PlannedStation {
  stationPk: string;
  /** Comma-separated point ids, as the plan stores them. */
  missing: string;
}

/** A batch's stations (live ones, with their names) and their live point ids, read under shared locks. */
interface Reread {
  names: Map<string, string>;
  live: Map<string, number[]>;
}

/** The approved plan's stations that have points to create, in batches of STATIONS_PER_BATCH, in key order. */
function plannedStations(connection: Connection, tag: Tag, t: Tables, runKey: string): AsyncIterable<PlannedStation[]> {
  return streamBatches<PlannedStation>(
    connection,
    tag(`SELECT station_pk AS stationPk, missing FROM ${t.planStations} WHERE run_key = ? AND skipped = 0 AND missing <> '' ORDER BY station_pk`),
    [runKey],
    STATIONS_PER_BATCH,
  );
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
async function lockStations(connection: Connection, tag: Tag, t: Tables, stationPks: string[]): Promise<Map<string, string>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    tag(`SELECT id, name FROM ${t.stations} WHERE id IN (${integerList(stationPks)}) AND deleted IS NULL ORDER BY id LOCK IN SHARE MODE`),
  );
  return new Map(rows.map((r) => [String(r.id), String(r.name)]));
}

/** The batch's live points, share-locked with their index gaps: nobody can add a point to these stations meanwhile. */
async function livePoints(connection: Connection, tag: Tag, t: Tables, layout: OcppLayout, stationPks: string[]): Promise<Map<string, number[]>> {
  // charging_points.station_id in its own type: integer literals for an integer column, string parameters (which
  // take the column's collation) for a text one.
  const [rows] =
    layout.pointStationId.kind === 'integer'
      ? await connection.query<RowDataPacket[]>(
          tag(`SELECT station_id, point_id FROM ${t.points} WHERE station_id IN (${integerList(stationPks)}) AND deleted IS NULL LOCK IN SHARE MODE`),
        )
      : await connection.query<RowDataPacket[]>(tag(`SELECT station_id, point_id FROM ${t.points} WHERE station_id IN (?) AND deleted IS NULL LOCK IN SHARE MODE`), [
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

/**
 * Sends a batch's two locking reads at once (they queue on the connection behind what it runs). The promise is
 * marked handled: a failure surfaces where it is awaited, never as an unhandled rejection of a batch read ahead.
 */
function rereadUnderLock(connection: Connection, tag: Tag, t: Tables, layout: OcppLayout, stationPks: string[]): Promise<Reread> {
  const reread = Promise.all([lockStations(connection, tag, t, stationPks), livePoints(connection, tag, t, layout, stationPks)]).then(([names, live]) => ({ names, live }));
  reread.catch(() => undefined);
  return reread;
}

export async function applyPlan({ pool, tables: t }: SyncDatabase, { runKey, fingerprint, onStationPoints, onProgress, ...options }: ApplyOptions): Promise<ApplyOutcome> {
  const layout = await readOcppLayout(pool, t.ocppDatabase);
  const queries = options.queries ?? new AttemptQueries(pool);
  const tag: Tag = (sql) => queries.tag(sql);
  return inAttemptTransaction(queries, async (connection) => {
    await connection.query(tag(`SELECT name FROM ${t.locks} WHERE name = 'apply' FOR UPDATE`));
    const [[run]] = await connection.query<RowDataPacket[]>(
      tag(`SELECT applied, created_points, stations_changed, already_present, stations_gone FROM ${t.runs} WHERE run_key = ? FOR UPDATE`),
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

    // A locking read of the highest id also locks the gap above it, so no concurrent insert can take our ids.
    const [[highestRow]] = await connection.query<RowDataPacket[]>(tag(`SELECT MAX(id) AS id FROM ${t.points} LOCK IN SHARE MODE`));
    let highest = highestRow?.id == null ? null : BigInt(String(highestRow.id));
    const now = new Date();
    const tally = new ApplyTally();
    let stationsDone = 0;
    const writes = new SerialWrites(connection, tag, MAX_QUEUED_ROWS);
    const inserts = new TableRows(writes, `INSERT INTO ${t.points} (id, name, point_id, station_id, created, updated) VALUES ?`, POINTS_PER_INSERT);
    const createPoints = ({ names, live }: Reread, batch: PlannedStation[]): void => {
      for (const station of batch) {
        const name = names.get(station.stationPk);
        const missing = tally.station({ name, planned: parsePointIds(station.missing), live: live.get(station.stationPk) });
        if (name === undefined || missing.length === 0) continue;
        const ids = allocateIdBlock(highest, missing.length);
        highest = ids[ids.length - 1]!;
        const points: NewPoint[] = missing.map((pointId, i) => ({ id: ids[i]!.toString(), name, point_id: pointId, station_id: station.stationPk, created: now, updated: now }));
        onStationPoints?.(name, points);
        for (const p of points) inserts.add([p.id, p.name, p.point_id, p.station_id, p.created, p.updated]);
      }
      stationsDone += batch.length;
      onProgress?.(stationsDone);
    };
    const planConnection = await queries.connection();
    try {
      let previous: { batch: PlannedStation[]; reread: Promise<Reread> } | undefined;
      for await (const batch of plannedStations(planConnection, tag, t, runKey)) {
        await writes.keepUp();
        const reread = rereadUnderLock(
          connection,
          tag,
          t,
          layout,
          batch.map((s) => s.stationPk),
        );
        if (previous) createPoints(await previous.reread, previous.batch);
        previous = { batch, reread };
      }
      if (previous) createPoints(await previous.reread, previous.batch);
      inserts.flush();
      await writes.finish();
    } finally {
      // A plan stream left half-read (an error mid-apply) must not go back to the pool.
      queries.done(planConnection, true);
    }

    const result = tally.result();
    await connection.query(
      tag(`UPDATE ${t.runs} SET applied = ?, applied_fingerprint = ?, created_points = ?, stations_changed = ?, already_present = ?, stations_gone = ? WHERE run_key = ?`),
      [now, fingerprint, result.created, result.stationsChanged, result.alreadyPresent, result.stationsGone, runKey],
    );
    return { ...result, replayed: false };
  });
}
