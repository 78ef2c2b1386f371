/**
 * The watch benchmark's figures from the workflow's histories: every run of the chain (first run → continue-as-new
 * → …), each run's size, and each cycle that changed something: how long its plan and its apply ran (activity
 * started → completed, so the database work plus the activity's own overhead: an upper bound of its database time).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { WatchCycleOutcome } from '../../src/watch-shared';
import { eventMs } from './harness';

const EventType = temporal.api.enums.v1.EventType;

export interface WatchHistoryFigures {
  runs: number;
  historyBytesPerRun: number[];
  /** Each cycle with changed devices: its devices and its plan + apply time in seconds. */
  changedCycles: { changedDevices: number; seconds: number }[];
}

function outcomeOf(event: temporal.api.history.v1.IHistoryEvent): WatchCycleOutcome | undefined {
  const data = event.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as WatchCycleOutcome) : undefined;
}

export async function watchHistoryFigures(client: Client, workflowId: string, firstRunId: string): Promise<WatchHistoryFigures> {
  const figures: WatchHistoryFigures = { runs: 0, historyBytesPerRun: [], changedCycles: [] };
  for (let runId: string | undefined = firstRunId; runId; ) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    figures.runs++;
    figures.historyBytesPerRun.push(temporal.api.history.v1.History.encode(history).finish().length);
    const activities = new Map<number, { type: string; startedAt?: number }>();
    let current: { changedDevices: number; seconds: number } | undefined;
    runId = undefined;
    for (const event of history.events ?? []) {
      if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        activities.set(Number(event.eventId), { type: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '' });
      } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        const activity = activities.get(Number(event.activityTaskStartedEventAttributes?.scheduledEventId));
        if (activity) activity.startedAt = eventMs(event);
      } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const activity = activities.get(Number(event.activityTaskCompletedEventAttributes?.scheduledEventId));
        const took = activity?.startedAt === undefined ? 0 : (eventMs(event) - activity.startedAt) / 1000;
        if (activity?.type === 'planWatchCycle') {
          const changedDevices = outcomeOf(event)?.changedDevices ?? 0;
          current = changedDevices > 0 ? { changedDevices, seconds: took } : undefined;
          if (current) figures.changedCycles.push(current);
        } else if (activity?.type === 'applyMissingPoints' && current) current.seconds += took;
      } else if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW) {
        runId = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
    }
  }
  return figures;
}
