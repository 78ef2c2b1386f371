/**
 * Rows written behind the work that produces them: each table's rows gather into multi-row INSERTs, and the INSERTs
 * run one at a time, in order, on one connection, so the database inserts while Node works out the next rows instead
 * of each waiting for the other. The diff writes its plan this way (store/planner.ts), the apply its new points
 * (store/applier.ts, in its transaction). Memory stays bounded: past `maxQueuedRows` the producer waits (`keepUp`).
 */
import type { Connection } from './pool';

export class SerialWrites {
  private tail: Promise<void> = Promise.resolve();
  private queuedRows = 0;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly tag: (sql: string) => string,
    private readonly maxQueuedRows: number,
  ) {}

  /** Queues one multi-row INSERT; a failure is kept and thrown by the next `keepUp` or `finish`. */
  enqueue(insert: string, rows: unknown[][]): void {
    this.queuedRows += rows.length;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.failure) await this.connection.query(this.tag(insert), [rows]);
      } catch (error) {
        this.failure = { error };
      } finally {
        this.queuedRows -= rows.length;
      }
    });
  }

  /** Waits only when too many rows are queued; throws a write's failure. */
  async keepUp(): Promise<void> {
    if (this.queuedRows > this.maxQueuedRows) await this.tail;
    if (this.failure) throw this.failure.error;
  }

  /** Waits for every queued INSERT. */
  async finish(): Promise<void> {
    await this.tail;
    if (this.failure) throw this.failure.error;
  }
}

/** One table's rows, handed to the writes an INSERT's worth at a time. */
export class TableRows {
  private rows: unknown[][] = [];
  constructor(
    private readonly writes: SerialWrites,
    private readonly insert: string,
    private readonly rowsPerInsert: number,
  ) {}

  add(row: unknown[]): void {
    this.rows.push(row);
    if (this.rows.length >= this.rowsPerInsert) this.flush();
  }

  flush(): void {
    if (this.rows.length > 0) this.writes.enqueue(this.insert, this.rows.splice(0));
  }
}
