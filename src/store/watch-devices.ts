/**
 * The watch's devices (cp_sync_watch_devices): the collectors upsert each device's highest count and when it was
 * last heard, and every cycle claims the devices that changed since the last one. One row per device and watch,
 * however many messages: the table is bounded by the fleet.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { newRows } from './observation-store';
import type { SyncDatabase } from '../db/tables';
import { undashed } from '../domain/plan';

/** As for the sync's observations: about 150 KB a statement, far below max_allowed_packet. */
const ROWS_PER_UPSERT = 2000;

/**
 * The most devices one cycle claims. A watch started on a fleet that was never synced finds every device new: its
 * first cycles then work through them this many at a time, so that no cycle's plan holds the whole fleet in memory.
 */
export const DEVICES_PER_CYCLE = 20_000;

export class WatchDeviceStore {
  constructor(private readonly db: SyncDatabase) {}

  /**
   * Writes a batch of highest counts heard at `heard`. A device becomes pending when it is new, when its count rose,
   * or when it had no station the last time it was planned (its station may exist now). The assignments run left to
   * right on the old row, so `pending` is decided before `connectors` moves. Returns the devices it added.
   */
  async upsert(watchKey: string, counts: ReadonlyMap<string, number>, heard: Date): Promise<number> {
    const entries = [...counts];
    let added = 0;
    for (let start = 0; start < entries.length; start += ROWS_PER_UPSERT) {
      const rows = entries.slice(start, start + ROWS_PER_UPSERT).map(([deviceId, connectors]) => [watchKey, deviceId, undashed(deviceId), connectors, heard, heard]);
      // A lone row twice: only a multi-row statement reports its duplicates (observation-store.ts newRows).
      if (rows.length === 1) rows.push(rows[0]!);
      const [result] = await this.db.pool.query<ResultSetHeader>(
        `INSERT INTO ${this.db.tables.watchDevices} (watch_key, device_id, device_plain, connectors, first_heard, last_heard) VALUES ?
         ON DUPLICATE KEY UPDATE
           pending = IF(VALUES(connectors) > connectors OR no_station = 1, 1, pending),
           connectors = GREATEST(connectors, VALUES(connectors)),
           last_heard = GREATEST(last_heard, VALUES(last_heard))`,
        [rows],
      );
      added += newRows(result);
    }
    return added;
  }

  /**
   * Claims the pending devices for `cycle` (at most DEVICES_PER_CYCLE), new ones first. Idempotent across attempts of
   * the same cycle: what an earlier attempt claimed keeps the cycle's number. Returns how many this call claimed.
   */
  async claim(watchKey: string, cycle: number): Promise<{ claimed: number; newDevices: number }> {
    const t = this.db.tables;
    const claimWhere = async (extra: string, limit: number): Promise<number> => {
      if (limit <= 0) return 0;
      const [result] = await this.db.pool.query<ResultSetHeader>(
        `UPDATE ${t.watchDevices} SET pending = 0, planned_cycle = ? WHERE watch_key = ? AND pending = 1${extra} LIMIT ${limit}`,
        [cycle, watchKey],
      );
      return result.affectedRows;
    };
    const newDevices = await claimWhere(' AND planned_cycle = 0', DEVICES_PER_CYCLE);
    const others = await claimWhere('', DEVICES_PER_CYCLE - newDevices);
    return { claimed: newDevices + others, newDevices };
  }

  /** Whether any device is claimed by a cycle from `fromCycle` on (a retried cycle finds its own earlier claim). */
  async anyClaimedSince(watchKey: string, fromCycle: number): Promise<boolean> {
    const [rows] = await this.db.pool.query<RowDataPacket[]>(
      `SELECT 1 FROM ${this.db.tables.watchDevices} WHERE watch_key = ? AND planned_cycle >= ? LIMIT 1`,
      [watchKey, fromCycle],
    );
    return rows.length > 0;
  }

  /**
   * The silence guard's counts: live stations, and how many of them no device of the watch named since `since`
   * (live stations less the planned devices that had a station and were heard since). Both read a whole index
   * (the fleet's stations, the watch's devices): the cycle asks only with --max-silent-stations and caches them.
   */
  async silence(watchKey: string, since: Date): Promise<{ liveStations: number; silentStations: number }> {
    const [[live], [heard]] = await Promise.all([
      this.db.pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${this.db.tables.stations} WHERE deleted IS NULL`).then(([rows]) => rows),
      this.db.pool
        .query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${this.db.tables.watchDevices} WHERE watch_key = ? AND planned_cycle > 0 AND no_station = 0 AND last_heard >= ?`, [watchKey, since])
        .then(([rows]) => rows),
    ]);
    const liveStations = Number(live?.n ?? 0);
    return { liveStations, silentStations: Math.max(0, liveStations - Number(heard?.n ?? 0)) };
  }

  /**
   * When the oldest change of the devices claimed from `fromCycle` on that named a station was heard (their last
   * message before the claim: a device heard again since its change makes this later, never earlier), for the
   * first message → applied histogram. Reads the claimed devices only, through the cycle index.
   */
  async oldestHeard(watchKey: string, fromCycle: number): Promise<Date | undefined> {
    const [[row]] = await this.db.pool.query<RowDataPacket[]>(
      `SELECT MIN(last_heard) AS heard FROM ${this.db.tables.watchDevices} WHERE watch_key = ? AND planned_cycle >= ? AND no_station = 0`,
      [watchKey, fromCycle],
    );
    return row?.heard instanceof Date ? row.heard : undefined;
  }

  /** Remembers which planned devices had no station: they become pending again when next heard. */
  async markStations(watchKey: string, withoutStation: string[], withStation: string[]): Promise<void> {
    for (const [flag, ids] of [
      [1, withoutStation],
      [0, withStation],
    ] as const) {
      for (let start = 0; start < ids.length; start += ROWS_PER_UPSERT) {
        await this.db.pool.query(`UPDATE ${this.db.tables.watchDevices} SET no_station = ? WHERE watch_key = ? AND device_id IN (?) AND no_station <> ?`, [
          flag,
          watchKey,
          ids.slice(start, start + ROWS_PER_UPSERT),
          flag,
        ]);
      }
    }
  }
}
