/**
 * Names and payload types shared by the workflow, the worker, the CLI and the tests.
 * Anything that crosses the Temporal boundary is declared here, once.
 */
import type { Phase } from './domain/phases';
import type { PlanSummary } from './domain/plan-types';

export {
  ACTIVITY,
  ACTIVITY_RETRYING_SIGNAL,
  ATTEMPT_STALLED,
  COLLECTOR_CONNECTION_SIGNAL,
  DECISION_REFUSED,
  DEFAULT_TASK_QUEUE,
  DEFAULT_WORKFLOW_ID,
  ERROR_TYPES,
  SYNC_FAILED,
  TRANSIENT_DATABASE_ERROR,
  WORKFLOW_TYPE,
  type ActivityName,
} from './domain/names';

/** The MQTT topic filter of the original tool; `<account>` narrows it to one account. The shape lives in domain/topic. */
export { ALL_ACCOUNTS, topicFilterFor } from './domain/topic';

/** The phases and their rules live in domain/phases.ts; re-exported here, where the payload types use them. */
export { FINAL_PHASES, PHASES, SUCCESSFUL_PHASES, type Phase } from './domain/phases';

/** The plan's summary, as the payload types below carry it, lives in domain/plan-types.ts. */
export { PLAN_SAMPLE_LIMIT, type AmbiguousDevice, type PlanStation, type PlanSummary, type RejectedMessage, type SilentStation } from './domain/plan-types';

/** The retry policies and heartbeats of the plan and the apply live in domain/retry-settings.ts. */
export {
  APPLY_HEARTBEAT_TIMEOUT_MS,
  APPLY_RETRY,
  DIFF_HEARTBEAT_TIMEOUT_MS,
  DIFF_RETRY,
  WORK_HEARTBEAT_INTERVAL_MS,
  type RetrySettings,
} from './domain/retry-settings';

export interface SyncInput {
  /** Length of the collection window, in milliseconds. */
  collectorDurationMs: number;
  /** How long the plan waits for an operator before the run ends as `expired`, in milliseconds. */
  approvalTimeoutMs: number;
  /** Highest connector count accepted from a payload. */
  maxConnectors: number;
  /** Test mode: every device is analysed; only this device's station is written. */
  testDeviceId?: string;
  /** Stop after the plan. */
  dryRun?: boolean;
  /** Apply without waiting for an operator, whatever the plan's size. */
  autoApprove?: boolean;
  /** Apply without an operator a plan that creates at most this many points (and is within autoApproveMaxStations). */
  autoApproveMaxPoints?: number;
  /** Apply without an operator a plan that changes at most this many stations (and is within autoApproveMaxPoints). */
  autoApproveMaxStations?: number;
  /** MQTT account (topic level 1) to listen to; `+` (all accounts) by default. */
  account?: string;
  /**
   * Collector activities that split the stream over an MQTT shared subscription (`$share/…`), each with a session
   * of its own, on as many workers as there are. 1 or absent: one collector, with a plain subscription.
   */
  collectors?: number;
  /**
   * The share of live stations (percent, 0..100) that may send nothing before the plan is held for a person: above
   * it, no auto-approve applies the plan. Absent: 50 (domain/silence.ts).
   */
  maxSilentStations?: number;
}


/** The most collectors one sync may run (each holds a connection and a session on the broker). */
export const MAX_COLLECTORS = 64;

/** Counters of the collection window, as heartbeated and as stored. */
export interface CollectionProgress {
  messages: number;
  devices: number;
  rejected: number;
}

/** Why the collector cannot reach the MQTT broker, naming the setting to check (mqtt/broker-problem.ts). */
export interface BrokerConnectionProblem {
  /** The variable to check first: `CLOUD_HOST`, `CLOUD_CREDENTIALS`, `CLOUD_TLS_CA_PATH`, … */
  setting: string;
  /** One line for people: `CLOUD_HOST 127.0.0.1:1999: connection refused (ECONNREFUSED)`. */
  message: string;
  /** When the attempt failed (ISO time). */
  at: string;
  /** Whether a later attempt may succeed (a network error, a busy broker) or not (refused credentials, TLS). */
  retryable: boolean;
  tls?: boolean;
}

/** What the collector heartbeats: its counters and, while it cannot reach the broker, the last connection problem. */
export interface CollectorHeartbeat extends CollectionProgress {
  /** This collector has been connected in this run (an earlier attempt included). */
  connected?: boolean;
  connectionError?: BrokerConnectionProblem;
}

/** What the collection activity returns when it ends by itself rather than by the window's cancellation. */
export interface CollectionOutcome extends CollectionProgress {
  /** A retry of a lost collector started after the window had closed: it did not listen; what was stored is used. */
  windowClosedBeforeRetry?: boolean;
}

export interface ApproveSignal {
  /** The plan's fingerprint as the approver saw it; a different one is refused. */
  fingerprint?: string;
  by?: string;
  comment?: string;
}

export interface RejectSignal {
  reason?: string;
  by?: string;
}

export interface ApprovalRecord {
  by: string;
  comment?: string;
  at: string;
  fingerprint: string;
  auto: boolean;
}

/** An approval or rejection that the workflow did not accept, and why. */
export interface RefusedDecision {
  by: string;
  fingerprint?: string;
  reason: string;
  at: string;
}

export interface RejectionRecord {
  by: string;
  reason?: string;
  at: string;
}

export interface ApplyResult {
  created: number;
  stationsChanged: number;
  /** Points that the plan wanted but that already existed when applying (added by someone else meanwhile). */
  alreadyPresent: number;
  /** Planned stations that were deleted (soft or hard) before the apply; nothing is written for them. */
  stationsGone: number;
}

/**
 * An activity that is being retried, as `status` shows it: `attempt` is the attempt that runs now or is due next
 * (so `attempt - 1` attempts have failed), `lastFailure` the reason of the last failed one.
 */
export interface ActivityRetry {
  activity: string;
  attempt: number;
  /** 0 when unlimited. */
  maximumAttempts: number;
  lastFailure: string;
  /** When the next attempt is due (absent while an attempt runs). */
  nextAttemptAt?: string;
  /** From the server (`cp-sync status`): `scheduled` (waiting for its backoff or a worker) or `started`. */
  state?: string;
}

export interface SyncStatus {
  phase: Phase;
  /** Set when the collection window did not end normally (e.g. its worker died near the end). */
  collectionNote?: string;
  startedAt: string;
  input: SyncInput;
  plan?: PlanSummary;
  approval?: ApprovalRecord;
  refusedApprovals: RefusedDecision[];
  /** Rejections that came too late (after an approval, or once the write had started). */
  refusedRejections: RefusedDecision[];
  rejection?: RejectionRecord;
  approvalDeadline?: string;
  apply?: ApplyResult;
  error?: string;
  /** The phase the run was in when it failed. */
  failedDuring?: Phase;
  /** Set while the current activity is being retried after a failed attempt; cleared when it ends. */
  retry?: ActivityRetry;
  /**
   * While collecting: the collector's last problem reaching the MQTT broker (naming the setting), as it signalled it;
   * cleared once it connects. Absent in runs before it existed.
   */
  connectionError?: BrokerConnectionProblem;
  /** Why an auto-approve limit did not apply the plan by itself (it waited for an operator instead). */
  autoApproveExceeded?: string;
  /** Set when more live stations than maxSilentStations sent nothing: why the plan waits for a person. */
  tooManySilent?: string;
  /** The phase the run was in when it was cancelled (phase `cancelled`). */
  cancelledDuring?: Phase;
  /** A cancel during the apply: the apply's transaction was rolled back, nothing was written. */
  rolledBack?: boolean;
  /** The webhook notifications of this run (NOTIFY_WEBHOOK_URL), oldest first; absent in runs before notifications. */
  notifications?: NotificationRecord[];
}

/** The moments an operator is told about (NOTIFY_WEBHOOK_URL). */
export const NOTIFICATION_EVENTS = ['awaiting-approval', 'applied', 'expired', 'rejected', 'failed', 'heard-nothing', 'cancelled'] as const;
export type NotificationEventName = (typeof NOTIFICATION_EVENTS)[number];

/**
 * What the workflow hands the notify activity: a summary of the run, never the webhook's URL (the worker reads it
 * from its own environment).
 */
export interface NotificationEvent {
  event: NotificationEventName;
  workflowId: string;
  runId: string;
  plan?: Pick<PlanSummary, 'fingerprint' | 'pointsToCreate' | 'stationsToChange' | 'processedDevices' | 'notFound' | 'rejected' | 'testDeviceId'>;
  approvalDeadline?: string;
  /** Why the plan was not applied by the auto-approve limit. */
  autoApproveExceeded?: string;
  /** Why the plan waits for a person: too many live stations sent nothing. */
  tooManySilent?: string;
  approvedBy?: string;
  rejectedBy?: string;
  rejectionReason?: string;
  created?: number;
  stationsChanged?: number;
  error?: string;
  failedDuring?: Phase;
  cancelledDuring?: Phase;
  /** How the run ended, in the words of the Web UI and `cp-sync list` (domain/run-text.ts); absent before the end. */
  outcome?: string;
}

/** What the notify activity did: `sent`, or `off` when the worker has no NOTIFY_WEBHOOK_URL. */
export interface NotificationOutcome {
  delivery: 'sent' | 'off';
}

/** One notification as the run's status shows it. */
export interface NotificationRecord {
  event: NotificationEventName;
  /** `pending` while the activity runs or retries; `failed` once its retries are spent (the sync goes on regardless). */
  state: 'pending' | 'sent' | 'off' | 'failed';
  /** Why it failed (never the webhook's URL). */
  error?: string;
  at: string;
}

/** The workflow's result: its last status plus the report's figures. `result --json` prints it. */
export interface SyncResult extends SyncStatus {
  created: number;
  processedDevices: number;
  /** Device ids with no station (first PLAN_SAMPLE_LIMIT; see notFoundCount). */
  notFound: string[];
  notFoundCount: number;
  rejected: number;
  fingerprint?: string;
}
