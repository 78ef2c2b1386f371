/**
 * How the workflow schedules its activities: timeouts, heartbeats and retry policies, in one place. Each export is
 * the activity to call; its name comes from ACTIVITY (shared.ts), as the worker registers it.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import { formatDuration } from '../domain/duration';
import { ACTIVITY, APPLY_HEARTBEAT_TIMEOUT_MS, APPLY_RETRY, DIFF_HEARTBEAT_TIMEOUT_MS, DIFF_RETRY, ERROR_TYPES, type RetrySettings } from '../shared';

/** The activities throw these as non-retryable already; naming them here keeps the policy honest on its own. */
const NEVER_RETRIED = [ERROR_TYPES.database, ERROR_TYPES.planMismatch, ERROR_TYPES.neverCollected, ERROR_TYPES.unexpected, ERROR_TYPES.tls];

function retryPolicy(settings: RetrySettings) {
  return {
    initialInterval: settings.initialIntervalMs,
    backoffCoefficient: settings.backoffCoefficient,
    maximumInterval: settings.maximumIntervalMs,
    maximumAttempts: settings.maximumAttempts,
    nonRetryableErrorTypes: NEVER_RETRIED,
  };
}

/**
 * The plan and the apply heartbeat on a timer while their queries run (activities/attempts.ts): a lost worker is
 * noticed within the heartbeat timeout and the attempt runs again on another worker.
 */
function heartbeatingWork(summary: string, heartbeatTimeoutMs: number, retry: RetrySettings, cancellationType?: ActivityCancellationType) {
  return proxyActivities<SyncActivities>({ summary, startToCloseTimeout: '30 minutes', heartbeatTimeout: heartbeatTimeoutMs, retry: retryPolicy(retry), cancellationType });
}

/** A plan stopped by a rejection or a cancel ends (its queries killed) before the run does. */
export const buildPlan = heartbeatingWork(
  'Build the plan: devices against stations and their live points',
  DIFF_HEARTBEAT_TIMEOUT_MS,
  DIFF_RETRY,
  ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
)[ACTIVITY.plan];
/**
 * A cancelled run waits for the apply to confirm its cancellation: the activity learns of it at its next heartbeat,
 * kills its queries and rolls the transaction back, so that `cancelled` can say nothing was written (or the apply
 * committed first, and the run ends `applied`).
 */
export const applyPlan = heartbeatingWork(
  'Create the approved missing points in one transaction',
  APPLY_HEARTBEAT_TIMEOUT_MS,
  APPLY_RETRY,
  ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
)[ACTIVITY.apply];

/** The collection of a window of `durationMs`: cancelled by the workflow when the window closes. */
export function collectorFor(durationMs: number): SyncActivities[typeof ACTIVITY.collect] {
  return proxyActivities<SyncActivities>({
    summary: `Listen to MQTT for ${formatDuration(durationMs)}`,
    // The window plus time to connect and store the last counts.
    startToCloseTimeout: durationMs + 5 * 60_000,
    // Counts are stored and heartbeated every second: a lost worker is noticed, and replaced, within seconds.
    heartbeatTimeout: '10s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '15s',
      nonRetryableErrorTypes: [ERROR_TYPES.mqttRefused, ERROR_TYPES.database, ERROR_TYPES.configuration, ERROR_TYPES.tls],
    },
  })[ACTIVITY.collect];
}

/**
 * Short and bounded: a webhook that does not answer within 10 s is given up for that attempt, and after 5 attempts
 * (about 15 s of backoff) or one minute in all. A receiver that fails three times is still reached.
 */
export const sendNotification = proxyActivities<SyncActivities>({
  summary: 'Notify the operators (NOTIFY_WEBHOOK_URL)',
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '8s', maximumAttempts: 5, nonRetryableErrorTypes: [ERROR_TYPES.configuration] },
})[ACTIVITY.notify];
