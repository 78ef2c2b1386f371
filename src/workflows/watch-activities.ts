/** How the watch schedules its activities (the apply is the sync's own, with the sync's retry policy). */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { SyncActivities, WatchActivities } from '../activities';
import { APPLY_HEARTBEAT_TIMEOUT_MS, APPLY_RETRY, DIFF_HEARTBEAT_TIMEOUT_MS, DIFF_RETRY, ERROR_TYPES, type RetrySettings } from '../shared';

const NEVER_RETRIED = [ERROR_TYPES.database, ERROR_TYPES.planMismatch, ERROR_TYPES.unexpected, ERROR_TYPES.tls, ERROR_TYPES.configuration];

const retry = (settings: RetrySettings) => ({
  initialInterval: settings.initialIntervalMs,
  backoffCoefficient: settings.backoffCoefficient,
  maximumInterval: settings.maximumIntervalMs,
  maximumAttempts: settings.maximumAttempts,
  nonRetryableErrorTypes: NEVER_RETRIED,
});

/**
 * The collectors run for the whole workflow run (continue-as-new ends it within a day; see watch.ts) and heartbeat
 * every second: a lost worker is noticed within 10 s and the collector resumes its session on another. They are
 * retried without limit (a broker or a database that is down comes back), but not for refused credentials.
 */
export const { collectWatchCounts } = proxyActivities<WatchActivities>({
  summary: 'Listen to MQTT and keep each device’s highest count',
  startToCloseTimeout: '2 days',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', nonRetryableErrorTypes: [ERROR_TYPES.mqttRefused, ERROR_TYPES.configuration, ERROR_TYPES.tls] },
});

export const { planWatchCycle } = proxyActivities<WatchActivities>({
  summary: 'Plan the devices that changed since the last cycle',
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: DIFF_HEARTBEAT_TIMEOUT_MS,
  retry: retry(DIFF_RETRY),
});

export const { applyMissingPoints } = proxyActivities<SyncActivities>({
  summary: 'Create the cycle’s missing points in one transaction',
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: APPLY_HEARTBEAT_TIMEOUT_MS,
  retry: retry(APPLY_RETRY),
});

export const { endWatchSessions } = proxyActivities<WatchActivities>({
  summary: 'End the collectors’ MQTT sessions on the broker',
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3 },
});

export const { sendNotification } = proxyActivities<SyncActivities>({
  summary: 'Notify the operators (NOTIFY_WEBHOOK_URL)',
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '8s', maximumAttempts: 5, nonRetryableErrorTypes: [ERROR_TYPES.configuration] },
});
