/** The CLI's side of Temporal: start, signal, query and await a sync, by workflow id. */
import { userInfo, hostname } from 'node:os';
import {
  isGrpcDeadlineError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { defaultPayloadConverter, fromPayloadsAtIndex, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { approveSignal, rejectSignal, statusQuery } from '../workflows/definitions';
import { resultOf } from '../workflows/result';
import { WORKFLOW_TYPE, type PlanSummary, type RefusedDecision, type SyncInput, type SyncResult, type SyncStatus } from '../shared';
import { CliError, EXIT } from './exit-codes';
import { notificationsFromHistory } from './history-notifications';
import { retryFromDescription } from './progress';

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

const QUERY_DEADLINE_MS = 5000;
/** gRPC status DEADLINE_EXCEEDED. The client's isGrpcDeadlineError misses the form a query's timeout takes. */
const GRPC_DEADLINE_EXCEEDED = 4;

function isDeadlineExceeded(err: unknown): boolean {
  if (isGrpcDeadlineError(err)) return true;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === GRPC_DEADLINE_EXCEEDED) return true;
  }
  return false;
}

/** The status query of a running sync; a query needs a worker, so say so when none answers. */
export async function queryStatus(handle: WorkflowHandle, taskQueue?: string): Promise<SyncStatus> {
  try {
    return await handle.client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`No sync with id ${handle.workflowId} in this namespace.`, EXIT.failed);
    if (isDeadlineExceeded(err)) {
      throw new CliError(
        `Sync ${handle.workflowId} did not answer within ${QUERY_DEADLINE_MS / 1000} s: is a worker running on task queue ${taskQueue ?? '(its task queue)'}? Start one with \`cp-sync worker\`.`,
        EXIT.failed,
      );
    }
    throw err;
  }
}

/**
 * The status of a sync, running or ended. A finished run answers from its result, and a failed one from its
 * history, so neither needs a worker.
 */
export async function loadStatus(handle: WorkflowHandle): Promise<SyncStatus> {
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`No sync with id ${handle.workflowId} in this namespace.`, EXIT.failed);
    throw err;
  }
  switch (description.status.name) {
    case 'RUNNING': {
      const status = await queryStatus(handle, description.taskQueue);
      // The server knows every attempt (also one lost with its worker); the workflow only what attempts told it.
      const retry = retryFromDescription(description) ?? status.retry;
      return retry ? { ...status, retry } : status;
    }
    case 'COMPLETED':
      return (await handle.result()) as SyncResult;
    default:
      return statusFromHistory(handle, description.status.name);
  }
}

/** Rebuilds what can be known of an ended, unsuccessful run from its history: input, plan, approval, error. */
async function statusFromHistory(handle: WorkflowHandle, state: string): Promise<SyncStatus> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const activityTypes = new Map<string, string>();
  const status: SyncStatus = {
    phase: 'failed',
    startedAt: events[0]?.eventTime ? new Date(Number(events[0].eventTime.seconds ?? 0) * 1000).toISOString() : '',
    input: fromPayloadsAtIndex<SyncInput>(defaultPayloadConverter, 0, started?.input?.payloads),
    refusedApprovals: [],
    refusedRejections: [],
    failedDuring: 'collecting',
  };
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name) {
      activityTypes.set(String(event.eventId), scheduled.activityType.name);
      status.failedDuring = scheduled.activityType.name === 'applyMissingPoints' ? 'applying' : scheduled.activityType.name === 'diffStations' ? 'planning' : 'collecting';
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && activityTypes.get(String(completed.scheduledEventId)) === 'diffStations') {
      status.plan = fromPayloadsAtIndex<PlanSummary>(defaultPayloadConverter, 0, completed.result?.payloads);
    }
    const failure = event.workflowExecutionFailedEventAttributes?.failure;
    if (failure) status.error = failure.cause?.message ? `${failure.message ?? ''}: ${failure.cause.message}` : (failure.message ?? undefined);
    const terminated = event.workflowExecutionTerminatedEventAttributes;
    if (terminated) status.error = `terminated${terminated.reason ? `: ${terminated.reason}` : ''}`;
  }
  status.error ??= state.toLowerCase().replace(/_/g, ' ');
  status.notifications = notificationsFromHistory(events);
  return status;
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
  return awaitVerdict(handle, before, {
    what: 'approval',
    by,
    waitMs: options.waitMs,
    accepted: (now) => now.approval?.fingerprint === fingerprint && now.approval.by === by,
    refusals: (status) => status.refusedApprovals,
    refusedMessage: (reason) => `Approval refused: ${reason}. Nothing was written.`,
  });
}

/** Rejects the run and waits for the workflow's verdict: an approval that landed first wins, and is reported. */
export async function reject(handle: WorkflowHandle, reason: string | undefined, options: { by?: string; waitMs?: number } = {}): Promise<SyncStatus> {
  const before = await queryStatus(handle);
  if (['applying', 'applied', 'failed', 'dry-run', 'nothing-to-do', 'rejected', 'expired'].includes(before.phase)) {
    throw new CliError(`Too late to reject: sync ${handle.workflowId} is ${before.phase}.`, EXIT.refused);
  }
  const by = options.by ?? operatorName();
  await handle.signal(rejectSignal, { reason, by });
  return awaitVerdict(handle, before, {
    what: 'rejection',
    by,
    waitMs: options.waitMs,
    accepted: (now) => now.rejection?.by === by,
    // Runs recorded before refused rejections existed have no such list.
    refusals: (status) => status.refusedRejections ?? [],
    refusedMessage: (refusal) => `Rejection refused: ${refusal}.`,
  });
}

interface Verdict {
  what: 'approval' | 'rejection';
  by: string;
  waitMs?: number;
  accepted: (status: SyncStatus) => boolean;
  refusals: (status: SyncStatus) => RefusedDecision[];
  refusedMessage: (reason: string) => string;
}

/**
 * A signal cannot answer back: polls the status until the workflow has taken the decision or recorded a new
 * refusal from `by`. Refusal lists are capped, so "new" means absent before, not past the old length.
 */
async function awaitVerdict(handle: WorkflowHandle, before: SyncStatus, verdict: Verdict): Promise<SyncStatus> {
  const key = (r: RefusedDecision): string => `${r.at}|${r.by}|${r.reason}`;
  const seen = new Set(verdict.refusals(before).map(key));
  const deadline = Date.now() + (verdict.waitMs ?? 15_000);
  while (Date.now() < deadline) {
    const now = await queryStatus(handle);
    if (verdict.accepted(now)) return now;
    const refusal = verdict.refusals(now).find((r) => r.by === verdict.by && !seen.has(key(r)));
    if (refusal) throw new CliError(verdict.refusedMessage(refusal.reason), EXIT.refused);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new CliError(`The ${verdict.what} was sent, but sync ${handle.workflowId} has not confirmed it yet; is a worker running?`, EXIT.failed);
}

/** Waits for the end of the run. A failed run is reported like the others, from its last status. */
export async function awaitResult(handle: WorkflowHandle): Promise<SyncResult> {
  try {
    return (await handle.result()) as SyncResult;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const status = await loadStatus(handle);
    return { ...resultOf(status, 'failed'), error: status.error ?? err.cause?.message ?? err.message };
  }
}
