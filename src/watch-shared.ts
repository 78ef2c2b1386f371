/**
 * Names and payload types of `cp-sync watch`, the always-on reconciliation: shared by its workflow, its activities,
 * the CLI and the tests (beside shared.ts, which holds the sync's).
 */
import type { ApplyResult, ApprovalRecord, BrokerConnectionProblem, PlanSummary, RefusedDecision, RejectionRecord } from './shared';

export const WATCH_WORKFLOW_TYPE = 'watchChargingPoints';
export const DEFAULT_WATCH_ID = 'charging-points-watch';
export const DEFAULT_WATCH_INTERVAL_MS = 30_000;
/**
 * Cycles per workflow run before it continues as new (unless Temporal suggests it earlier). A busy cycle adds 20–42 KB
 * of history (measured by `npm run bench -- --watch`, docs/performance.md): 60 keep a run near 2.5 MB at worst,
 * within 4 MiB, and at the default interval a run lasts half an hour.
 */
export const DEFAULT_CYCLES_PER_RUN = 60;
/**
 * With --max-silent-stations: a live station counts as silent when no device of the watch named it within this
 * horizon (longer than any station's reporting period), and the guard holds no plan before the watch has listened
 * this long (not heard yet is not silence).
 */
export const DEFAULT_SILENCE_HORIZON_MS = 3_600_000;
/** The shortest interval accepted: a cycle is a timer, a plan and maybe an apply; faster only grows the history. */
export const MIN_WATCH_INTERVAL_MS = 1000;

export const WATCH_PHASES = ['watching', 'awaiting-approval', 'stopped'] as const;
export type WatchPhase = (typeof WATCH_PHASES)[number];

export interface WatchInput {
  /** How often a cycle plans what changed, in milliseconds. */
  intervalMs: number;
  /** Highest connector count accepted from a payload. */
  maxConnectors: number;
  /** MQTT account (topic level 1) to listen to; all accounts by default. */
  account?: string;
  /** Collector activities on the watch's shared subscription; 1 or absent: one, with a plain subscription. */
  collectors?: number;
  /** A cycle's plan of at most this many points (and within autoApproveMaxStations) is applied at once. */
  autoApproveMaxPoints?: number;
  autoApproveMaxStations?: number;
  /**
   * When more live stations than this share (0..100) were not heard within the silence horizon, a cycle's plan
   * waits for a person, within the auto-approve limits or not. Absent: no silence guard.
   */
  maxSilentStations?: number;
  /** The silence guard's horizon in milliseconds; DEFAULT_SILENCE_HORIZON_MS when absent. */
  silenceHorizonMs?: number;
  /** Cycles per run before continue-as-new; DEFAULT_CYCLES_PER_RUN when absent. */
  cyclesPerRun?: number;
}

/** One cycle, as `status` shows the last one. */
export interface WatchCycle {
  cycle: number;
  at: string;
  changedDevices: number;
  pointsToCreate: number;
  created: number;
  /** What became of the cycle's plan: applied at once, waiting, nothing to do, or superseding a waiting one. */
  decision: 'nothing-to-do' | 'applied' | 'awaiting-approval';
}

/** A cycle's plan that waits for an operator (over the auto-approve limits). */
export interface PendingWatchPlan {
  cycle: number;
  /** The plan's rows in the tool's tables (and the apply's run record). */
  runKey: string;
  plan: PlanSummary;
  since: string;
  /** Why it was not applied at once: the auto-approve limits, or too many silent stations. */
  autoApproveExceeded?: string;
  /** The oldest cycle whose devices this plan covers (a superseding plan covers the superseded one's too). */
  fromCycle: number;
  /** When the plan's oldest change was heard (ISO), for the latency metric once it is applied. */
  oldestHeard?: string;
}

/** A plan that a newer cycle's plan replaced while it waited: approving it is refused, saying so. */
export interface SupersededPlan {
  fingerprint: string;
  cycle: number;
  by: number;
}

/** The last plan a cycle made (waiting, applied or with nothing to create): what `cp-sync plan <watch>` exports. */
export interface CyclePlan {
  cycle: number;
  /** Its rows in the tool's tables. */
  runKey: string;
  plan: PlanSummary;
}

/** What the watch carries from one run to the next (continue-as-new). */
export interface WatchCarry {
  startedAt: string;
  cycles: number;
  createdTotal: number;
  /** Points created on `createdDay` (UTC date), for "created today". */
  createdToday: number;
  createdDay: string;
  devicesHeard: number;
  lastCycle: WatchCycle | null;
  pending: PendingWatchPlan | null;
  superseded: SupersededPlan[];
  runs: number;
  /** Absent in watches started before it was kept. */
  lastPlan?: CyclePlan | null;
}

/** The watch's `status` query. `plan` repeats `pending`'s plan so that `cp-sync approve` and the Web UI read it as a sync's. */
export interface WatchStatus extends WatchCarry {
  kind: 'watch';
  phase: WatchPhase;
  input: WatchInput;
  plan?: PlanSummary;
  autoApproveExceeded?: string;
  lastApply?: ApplyResult;
  lastApproval?: ApprovalRecord;
  lastRejection?: RejectionRecord;
  refusedApprovals: RefusedDecision[];
  refusedRejections: RefusedDecision[];
  stopping?: boolean;
  error?: string;
  /** A collector's trouble reaching the broker (naming the setting), until it connects again. */
  brokerProblem?: BrokerConnectionProblem;
}

/** The result of one cycle's plan (activities/watch-cycle.ts). */
export interface WatchCycleOutcome {
  /** Devices claimed by this cycle: new, risen, or heard again without a station. */
  changedDevices: number;
  newDevices: number;
  /** The cycle's plan, when it planned anything (its rows under `runKey`). */
  plan?: PlanSummary;
  runKey?: string;
  /** When the plan creates points: when its oldest change was heard (ISO time), for the watch's latency metric. */
  oldestHeard?: string;
  /** Asked for by `silenceSince` and counted when the plan creates points: live stations, and those not heard since. */
  silence?: WatchSilence;
}

export interface WatchSilence {
  liveStations: number;
  silentStations: number;
}

export interface WatchCycleInput {
  workflowId: string;
  cycle: number;
  /** Plan the devices claimed since this cycle (a waiting plan's too, so that the newer plan supersedes it whole). */
  fromCycle: number;
  /** With the silence guard: count the live stations that no device of the watch named since then (ISO time). */
  silenceSince?: string;
}

export interface WatchCollectInput {
  workflowId: string;
  account?: string;
  maxConnectors: number;
  collector?: { index: number; of: number };
}

export interface WatchStopRequest {
  by?: string;
  reason?: string;
}
