import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { CollectionProgress } from '../shared';

/** The collection window's live counters: the heartbeat details of the pending collect activity. */
export async function collectionProgress(handle: WorkflowHandle): Promise<CollectionProgress | undefined> {
  const description = await handle.describe();
  for (const activity of description.raw.pendingActivities ?? []) {
    if (activity.activityType?.name !== 'collectConnectorCounts') continue;
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (!payload) return undefined;
    return defaultPayloadConverter.fromPayload<CollectionProgress>(payload);
  }
  return undefined;
}
