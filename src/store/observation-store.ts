/** What the collection window writes: the highest count per device, the counters, and samples of rejects. */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import type { SyncDatabase } from '../db/tables';
import { undashed } from '../domain/plan';
import type { Flush } from '../domain/collected-batch';

/** Rejected messages are counted without limit but stored only up to this many per run (hostile input is cheap to send). */
export const REJECTION_SAMPLE_LIMIT = 1000;
const ROWS_PER_INSERT = 2000;

export class ObservationStore {
  /** `markForWindowPlan` (PLAN_DURING_WINDOW): each device is also marked for the planning during the window. */
  constructor(
    private readonly db: SyncDatabase,
    private readonly options: { markForWindowPlan?: boolean } = {},
  ) {}

  private get pool(): SyncDatabase['pool'] {
    return this.db.pool;
  }

  async startRun(runKey: string, workflowId: string): Promise<void> {
    await this.pool.query(`INSERT IGNORE INTO ${this.db.tables.runs} (run_key, workflow_id, started) VALUES (?, ?, ?)`, [runKey, workflowId, new Date()]);
  }

  /**
   * Idempotent for counts (highest wins), so a retried window never lowers or duplicates a device. `onNewDevices`
   * hears, after each INSERT, how many of its devices the run had not stored before (the devices heard so far, counted
   * by the database rather than by a set of a million ids in memory).
   */
  async flush(runKey: string, { counts, messages, rejected, rejectedCount }: Flush, onNewDevices?: (count: number) => void): Promise<void> {
    const entries = [...counts];
    for (let start = 0; start < entries.length; start += ROWS_PER_INSERT) {
      const rows = entries.slice(start, start + ROWS_PER_INSERT).map(([deviceId, connectors]) => [runKey, deviceId, undashed(deviceId), connectors]);
      if (rows.length === 1) rows.push(rows[0]!);
      const [result] = await this.pool.query<ResultSetHeader>(
        `INSERT INTO ${this.db.tables.observations} (run_key, device_id, device_plain, connectors) VALUES ?
         ON DUPLICATE KEY UPDATE connectors = GREATEST(connectors, VALUES(connectors))`,
        [rows],
      );
      onNewDevices?.(newRows(result));
      // After the counts: the planning during the window (store/window-planner.ts) reads a device's count once it
      // finds it here, so the count it reads is never older than the mark.
      if (!this.options.markForWindowPlan) continue;
      await this.pool.query(
        `INSERT INTO ${this.db.tables.windowDirty} (run_key, device_id, connectors) VALUES ?
         ON DUPLICATE KEY UPDATE connectors = GREATEST(connectors, VALUES(connectors))`,
        [rows.map(([run, deviceId, , connectors]) => [run, deviceId, connectors])],
      );
    }
    if (rejected.length > 0) {
      const [[row]] = await this.pool.query<RowDataPacket[]>(`SELECT COALESCE(MAX(seq), 0) AS seq FROM ${this.db.tables.rejections} WHERE run_key = ?`, [runKey]);
      const first = Number(row?.seq ?? 0) + 1;
      const room = Math.max(0, REJECTION_SAMPLE_LIMIT - first + 1);
      const rows = rejected.slice(0, room).map((r, i) => [runKey, first + i, r.topic, r.payload, r.reason]);
      if (rows.length > 0) await this.pool.query(`INSERT IGNORE INTO ${this.db.tables.rejections} (run_key, seq, topic, payload, reason) VALUES ?`, [rows]);
    }
    if (messages > 0 || rejectedCount > 0) {
      await this.pool.query<ResultSetHeader>(`UPDATE ${this.db.tables.runs} SET messages = messages + ?, rejected = rejected + ? WHERE run_key = ?`, [
        messages,
        rejectedCount,
        runKey,
      ]);
    }
  }

  /**
   * The broker's dropped-messages counter during the window ($SYS, broker-wide): `broker_dropped_start` keeps the
   * first value ever recorded for the run (a resumed window does not move it), `broker_dropped_end` the latest.
   */
  async recordBrokerDrops(runKey: string, drops: { first: number; last: number }): Promise<void> {
    await this.pool.query(`UPDATE ${this.db.tables.runs} SET broker_dropped_start = COALESCE(broker_dropped_start, ?), broker_dropped_end = ? WHERE run_key = ?`, [
      drops.first,
      drops.last,
      runKey,
    ]);
  }
}

/**
 * Rows an INSERT … ON DUPLICATE KEY UPDATE added, from its "Records: N  Duplicates: D" (MySQL and MariaDB alike).
 * Only a multi-row statement reports it, so `flush` sends a lone row twice (the second copy is always a duplicate).
 * A server (or proxy) that reports nothing leaves the figure at 0: it is progress for people, never worth failing
 * the writes of counts for.
 */
export function newRows(result: ResultSetHeader): number {
  const info = /Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(result.info ?? '');
  return info ? Number(info[1]) - Number(info[2]) : 0;
}
