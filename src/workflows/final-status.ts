/**
 * A failed run's final status travels with its failure: the workflow ends with an ApplicationFailure of type
 * SYNC_FAILED whose details hold the SyncStatus at the end (phase `failed`, failedDuring, error, plan, decisions),
 * so that a client reads what happened from the failure itself instead of rebuilding it from history events.
 * Its message and cause are the failing error's, so a reader of the failure's text sees what it saw before.
 */
import { ApplicationFailure, defaultPayloadConverter, type TemporalFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { SYNC_FAILED, type SyncStatus } from '../shared';

/** The failure a run that failed with `err` ends with (workflow side). */
export function runFailure(err: TemporalFailure, status: SyncStatus): ApplicationFailure {
  return ApplicationFailure.create({
    type: SYNC_FAILED,
    message: err.message,
    cause: err.cause instanceof Error ? err.cause : undefined,
    nonRetryable: err instanceof ApplicationFailure ? err.nonRetryable === true : false,
    details: [status],
  });
}

function isStatus(value: unknown): value is SyncStatus {
  return typeof value === 'object' && value !== null && typeof (value as { phase?: unknown }).phase === 'string';
}

/**
 * The final status carried by a run's failure (client side): pass what `handle.result()` threw (a
 * WorkflowFailedError) or its cause. Undefined for another error, or a run that failed before this version.
 */
export function finalStatusOf(err: unknown): SyncStatus | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && e.type === SYNC_FAILED) return isStatus(e.details?.[0]) ? e.details[0] : undefined;
  }
  return undefined;
}

/**
 * The same, read from a history (`handle.fetchHistory()`): for `status` of a run that has ended, without waiting
 * for a result. Undefined when the run did not fail, or failed before this version.
 */
export function finalStatusFromHistory(history: temporal.api.history.v1.IHistory): SyncStatus | undefined {
  // The failure closes the history: its last event.
  const failure = history.events?.at(-1)?.workflowExecutionFailedEventAttributes?.failure;
  if (failure?.applicationFailureInfo?.type !== SYNC_FAILED) return undefined;
  const payload = failure.applicationFailureInfo.details?.payloads?.[0];
  const status: unknown = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
  return isStatus(status) ? status : undefined;
}
