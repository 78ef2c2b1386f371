import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ACTIVITY, type ActivityRetry, type CollectorHeartbeat } from '../shared';

/**
 * The collection window's live counters: the heartbeat details of the pending collect activities, summed over the
 * run's collectors (`--collectors N`: each hears its share of the stream), with the last connection problem of a
 * collector that is not connected (heartbeats are throttled: the status query has it sooner, by signal).
 */
export async function collectionProgress(handle: WorkflowHandle): Promise<CollectorHeartbeat | undefined> {
  const description = await handle.describe();
  let total: CollectorHeartbeat | undefined;
  for (const activity of description.raw.pendingActivities ?? []) {
    if (activity.activityType?.name !== ACTIVITY.collect) continue;
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const one = defaultPayloadConverter.fromPayload<CollectorHeartbeat>(payload);
    const connectionError = one.connectionError ?? total?.connectionError;
    total = {
      messages: (total?.messages ?? 0) + one.messages,
      devices: (total?.devices ?? 0) + one.devices,
      rejected: (total?.rejected ?? 0) + one.rejected,
      ...(connectionError ? { connectionError } : {}),
    };
  }
  return total;
}

const STATES: Record<number, string> = {
  [temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED]: 'scheduled',
  [temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED]: 'started',
  [temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED]: 'cancel-requested',
};

function isoTime(timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): string | undefined {
  if (!timestamp || timestamp.seconds == null) return undefined;
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * The retry in progress, as the server sees it: a pending activity past its first attempt (or with a failure on
 * record). `attempt` is the attempt running now or due next; `nextAttemptAt` is set while it waits for its backoff.
 */
export function retryFromDescription(description: Pick<WorkflowExecutionDescription, 'raw'>): ActivityRetry | undefined {
  for (const activity of description.raw.pendingActivities ?? []) {
    const attempt = activity.attempt ?? 1;
    if (attempt <= 1 && !activity.lastFailure) continue;
    return {
      activity: activity.activityType?.name ?? 'unknown activity',
      attempt,
      maximumAttempts: activity.maximumAttempts ?? 0,
      lastFailure: activity.lastFailure?.message ?? (activity.lastFailure?.timeoutFailureInfo ? 'timed out (worker lost?)' : 'unknown'),
      nextAttemptAt: isoTime(activity.nextAttemptScheduleTime),
      state: STATES[activity.state ?? 0] ?? 'unknown',
    };
  }
  return undefined;
}
