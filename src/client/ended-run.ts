/**
 * The status of a run that ended without a result, as the workflow recorded it: the final status its failure carries
 * (workflows/final-status.ts). A run that ended before the failure carried it (an earlier version), or that was ended
 * from outside (terminated, timed out, cancelled), falls back to the little its history says in its own words: the
 * input, the phases it published (CpSyncPhase), its plan, and how it ended.
 */
import type { temporal } from '@temporalio/proto';
import { defaultPayloadConverter, fromPayloadsAtIndex } from '@temporalio/common';
import { withoutActivityWrapper } from '../domain/run-text';
import { isPhase } from '../domain/phases';
import { ACTIVITY, type Phase, type PlanSummary, type SyncInput, type SyncStatus } from '../shared';
import { finalStatusFromHistory } from '../workflows/final-status';
import { CP_SYNC_PHASE } from '../workflows/visibility';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;

/** The ended run's status; `state` is its execution status (`FAILED`, `TERMINATED`, …). */
export function endedRunStatus(history: History, state: string): SyncStatus {
  const recorded = finalStatusFromHistory(history);
  if (recorded) return { ...recorded, error: recorded.error === undefined ? undefined : withoutActivityWrapper(recorded.error) };
  return statusFromOlderHistory(history.events ?? [], state);
}

const isoTime = (event: HistoryEvent | undefined): string => (event?.eventTime ? new Date(Number(event.eventTime.seconds ?? 0) * 1000).toISOString() : '');

/** The failure's text for people: its message and its cause's, without Temporal's activity wrapper. */
function failureText(failure: Failure): string {
  return withoutActivityWrapper(failure.cause?.message ? `${failure.message ?? ''}: ${failure.cause.message}` : (failure.message ?? 'unknown error'));
}

/** The phase each activity runs in, for a failure that names its activity (histories without published phases). */
const PHASE_OF_ACTIVITY: Record<string, Phase> = { [ACTIVITY.collect]: 'collecting', [ACTIVITY.plan]: 'planning', [ACTIVITY.apply]: 'applying' };

/** The last phase the run published before it failed (runs since the search attributes; undefined before them). */
function lastPublishedPhase(events: readonly HistoryEvent[]): Phase | undefined {
  let last: Phase | undefined;
  for (const event of events) {
    const payload = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[CP_SYNC_PHASE.name];
    const phase: unknown = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
    if (isPhase(phase) && phase !== 'failed' && phase !== 'cancelled') last = phase;
  }
  return last;
}

/**
 * A run without a recorded final status: an earlier version's failure, or a run ended from outside. Its plan is the
 * plan activity's result, the one record of it such a history holds.
 */
function statusFromOlderHistory(events: readonly HistoryEvent[], state: string): SyncStatus {
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const last = events.at(-1);
  const failure = last?.workflowExecutionFailedEventAttributes?.failure ?? undefined;
  const terminated = last?.workflowExecutionTerminatedEventAttributes;
  const failedActivity = failure?.activityFailureInfo?.activityType?.name;
  const status: SyncStatus = {
    phase: 'failed',
    startedAt: isoTime(events[0]),
    input: fromPayloadsAtIndex<SyncInput>(defaultPayloadConverter, 0, started?.input?.payloads),
    refusedApprovals: [],
    refusedRejections: [],
    failedDuring: lastPublishedPhase(events) ?? (failedActivity ? PHASE_OF_ACTIVITY[failedActivity] : undefined) ?? 'collecting',
    error: failure ? failureText(failure) : terminated ? `terminated${terminated.reason ? `: ${terminated.reason}` : ''}` : state.toLowerCase().replace(/_/g, ' '),
  };
  const planScheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === ACTIVITY.plan);
  const planCompleted = events.find((e) => planScheduled && String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(planScheduled.eventId));
  if (planCompleted) status.plan = fromPayloadsAtIndex<PlanSummary>(defaultPayloadConverter, 0, planCompleted.activityTaskCompletedEventAttributes?.result?.payloads);
  return endedFromOutside(status, events, state);
}

/**
 * Cancelled and terminated runs are not failures. A cancellation cannot carry details, so the run's own record is
 * the phase it had published (CpSyncPhase) when the cancellation came; a termination's is the reason given.
 */
function endedFromOutside(status: SyncStatus, events: readonly HistoryEvent[], state: string): SyncStatus {
  if (state === 'CANCELLED') {
    const during = lastPublishedPhase(events);
    return { ...status, phase: 'cancelled', failedDuring: undefined, error: undefined, cancelledDuring: during, rolledBack: during === 'applying' || undefined };
  }
  // The reason alone: the outcome line says `terminated: <reason>` itself.
  if (state === 'TERMINATED') return { ...status, phase: 'terminated', failedDuring: undefined, error: events.at(-1)?.workflowExecutionTerminatedEventAttributes?.reason || undefined };
  return status;
}
