/**
 * The heartbeat of the plan and the apply, with a watch on whether the attempt still gets anywhere. The timer beats
 * every 2 s whatever the work does, so that a dead worker is noticed within the heartbeat timeout; and at each beat the
 * attempt must show a sign of life (domain/liveness.ts): its progress changed, it waits its turn, or — asked only when
 * neither — one of its statements runs in the database. With none for the stall limit, its queries are stopped and it
 * fails with a retryable AttemptStalled failure. Without this watch a hang (a lost connection that mysql2 never
 * reported to a streamed query) was heartbeated for 30 minutes, until the start-to-close timeout.
 */
import { ApplicationFailure, type Context } from '@temporalio/activity';
import { judgeLiveness, stallMessage, STALL_LIMIT_MS, type Liveness } from '../domain/liveness';
import { ATTEMPT_STALLED, WORK_HEARTBEAT_INTERVAL_MS } from '../shared';

/** How long the database may take to say which statements run; no answer counts as none running. */
export const ASK_TIMEOUT_MS = 10_000;

export interface LivenessWatch {
  /** The attempt's progress: heartbeated at each beat, and a sign of life when it changed (compared as JSON). */
  progress: () => unknown;
  /** Whether the attempt waits its turn now (AttemptQueries.waiting). */
  waiting: () => boolean;
  /** How many of the attempt's statements run in the database now (AttemptQueries.runningStatements). */
  runningStatements: (timeoutMs: number) => Promise<number>;
  /** Stops the attempt's queries once it is found stalled (AttemptQueries.stop). */
  stop: () => Promise<void>;
  /** Default STALL_LIMIT_MS (2 min); tests shorten it. */
  stallLimitMs?: number;
  /** How often it beats and checks; default 2 s. */
  intervalMs?: number;
}

/** Progress as compared between two checks; a value JSON cannot write (a bigint) counts as unchanged. */
function progressKey(progress: unknown): string | undefined {
  try {
    return JSON.stringify(progress);
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` while heartbeating and watching it (see above): its result, its error, or the AttemptStalled failure
 * once it has shown no sign of life for the stall limit. A work that hangs is left behind: its queries are stopped,
 * and a stopped attempt runs no new statement.
 */
export async function whileAlive<T>(context: Pick<Context, 'heartbeat'>, work: () => Promise<T>, watch: LivenessWatch): Promise<T> {
  const stallLimitMs = watch.stallLimitMs ?? STALL_LIMIT_MS;
  let last = progressKey(watch.progress());
  let aliveAtMs = Date.now();
  let asking = false;
  /** Set once the work has ended or has been found stalled: no more questions. */
  let settled = false;
  let stalledWith: Error | undefined;
  let stalled: (failure: Error) => void = () => undefined;
  const stall = new Promise<never>((_, reject) => (stalled = reject));

  const observe = (runningStatements?: number): Liveness => {
    const key = progressKey(watch.progress());
    const progressChanged = key !== last;
    last = key;
    const nowMs = Date.now();
    const verdict = judgeLiveness({ nowMs, aliveAtMs, progressChanged, waiting: watch.waiting(), runningStatements, stallLimitMs });
    if (verdict === 'alive') aliveAtMs = nowMs;
    return verdict;
  };

  const ask = async (): Promise<void> => {
    let running = 0;
    let problem: string | undefined;
    try {
      running = await withinMs(watch.runningStatements(ASK_TIMEOUT_MS), ASK_TIMEOUT_MS);
    } catch (err) {
      // A database that cannot be asked is no sign of life: a worker cut off from it is what the watch is for.
      problem = err instanceof Error ? err.message : String(err);
    }
    if (settled || observe(running) !== 'stalled') return;
    settled = true;
    stalledWith = ApplicationFailure.create({ type: ATTEMPT_STALLED, message: stallMessage(stallLimitMs, problem), nonRetryable: false });
    // Still heartbeating meanwhile (the timer runs until the end): stopping may take a connect timeout.
    await watch.stop().catch(() => undefined);
    stalled(stalledWith);
  };

  const beat = (): void => {
    context.heartbeat(watch.progress());
    // One question to the database at a time: while it is out, its answer decides.
    if (settled || asking || observe() !== 'ask-database') return;
    asking = true;
    void ask().finally(() => (asking = false));
  };

  context.heartbeat(watch.progress());
  const timer = setInterval(beat, watch.intervalMs ?? WORK_HEARTBEAT_INTERVAL_MS);
  try {
    const result = await Promise.race([work(), stall]);
    if (stalledWith) throw stalledWith;
    return result;
  } catch (err) {
    // The error of a query killed because the attempt stalled is only a consequence: the stall is what to tell.
    throw stalledWith ?? err;
  } finally {
    settled = true;
    clearInterval(timer);
  }
}

/** `promise`, or a rejection once `ms` have passed. */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
