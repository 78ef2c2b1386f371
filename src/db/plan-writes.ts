/**
 * The plan's rows, written while the merge goes on (db/planner.ts): each table's rows gather into multi-row INSERTs,
 * and the INSERTs run one at a time, in order, on a connection of their own, so the database inserts while Node
 * merges instead of each waiting for the other. Memory stays bounded: past MAX_QUEUED_ROWS the merge waits.
 */
import type { Connection } from './pool';

const ROWS_PER_INSERT = 1000;
const MAX_QUEUED_ROWS = 5000;

export class SerialWrites {
  private tail: Promise<void> = Promise.resolve();
  private queuedRows = 0;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly tag: (sql: string) => string,
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
    if (this.queuedRows > MAX_QUEUED_ROWS) await this.tail;
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
  ) {}

  add(row: unknown[]): void {
    this.rows.push(row);
    if (this.rows.length >= ROWS_PER_INSERT) this.flush();
  }

  flush(): void {
    if (this.rows.length > 0) this.writes.enqueue(this.insert, this.rows.splice(0));
  }
}
