/** The workflow's signals and query: the CLI, the tests and `temporal workflow signal` use these names. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { ACTIVITY_RETRYING_SIGNAL, type ActivityRetry, type ApproveSignal, type RejectSignal, type SyncStatus } from '../shared';

export const approveSignal = defineSignal<[ApproveSignal?]>('approve');
export const rejectSignal = defineSignal<[RejectSignal?]>('reject');
export const statusQuery = defineQuery<SyncStatus>('status');
/** Sent by a failed attempt of diffStations or applyMissingPoints that Temporal will retry (activities/attempts.ts). */
export const activityRetryingSignal = defineSignal<[ActivityRetry]>(ACTIVITY_RETRYING_SIGNAL);
