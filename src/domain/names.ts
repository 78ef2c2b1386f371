/**
 * The names that cross the Temporal boundary and are recorded in histories: the workflow's type and default ids,
 * the activities, the failure types and the internal signal. Renaming one breaks every run in flight.
 * Re-exported by shared.ts.
 */

export const DEFAULT_TASK_QUEUE = 'charging-points-sync';
export const DEFAULT_WORKFLOW_ID = 'charging-points-sync';
export const WORKFLOW_TYPE = 'syncChargingPoints';

/** The activities' names, as the worker registers them: the workflow, the activities and the CLI name them from here. */
export const ACTIVITY = {
  collect: 'collectConnectorCounts',
  plan: 'diffStations',
  apply: 'applyMissingPoints',
  notify: 'sendNotification',
  watchCollect: 'collectWatchCounts',
  watchPlan: 'planWatchCycle',
  watchEndSessions: 'endWatchSessions',
} as const;
export type ActivityName = (typeof ACTIVITY)[keyof typeof ACTIVITY];

/** Non-retryable failure types, named in the retry policies. */
export const ERROR_TYPES = {
  configuration: 'ConfigurationError',
  database: 'DatabaseError',
  mqttRefused: 'MqttConnectionRefused',
  planMismatch: 'PlanMismatchError',
  neverCollected: 'NeverCollectedError',
  /** A TLS setting that does not fit the broker or the database (wrong CA, missing client certificate, …). */
  tls: 'TlsError',
  /** A defect or an impossible state (e.g. ids that would pass 2^53, a missing run record): retrying cannot help. */
  unexpected: 'UnexpectedError',
} as const;

/**
 * The failure type a failed run ends with: its message and cause are those of the error that failed it, and its
 * details hold the run's final SyncStatus (workflows/final-status.ts reads it back).
 */
export const SYNC_FAILED = 'SyncFailed';

/** The failure type of an approval or rejection that the workflow refuses (stale fingerprint, too late, already decided). */
export const DECISION_REFUSED = 'DecisionRefused';

/** A retryable failure type: a database error that a later attempt may well not meet (see db/errors.ts). */
export const TRANSIENT_DATABASE_ERROR = 'TransientDatabaseError';

/**
 * The other retryable one: an attempt of the plan or the apply that showed no sign of life for the stall limit, stopped
 * (activities/liveness.ts).
 */
export const ATTEMPT_STALLED = 'AttemptStalled';

/** Sent by a failed attempt of the plan or the apply to its own workflow, so that the workflow can show the retry. */
export const ACTIVITY_RETRYING_SIGNAL = 'activityRetrying';

/**
 * Sent by a collector to its own workflow once per new connection problem (and once with null when it connects after
 * one), so that `status`, the progress line of `run` and the Web UI show it within seconds: heartbeats are throttled.
 */
export const COLLECTOR_CONNECTION_SIGNAL = 'collectorConnection';
