/** The workflow's signals and query: the CLI, the tests and `temporal workflow signal` use these names. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ApproveSignal, RejectSignal, SyncStatus } from '../shared';

export const approveSignal = defineSignal<[ApproveSignal?]>('approve');
export const rejectSignal = defineSignal<[RejectSignal?]>('reject');
export const statusQuery = defineQuery<SyncStatus>('status');
