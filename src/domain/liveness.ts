/**
 * When an attempt of the plan or the apply counts as alive, and when as stalled. A heartbeat on a timer only proves
 * that the worker's process exists: a streamed query whose lost connection mysql2 never reported waited for ever while
 * the timer kept heartbeating, and Temporal noticed only at the 30-minute start-to-close timeout. So an attempt shows
 * that it is alive by its progress changing, by a statement of its own running in the database, or by waiting its turn
 * for something that another watch keeps bounded (a connection of the pool, the worker's one plan at a time, stdout's
 * reader). Nothing of these for the stall limit: stalled. The I/O around it is activities/liveness.ts.
 */
import { formatDuration } from './duration';

/** How long an attempt may show no sign of life before it is stopped and retried. */
export const STALL_LIMIT_MS = 2 * 60_000;

/** What one check of an attempt knows. */
export interface LivenessCheck {
  nowMs: number;
  /** When the attempt last showed a sign of life (or started). */
  aliveAtMs: number;
  /** Its progress differs from the previous check's. */
  progressChanged: boolean;
  /** It waits its turn for something another watch keeps bounded (a pool connection, the plan turn, stdout's reader). */
  waiting: boolean;
  /** How many of its statements run in the database now; undefined: not asked (asked only when nothing else shows life). */
  runningStatements?: number;
  stallLimitMs: number;
}

/**
 * `alive`: a sign of life now (the quiet time starts again). `ask-database`: none but a running statement could be one,
 * and the database has not been asked. `quiet`: no sign of life, for less than the stall limit. `stalled`: none for the
 * stall limit or longer.
 */
export type Liveness = 'alive' | 'ask-database' | 'quiet' | 'stalled';

export function judgeLiveness(check: LivenessCheck): Liveness {
  if (check.progressChanged || check.waiting) return 'alive';
  // The database is asked last: it costs a query, the rest is free.
  if (check.runningStatements === undefined) return 'ask-database';
  if (check.runningStatements > 0) return 'alive';
  return check.nowMs - check.aliveAtMs >= check.stallLimitMs ? 'stalled' : 'quiet';
}

/**
 * What a stalled attempt fails with (the retry line and, on the last attempt, the final lines carry it): what
 * happened, the likely cause, and what to check. `askProblem`: why the database could not be asked, when it could not.
 */
export function stallMessage(stallLimitMs: number, askProblem?: string): string {
  const running =
    askProblem === undefined
      ? 'none of its statements is running in the database'
      : `the database could not be asked whether any of its statements is running (${askProblem})`;
  return (
    `no progress for ${formatDuration(stallLimitMs)} and ${running} (a lost connection that was never reported?): stopped; ` +
    'check the network between the worker and the database (OCPP_MYSQL_HOST), and the worker log for what it did last'
  );
}
