/** The workflow's messages: the CLI, the tests and `temporal workflow signal|update` use these names. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { ACTIVITY_RETRYING_SIGNAL, COLLECTOR_CONNECTION_SIGNAL, type ActivityRetry, type BrokerConnectionProblem, type ApprovalRecord, type ApproveSignal, type RejectionRecord, type RejectSignal, type SyncStatus } from '../shared';

/**
 * Approve and reject as Updates: the caller learns the verdict at once (a refused call fails in the validator and
 * leaves nothing in the history). The signals of the same names and payloads stay, for `temporal workflow signal`
 * and the Web UI's Send Signal; both go through the same decision (decision.ts).
 */
export const approveUpdate = defineUpdate<ApprovalRecord, [ApproveSignal]>('approve');
export const rejectUpdate = defineUpdate<RejectionRecord, [RejectSignal]>('reject');
export const approveSignal = defineSignal<[ApproveSignal?]>('approve');
export const rejectSignal = defineSignal<[RejectSignal?]>('reject');
export const statusQuery = defineQuery<SyncStatus>('status');
/** Sent by a failed attempt of diffStations or applyMissingPoints that Temporal will retry (activities/attempts.ts). */
export const activityRetryingSignal = defineSignal<[ActivityRetry]>(ACTIVITY_RETRYING_SIGNAL);
/** Sent by a collector that cannot reach the broker, once per new problem; null once it has connected (activities/collector-connect.ts). */
export const collectorConnectionSignal = defineSignal<[BrokerConnectionProblem | null]>(COLLECTOR_CONNECTION_SIGNAL);
