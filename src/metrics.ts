/**
 * The sync's own Prometheus metrics: names (one place, also for the workflow's), help texts, label names, and the
 * few calls the activities make. They go through Temporal's metric meter, so that one endpoint
 * (METRICS_BIND_ADDRESS, temporal/runtime.ts) serves them beside the SDK's; without it the meter discards them.
 * Labels follow the SDK's own metrics (snake_case: `namespace`, `task_queue`, `workflow_type`, `activity_type`) and
 * never take a value that grows without bound (no workflow or run id).
 * Only type imports here: the workflow bundle imports the names and the sink's type.
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';
import type { Sinks } from '@temporalio/workflow';
import type { Phase } from './shared';

/** Counter names without `_total`: the exporter adds it (countersTotalSuffix). */
export const METRICS = {
  messagesReceived: 'cp_sync_messages_received',
  messagesRejected: 'cp_sync_messages_rejected',
  brokerDropped: 'cp_sync_broker_dropped_messages',
  devices: 'cp_sync_plan_devices',
  devicesNotFound: 'cp_sync_plan_devices_not_found',
  pointsToCreate: 'cp_sync_plan_points_to_create',
  pointsCreated: 'cp_sync_points_created',
  activityAttempts: 'cp_sync_activity_attempts',
  plans: 'cp_sync_plans',
  approvalWait: 'cp_sync_approval_wait_seconds',
  runsAwaitingApproval: 'cp_sync_runs_awaiting_approval',
  oldestApprovalWait: 'cp_sync_oldest_approval_wait_seconds',
  watchCycle: 'cp_sync_watch_cycle_seconds',
  watchPlanPoints: 'cp_sync_watch_plan_points',
  watchLatency: 'cp_sync_watch_first_message_to_applied_seconds',
} as const;

/** Approval waits are minutes to days: the exporter's default buckets (up to 10 s) would put them all in +Inf. */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [METRICS.approvalWait]: [60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600],
  // A cycle is a plan and maybe an apply: milliseconds to a minute.
  [METRICS.watchCycle]: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60],
  // Points per cycle's plan: a handful, up to a fleet's first cycles (20,000 devices a cycle).
  [METRICS.watchPlanPoints]: [0, 1, 2, 5, 10, 50, 100, 500, 1000, 5000, 20_000, 100_000],
  // The targets are 10 s (5 s interval) and 60 s (30 s interval); approved plans take longer.
  [METRICS.watchLatency]: [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 900, 3600, 24 * 3600],
};

/** An attempt that failed may be retried: `cp_sync_plans_total{outcome="failed"}` counts the runs that gave up. */
export type AttemptOutcome = 'succeeded' | 'failed' | 'cancelled';

/** Where an activity attempt ran, as the SDK labels its own activity metrics. */
export type ActivityLabels = {
  namespace: string;
  task_queue: string;
  activity_type: string;
};

/** Where a run runs, as the SDK labels its own workflow metrics. */
export type RunLabels = {
  namespace: string;
  task_queue: string;
  workflow_type: string;
};

/** A run's labels from its WorkflowInfo, as the SDK labels its own workflow metrics. */
export function runLabels(info: { namespace: string; taskQueue: string; workflowType: string }): RunLabels {
  return { namespace: info.namespace, task_queue: info.taskQueue, workflow_type: info.workflowType };
}

/**
 * What the workflow tells the worker's metrics (workflows/metrics.ts → run-metrics.ts), through a sink: sinks are
 * not in the history, so the call's shape may change without breaking a replay. The worker labels the values
 * itself, from the run's WorkflowInfo: the workflow's own metric meter would add camelCase labels (`taskQueue`).
 */
export interface RunMetricsSinks extends Sinks {
  runMetrics: {
    /**
     * A phase change; `awaitingSinceMs` is when the plan started waiting for approval (Unix ms), if it did, and
     * `deadlineMs` when that wait expires (absent from a workflow of an earlier version).
     */
    phaseChanged(from: Phase, to: Phase, awaitingSinceMs: number | undefined, deadlineMs?: number): void;
  };
  /** The watch's cycles (workflows/watch-metrics.ts → watch-metrics.ts); absent from workers of earlier versions. */
  watchMetrics: {
    /** A cycle ended: how long it took (plan, decision, apply), its plan's points, and what became of the plan. */
    cycleEnded(durationMs: number, pointsToCreate: number, decision: WatchCycleDecision): void;
    /** A plan's points were created: `oldestHeardMs` is when its oldest change was heard (Unix ms). */
    pointsApplied(oldestHeardMs: number, created: number): void;
  };
}

/** A cycle's decision, as the watch's status tells it (watch-shared.ts WatchCycle['decision']). */
export type WatchCycleDecision = 'nothing-to-do' | 'applied' | 'awaiting-approval';

export interface SyncMetrics {
  /** A batch of MQTT messages stored by the collector (received includes the rejected ones). */
  collected(received: number, rejected: number): void;
  /** The broker's own dropped-messages counter rose by `count` during a window (all its clients). */
  brokerDropped(count: number): void;
  /** The plan this worker built last. */
  planBuilt(plan: { processedDevices: number; notFound: number; pointsToCreate: number }): void;
  pointsCreated(count: number): void;
  attempt(labels: ActivityLabels, outcome: AttemptOutcome): void;
}

export function createSyncMetrics(meter: MetricMeter): SyncMetrics {
  const received = meter.createCounter(METRICS.messagesReceived, undefined, 'MQTT messages received on the connectors-count topics, rejected ones included');
  const rejected = meter.createCounter(METRICS.messagesRejected, undefined, 'MQTT messages rejected (bad topic or payload)');
  const dropped = meter.createCounter(METRICS.brokerDropped, undefined, "Messages the broker reported dropped ($SYS, all its clients) while a collector listened");
  const devices = meter.createGauge(METRICS.devices, 'int', undefined, 'Unique devices in the last plan this worker built');
  const notFound = meter.createGauge(METRICS.devicesNotFound, 'int', undefined, 'Devices without a station in the last plan this worker built');
  const toCreate = meter.createGauge(METRICS.pointsToCreate, 'int', undefined, 'Points to create in the last plan this worker built');
  const created = meter.createCounter(METRICS.pointsCreated, undefined, 'Charging points created in ocpp-db');
  const attempts = meter.createCounter(
    METRICS.activityAttempts,
    undefined,
    'Activity attempts by activity type and outcome (succeeded, failed, cancelled; a failed attempt may be retried)',
  );
  return {
    collected(count, rejectedCount) {
      if (count > 0) received.add(count);
      if (rejectedCount > 0) rejected.add(rejectedCount);
    },
    brokerDropped(count) {
      if (count > 0) dropped.add(count);
    },
    planBuilt(plan) {
      devices.set(plan.processedDevices);
      notFound.set(plan.notFound);
      toCreate.set(plan.pointsToCreate);
    },
    pointsCreated(count) {
      if (count > 0) created.add(count);
    },
    attempt(labels, outcome) {
      attempts.add(1, { ...labels, outcome } satisfies MetricTags);
    },
  };
}

export const noMetrics: SyncMetrics = { collected: () => undefined, brokerDropped: () => undefined, planBuilt: () => undefined, pointsCreated: () => undefined, attempt: () => undefined };
