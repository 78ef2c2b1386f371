/** The CLI's side of Temporal: start, signal, query and await a sync, by workflow id. */
import { userInfo, hostname } from 'node:os';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { approveSignal, rejectSignal, statusQuery } from '../workflows/definitions';
import { WORKFLOW_TYPE, type SyncInput, type SyncResult, type SyncStatus } from '../shared';
import { CliError, EXIT } from './exit-codes';

export function operatorName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return 'cli';
  }
}

export async function startSync(client: Client, taskQueue: string, workflowId: string, input: SyncInput): Promise<WorkflowHandleWithFirstExecutionRunId> {
  try {
    return await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      // One running sync per id; a finished one may be followed by a new run under the same id.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `charging-points-sync${input.testDeviceId ? ` (test device ${input.testDeviceId})` : ''}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(
        `A sync with id ${workflowId} is already running. Follow it with \`cp-sync status ${workflowId}\`, or start another with --id <workflowId>.`,
        EXIT.alreadyRunning,
      );
    }
    throw err;
  }
}

export async function queryStatus(handle: WorkflowHandle): Promise<SyncStatus> {
  return handle.query(statusQuery);
}

export interface ApproveOptions {
  fingerprint?: string;
  by?: string;
  comment?: string;
  /** How long to wait for the workflow to take the decision. */
  waitMs?: number;
}

/**
 * Approves the plan: the one `status` shows now, or the one named by `fingerprint`. The workflow is the judge
 * (it refuses a stale fingerprint even if the plan changed after this check); this waits to learn its verdict.
 */
export async function approve(handle: WorkflowHandle, options: ApproveOptions): Promise<SyncStatus> {
  const before = await queryStatus(handle);
  if (before.phase !== 'awaiting-approval' || !before.plan) {
    throw new CliError(`Nothing to approve: sync ${handle.workflowId} is ${before.phase}.`, EXIT.refused);
  }
  const fingerprint = options.fingerprint ?? before.plan.fingerprint;
  const by = options.by ?? operatorName();
  await handle.signal(approveSignal, { fingerprint, by, comment: options.comment });
  const deadline = Date.now() + (options.waitMs ?? 15_000);
  while (Date.now() < deadline) {
    const now = await queryStatus(handle);
    if (now.approval?.fingerprint === fingerprint && now.approval.by === by) return now;
    const refusal = now.refusedApprovals.slice(before.refusedApprovals.length).find((r) => r.by === by);
    if (refusal) throw new CliError(`Approval refused: ${refusal.reason}. Nothing was written.`, EXIT.refused);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new CliError(`The approval was sent, but sync ${handle.workflowId} has not confirmed it yet; is a worker running?`, EXIT.failed);
}

export async function reject(handle: WorkflowHandle, reason: string | undefined, by?: string): Promise<void> {
  const before = await queryStatus(handle);
  if (['applying', 'applied', 'failed', 'dry-run', 'nothing-to-do', 'rejected', 'expired'].includes(before.phase)) {
    throw new CliError(`Too late to reject: sync ${handle.workflowId} is ${before.phase}.`, EXIT.refused);
  }
  await handle.signal(rejectSignal, { reason, by: by ?? operatorName() });
}

/** Waits for the end of the run. A failed run is reported like the others, from its last status. */
export async function awaitResult(handle: WorkflowHandle): Promise<SyncResult> {
  try {
    return (await handle.result()) as SyncResult;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause?.cause instanceof Error ? `${err.cause.message}: ${err.cause.cause.message}` : (err.cause?.message ?? err.message);
    const status = await queryStatus(handle).catch(() => undefined);
    return {
      phase: 'failed',
      created: 0,
      processedDevices: status?.plan?.processedDevices ?? 0,
      notFound: status?.plan?.notFoundDeviceIds ?? [],
      notFoundCount: status?.plan?.notFound ?? 0,
      rejected: status?.plan?.rejected ?? 0,
      fingerprint: status?.plan?.fingerprint,
      approval: status?.approval,
      error: status?.error ?? cause,
      failedDuring: status?.failedDuring,
    };
  }
}
