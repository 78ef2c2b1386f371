/**
 * Retry policies of the plan and the apply, in one place: the workflow schedules the activities with them, and
 * the activities use them (or the policy the server reports) to say when the next attempt is due.
 */
export interface RetrySettings {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0 = unlimited. */
  maximumAttempts: number;
}

export const DIFF_RETRY: RetrySettings = { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 30_000, maximumAttempts: 10 };
export const APPLY_RETRY: RetrySettings = { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 30_000, maximumAttempts: 20 };

/** How often the plan and the apply heartbeat while their queries run, and how soon a silent one is given up. */
export const WORK_HEARTBEAT_INTERVAL_MS = 2000;
export const DIFF_HEARTBEAT_TIMEOUT_MS = 30_000;
export const APPLY_HEARTBEAT_TIMEOUT_MS = 10_000;
