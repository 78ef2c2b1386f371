/**
 * The queries of one activity attempt, stoppable. Temporal gives up an attempt (cancelled, or timed out: the
 * activity's cancellation signal) while its query may still be running in the database: MariaDB and MySQL keep
 * running a statement whose client has stopped waiting, so a retry would run beside its abandoned predecessor (seen:
 * three copies of the 1M diff at once). An attempt therefore
 * - tags every statement it runs with its identity (a comment: workflow, activity, attempt), and
 * - on cancellation, kills its running statements with `KILL QUERY <connection id>` from a separate connection and
 *   destroys its connections (never handed back to the pool half-read or mid-transaction);
 * - when it starts, kills the connections of earlier attempts of the same activity that are still running a tagged
 *   statement: an attempt of a worker that died (or lost Temporal) is stopped by its successor;
 * - tells its liveness watch (activities/liveness.ts) how many of its statements are running, and whether it waits its
 *   turn for a connection of the pool or something else another watch keeps bounded.
 * A user may always kill its own connections, and sees its own threads in the process list: no privilege beyond the
 * runtime user's is needed.
 */
import mysql from 'mysql2/promise';
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import type { Connection, Pool } from './pool';
import { poolConnectionOptions } from './pool';

/** How long a retry waits for the connections it killed to go away before it runs its own statements. */
const KILL_SETTLE_MS = 5000;

/** Who runs the statements: one attempt of one activity of one workflow. */
export interface AttemptIdentity {
  workflowId: string;
  activityId: string;
  attempt: number;
}

/** Identities go into SQL comments: only characters that can neither end the comment nor confuse the search. */
function clean(text: string): string {
  return text.replace(/[^\w.:@=-]/g, '_').slice(0, 200);
}

/** The part of the tag shared by every attempt of one activity. */
function activityTag({ workflowId, activityId }: AttemptIdentity): string {
  return `/* cp-sync ${clean(workflowId)} activity ${clean(activityId)} attempt `;
}

export class AttemptQueries {
  private readonly connections = new Set<Connection>();
  private readonly prefix: string;
  private stopping: Promise<void> | undefined;
  private waits = 0;
  private markStopped: () => void = () => undefined;
  /** Resolves once the attempt is stopped: what waits on its work (the plan turn) need not wait for a work that hangs. */
  readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));

  constructor(
    private readonly pool: Pool,
    /** Undefined: statements go untagged (a plan or an apply run outside an activity: the benchmark, tests). */
    private readonly identity?: AttemptIdentity,
    private readonly signal?: AbortSignal,
  ) {
    this.prefix = identity ? `${activityTag(identity)}${identity.attempt} */ ` : '';
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /**
   * `sql` with this attempt's tag, so that it can be found in the process list. A stopped attempt runs no new statement:
   * its work may still be going on (a hang the liveness watch stopped, then came loose) while its retry runs.
   */
  tag(sql: string): string {
    if (this.isStopped) throw new AttemptStoppedError();
    return `${this.prefix}${sql}`;
  }

  private get isStopped(): boolean {
    return this.signal?.aborted === true || this.stopping !== undefined;
  }

  /** A connection of the pool, watched until `done` (which releases it, or destroys it once the attempt is stopped). */
  async connection(): Promise<Connection> {
    if (this.isStopped) throw new AttemptStoppedError();
    // The pool may be busy with the other runs' work: waiting for it is no stall.
    const connection = await this.waitingFor(this.pool.getConnection());
    this.connections.add(connection);
    if (this.isStopped) {
      this.done(connection, true);
      throw new AttemptStoppedError();
    }
    return connection;
  }

  /** Runs one tagged statement on a watched connection of the pool (killed with the attempt, like the streams). */
  async query<T extends RowDataPacket[] | ResultSetHeader>(sql: string, params?: unknown[]): Promise<T> {
    const connection = await this.connection();
    let clean = false;
    try {
      const [result] = await connection.query<T>(this.tag(sql), params);
      clean = true;
      return result;
    } finally {
      this.done(connection, !clean);
    }
  }

  /** Gives a connection back: released when clean, destroyed when it may hold a half-read result or session state. */
  done(connection: Connection, destroy = false): void {
    if (!this.connections.delete(connection)) return;
    if (destroy || this.stopping) connection.destroy();
    else connection.release();
  }

  /** Kills what this attempt runs and drops its connections. Safe to call more than once. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = this.killAll();
      this.markStopped();
    }
    return this.stopping;
  }

  /**
   * `promise`, counted as a wait of this attempt while it is pending: a wait for its turn at something that another
   * watch keeps bounded (a connection of the pool, the worker's one plan at a time, stdout's reader) is no stall.
   */
  async waitingFor<T>(promise: Promise<T>): Promise<T> {
    this.waits++;
    try {
      return await promise;
    } finally {
      this.waits--;
    }
  }

  /** Whether the attempt waits its turn now (see waitingFor). */
  get waiting(): boolean {
    return this.waits > 0;
  }

  /**
   * How many statements of this attempt the database runs now: its tagged ones on any connection, and whatever its own
   * connections run (a COMMIT, a SET). One query on a connection of its own, within `timeoutMs`.
   */
  async runningStatements(timeoutMs: number): Promise<number> {
    const ids = [...this.connections].map((c) => Number(c.threadId)).filter((id) => Number.isSafeInteger(id));
    const tagged = this.identity ? 'LOCATE(?, INFO) = 1' : 'FALSE';
    const own = ids.length > 0 ? `(ID IN (${ids.join(', ')}) AND COMMAND <> 'Sleep')` : 'FALSE';
    // Connecting is bounded by the pool's connect timeout (5 s, db/pool.ts), the query by `timeoutMs`.
    return withSideConnection(this.pool, async (side) => {
      const sql = `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND (${tagged} OR ${own})`;
      const [[row]] = await side.query<RowDataPacket[]>({ sql, timeout: timeoutMs }, this.identity ? [this.prefix] : []);
      return Number(row?.n ?? 0);
    });
  }

  private async killAll(): Promise<void> {
    const ids = [...this.connections].map((c) => c.threadId);
    if (ids.length > 0) {
      await withSideConnection(this.pool, async (side) => {
        for (const id of ids) await side.query(`KILL QUERY ${Number(id)}`).catch(() => undefined);
      }).catch(() => undefined);
    }
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
  }

  /**
   * Kills the connections still running a statement of an earlier attempt of this activity (its worker died or lost
   * Temporal; Temporal has already given up on it). Returns how many were killed.
   */
  async killPredecessors(): Promise<number> {
    if (!this.identity || this.identity.attempt <= 1) return 0;
    const { attempt: current } = this.identity;
    const tag = activityTag(this.identity);
    return withSideConnection(this.pool, async (side) => {
      const [rows] = await side.query<RowDataPacket[]>(
        `SELECT ID AS id, INFO AS info FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND LOCATE(?, INFO) = 1`,
        [tag],
      );
      const killed: number[] = [];
      for (const row of rows) {
        const attempt = Number(/attempt (\d+) \*\//.exec(String(row.info))?.[1]);
        if (!(attempt < current)) continue;
        await side.query(`KILL CONNECTION ${Number(row.id)}`).catch(() => undefined);
        killed.push(Number(row.id));
      }
      // A killed connection stays listed until its statement has unwound: this attempt starts only once it is gone.
      const deadline = Date.now() + KILL_SETTLE_MS;
      while (killed.length > 0 && Date.now() < deadline) {
        const [[left]] = await side.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID IN (${killed.join(', ')})`);
        if (Number(left?.n ?? 0) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return killed.length;
    });
  }
}

export class AttemptStoppedError extends Error {
  override readonly name = 'AttemptStoppedError';
  constructor() {
    super('the attempt was stopped (cancelled, timed out, or stalled) before this query could run');
  }
}

/**
 * A connection of its own, outside the pool: the pool may be exhausted by the very queries to kill. Falls back to a
 * pool connection for a pool made elsewhere than createPool.
 */
async function withSideConnection<T>(pool: Pool, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const options = poolConnectionOptions(pool);
  const connection = options ? await mysql.createConnection(options) : await pool.getConnection();
  try {
    return await work(connection);
  } finally {
    if (options) await connection.end().catch(() => connection.destroy());
    else (connection as Connection).release();
  }
}

/** Runs `work` in one transaction on one of the attempt's connections: commit on success, rollback on any error. */
export async function inAttemptTransaction<T>(queries: AttemptQueries, work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await queries.connection();
  let clean = false;
  try {
    await connection.beginTransaction();
    try {
      const result = await work(connection);
      await connection.commit();
      clean = true;
      return result;
    } catch (err) {
      // A killed statement leaves the transaction open on the server: rolled back here, or by the destroyed connection.
      clean = await connection.rollback().then(
        () => true,
        () => false,
      );
      throw err;
    }
  } finally {
    queries.done(connection, !clean);
  }
}
