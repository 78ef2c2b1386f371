/**
 * Attempts of the plan and the apply: what a failed attempt says (one line when Temporal will retry it, the
 * final lines only when the run has failed for good), when the next attempt is due, and the heartbeat that lets
 * Temporal notice a lost worker within seconds (and, for the work itself, a hang within the stall limit: liveness.ts).
 */
import { CancelledFailure, Context, type Info } from '@temporalio/activity';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import { isRetryable, toActivityFailure } from '../db/errors';
import { AttemptQueries } from '../db/attempt-queries';
import type { Pool } from '../db/pool';
import { formatDuration } from '../domain/duration';
import type { Log } from '../log';
import { whileAlive } from './liveness';
import { signalOwnWorkflow } from './tell-workflow';
import { ACTIVITY, ACTIVITY_RETRYING_SIGNAL, APPLY_RETRY, DIFF_RETRY, type ActivityName, WORK_HEARTBEAT_INTERVAL_MS, type ActivityRetry, type RetrySettings } from '../shared';

/**
 * Temporal's backoff: the retry after failed attempt `attempt` (1-based) waits
 * initialInterval × backoffCoefficient^(attempt − 1), capped at maximumInterval.
 */
export function retryDelayMs(policy: RetrySettings, attempt: number): number {
  const delay = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, Math.max(0, attempt - 1));
  return Math.min(delay, policy.maximumIntervalMs);
}

/** Whether `attempt` is the last one the policy allows (maximumAttempts 0 = unlimited). */
export function isLastAttempt(policy: RetrySettings, attempt: number): boolean {
  return policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts;
}

/**
 * The policy the server reports for this activity (it may differ from the one the workflow asked for), completed
 * from `fallback` where it says nothing (an older server). Temporal's own defaults stand for the fields the
 * workflow left out: initial 1 s, coefficient 2, maximum 100 × initial.
 */
export function effectivePolicy(info: Pick<Info, 'retryPolicy'>, fallback: RetrySettings): RetrySettings & { nonRetryableErrorTypes: string[] } {
  const reported = info.retryPolicy;
  if (!reported) return { ...fallback, nonRetryableErrorTypes: [] };
  const initialIntervalMs = msOptionalToNumber(reported.initialInterval) ?? 1000;
  return {
    initialIntervalMs,
    backoffCoefficient: reported.backoffCoefficient ?? 2,
    maximumIntervalMs: msOptionalToNumber(reported.maximumInterval) ?? 100 * initialIntervalMs,
    maximumAttempts: reported.maximumAttempts ?? 0,
    nonRetryableErrorTypes: reported.nonRetryableErrorTypes ?? [],
  };
}

/**
 * Runs `work` while heartbeating every `intervalMs` (whatever the work is doing: a long query included), so that
 * Temporal gives the attempt to another worker soon after this one dies. `details` is heartbeated each time.
 */
export async function whileHeartbeating<T>(context: Pick<Context, 'heartbeat'>, work: () => Promise<T>, details?: () => unknown, intervalMs = WORK_HEARTBEAT_INTERVAL_MS): Promise<T> {
  const beat = (): void => context.heartbeat(details?.());
  beat();
  const timer = setInterval(beat, intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * The attempt's database work, stoppable: its statements are tagged, an earlier attempt of this activity still
 * running in the database (a worker that died, or lost Temporal) is killed first, and when Temporal gives this
 * attempt up (cancelled, timed out) its running statements are killed and its connections dropped.
 */
export async function attemptQueries(context: Pick<Context, 'info' | 'cancellationSignal'>, pool: Pool, log: Log): Promise<AttemptQueries> {
  const { info } = context;
  const queries = new AttemptQueries(pool, { workflowId: info.workflowExecution?.workflowId ?? info.activityType, activityId: info.activityId, attempt: info.attempt }, context.cancellationSignal);
  const killed = await queries.killPredecessors();
  if (killed > 0) log.info(`Stopped ${killed} database ${killed === 1 ? 'query' : 'queries'} of an earlier attempt that was still running`);
  return queries;
}

/**
 * What a failed attempt throws: the cancellation itself when Temporal gave the attempt up (the error of a killed
 * query is only its consequence), after its queries are killed.
 */
export async function failureOfStopped(err: unknown, context: Pick<Context, 'cancellationSignal'>, queries: AttemptQueries | undefined): Promise<unknown> {
  if (!context.cancellationSignal.aborted) return err;
  await queries?.stop();
  const reason: unknown = context.cancellationSignal.reason;
  return reason instanceof CancelledFailure ? reason : err;
}

export interface FailedAttempt {
  context: Context;
  log: Log;
  /** The activity's name, as the workflow knows it. */
  activity: ActivityName;
  /** How the log line names the work: "Transaction attempt 1 of 20 failed (…)". */
  what: string;
  /** The policy the workflow schedules the activity with (used where the server reports none). */
  policy: RetrySettings;
  /** Prints the lines of a final failure (the run fails now). */
  onFinalFailure: (message: string) => void;
}

/**
 * Decides what `err` means for this attempt and throws it the way Temporal must see it: a final failure (non-
 * retryable, or the last attempt) prints the final lines; a retried one prints one line with the next attempt's
 * delay and tells the workflow (signal `activityRetrying`), so that `status` and the Web UI show it.
 */
export async function failAttempt(err: unknown, options: FailedAttempt): Promise<never> {
  const { context, log } = options;
  const failure = toActivityFailure(err);
  const { attempt } = context.info;
  if (failure instanceof CancelledFailure) {
    // A cancel or reject of the run (or a lost heartbeat) stops the attempt: worth a WARN, never an ERROR.
    log.warn(`${options.what} attempt ${attempt} stopped (${failure.message || 'cancelled'})`);
    throw failure;
  }
  const policy = effectivePolicy(context.info, options.policy);
  if (!isRetryable(failure, policy.nonRetryableErrorTypes) || isLastAttempt(policy, attempt)) {
    options.onFinalFailure(failure.message);
    throw failure;
  }
  const delayMs = retryDelayMs(policy, attempt);
  const of = policy.maximumAttempts > 0 ? ` of ${policy.maximumAttempts}` : '';
  log.error(`${options.what} attempt ${attempt}${of} failed (${failure.message}), retrying in ${formatDuration(delayMs)}`);
  // Only the status and the Web UI would miss the retry; Temporal retries all the same.
  await signalOwnWorkflow(context, log, ACTIVITY_RETRYING_SIGNAL, {
    activity: options.activity,
    attempt: attempt + 1,
    maximumAttempts: policy.maximumAttempts,
    lastFailure: failure.message,
    nextAttemptAt: new Date(Date.now() + delayMs).toISOString(),
  } satisfies ActivityRetry);
  throw failure;
}

/** How each attempt wrapped by runAttempt is named in its log lines, and the policy the workflow schedules it with. */
const ATTEMPTED = {
  [ACTIVITY.plan]: { what: 'Planning', policy: DIFF_RETRY },
  [ACTIVITY.apply]: { what: 'Transaction', policy: APPLY_RETRY },
  [ACTIVITY.watchPlan]: { what: 'Watch cycle', policy: DIFF_RETRY },
} as const;

export interface AttemptHooks {
  /** What the attempt heartbeats while its work runs (its progress), read at each beat; a change is a sign of life. */
  progress: () => unknown;
  /** Turns an error of the work into the failure Temporal must see (e.g. a non-retryable type), before the verdict. */
  translate?: (err: unknown) => unknown;
  /** Prints the lines of a final failure (the run fails now). */
  onFinalFailure: (message: string) => void;
}

/** The liveness watch's timings (activities/liveness.ts), for tests: the stall limit (2 min) and the beat (2 s). */
export interface AttemptTimings {
  stallLimitMs?: number;
  heartbeatIntervalMs?: number;
}

/**
 * One attempt of the plan, the apply or a watch's cycle, wired once: its queries are stoppable (an earlier attempt still running is
 * killed first), it heartbeats on a timer while the work shows a sign of life (its progress changed, it waits its turn,
 * or a statement of its own runs in the database), a work without one for the stall limit is stopped and fails as
 * retryable, and a failure goes through failAttempt (one retry line, or the final lines), after the attempt's queries
 * are stopped when Temporal gave it up.
 */
export async function runAttempt<T>(
  activity: keyof typeof ATTEMPTED,
  deps: { pool: Pool; log: Log; timings?: AttemptTimings },
  hooks: AttemptHooks,
  work: (queries: AttemptQueries) => Promise<T>,
): Promise<T> {
  const context = Context.current();
  let queries: AttemptQueries | undefined;
  try {
    // Heartbeated too: killing a predecessor is a statement like the others.
    queries = await whileHeartbeating(context, () => attemptQueries(context, deps.pool, deps.log));
    const attempt = queries;
    return await whileAlive(context, () => work(attempt), {
      progress: hooks.progress,
      waiting: () => attempt.waiting,
      runningStatements: (timeoutMs) => attempt.runningStatements(timeoutMs),
      stop: () => attempt.stop(),
      stallLimitMs: deps.timings?.stallLimitMs,
      intervalMs: deps.timings?.heartbeatIntervalMs,
    });
  } catch (thrown) {
    const err = await failureOfStopped(thrown, context, queries);
    return failAttempt(hooks.translate ? hooks.translate(err) : err, { context, log: deps.log, activity, ...ATTEMPTED[activity], onFinalFailure: hooks.onFinalFailure });
  }
}
