/** The CLI's side of Temporal: start, signal, query and await a sync, by workflow id. */
import { userInfo, hostname } from 'node:os';
import {
  isGrpcDeadlineError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { approveUpdate, rejectUpdate, statusQuery } from '../workflows/definitions';
import { finalStatusOf } from '../workflows/final-status';
import { resultOf } from '../workflows/result';
import { CP_SYNC_DATABASE } from '../workflows/visibility';
import { isFinal } from '../domain/phases';
import { formatDuration } from '../domain/duration';
import { approvalMode, withoutActivityWrapper } from '../domain/run-text';
import { DECISION_REFUSED, FINAL_PHASES, WORKFLOW_TYPE, type SyncInput, type SyncResult, type SyncStatus } from '../shared';
import { CliError, EXIT } from '../domain/exit-codes';
import { endedRunStatus } from './ended-run';
import { retryFromDescription } from './progress';

export function operatorName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return 'cli';
  }
}

/**
 * `database` is the OCPP database the sync is meant for (the starter's OCPP_MYSQL_DATABASE; the worker's settings
 * decide where it writes): it names the run in the Web UI's list and in `CpSyncDatabase`.
 */
export async function startSync(client: Client, taskQueue: string, workflowId: string, input: SyncInput, database?: string): Promise<WorkflowHandleWithFirstExecutionRunId> {
  try {
    return await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      // One running sync per id; a finished one may be followed by a new run under the same id.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      ...runLabels(input, database),
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

/** The Web UI's summary and details of a run, and its database search attribute, as every starter sets them. */
export function runLabels(input: SyncInput, database?: string): Pick<WorkflowStartOptions, 'staticSummary' | 'staticDetails' | 'typedSearchAttributes'> {
  const mode = approvalMode(input);
  const summary = [
    `charging-points-sync ${database ?? ''}`.trim(),
    `${formatDuration(input.collectorDurationMs)} window`,
    input.account ? `account ${input.account}` : undefined,
    input.testDeviceId ? `test device ${input.testDeviceId}` : undefined,
    mode,
  ];
  return {
    staticSummary: summary.filter((part) => part !== undefined).join(' · '),
    staticDetails: [
      `**Database:** ${database ?? '(the worker\'s OCPP_MYSQL_DATABASE)'}`,
      `**Window:** ${formatDuration(input.collectorDurationMs)} on ${input.account ?? 'all accounts'}`,
      `**Test device:** ${input.testDeviceId ?? 'none (every station is written)'}`,
      `**Approval:** ${mode}; a waiting plan expires after ${formatDuration(input.approvalTimeoutMs)}`,
    ].join('\n\n'),
    typedSearchAttributes: database ? [{ key: CP_SYNC_DATABASE, value: database }] : [],
  };
}

const QUERY_DEADLINE_MS = 5000;
/** gRPC statuses a call ends with when its deadline passes: DEADLINE_EXCEEDED, or CANCELLED (how the client's own
 * deadline surfaces for a query, which isGrpcDeadlineError misses). CANCELLED counts only once the deadline has passed. */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_CANCELLED = 1;

function isDeadlineExceeded(err: unknown, deadline: number): boolean {
  if (isGrpcDeadlineError(err)) return true;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === GRPC_DEADLINE_EXCEEDED || (code === GRPC_CANCELLED && Date.now() >= deadline)) return true;
  }
  return false;
}

/**
 * What to do when no worker answers, after saying so: by default (status, run), that the run waits for one; a
 * decision (approve, reject) says instead that nothing was decided and to send it again once a worker runs.
 */
export type NoWorkerHint = (workflowId: string) => string;

const followOnceWorking: NoWorkerHint = (workflowId) =>
  'The sync is started and waits for a worker: start one with `cp-sync worker` (same TEMPORAL_TASK_QUEUE), then follow it with `cp-sync status ' + `${workflowId}\`.`;

/** For approve and reject: the decision was not sent, so it must be sent again. */
const decideOnceWorking =
  (command: 'approve' | 'reject'): NoWorkerHint =>
  (workflowId) =>
    `Nothing was decided: start a worker with \`cp-sync worker\` (same TEMPORAL_TASK_QUEUE), then run \`cp-sync ${command} ${workflowId}\` again.`;

/** The status query of a running sync; a query needs a worker, so say so when none answers. */
export async function queryStatus(handle: WorkflowHandle, taskQueue?: string, noWorker: NoWorkerHint = followOnceWorking): Promise<SyncStatus> {
  const deadline = Date.now() + QUERY_DEADLINE_MS;
  try {
    return await handle.client.connection.withDeadline(deadline, () => handle.query(statusQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`No sync with id ${handle.workflowId} in this namespace.`, EXIT.failed);
    if (isDeadlineExceeded(err, deadline)) {
      throw new CliError(
        `No worker answers on task queue ${taskQueue ?? '(the sync\'s task queue)'}: ${handle.workflowId} did not answer its status query within ${QUERY_DEADLINE_MS / 1000} s. ` +
          noWorker(handle.workflowId),
        EXIT.failed,
      );
    }
    throw err;
  }
}

/**
 * The status of a sync, running or ended. A finished run answers from its result, and a failed one from the final
 * status its failure carries (ended-run.ts), so neither needs a worker.
 */
export async function loadStatus(handle: WorkflowHandle, noWorker?: NoWorkerHint): Promise<SyncStatus> {
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`No sync with id ${handle.workflowId} in this namespace.`, EXIT.failed);
    throw err;
  }
  switch (description.status.name) {
    case 'RUNNING': {
      const status = await queryStatus(handle, description.taskQueue, noWorker);
      // The server knows every attempt (also one lost with its worker); the workflow only what attempts told it.
      const retry = retryFromDescription(description) ?? status.retry;
      return retry ? { ...status, retry } : status;
    }
    case 'COMPLETED':
      return (await handle.result()) as SyncResult;
    default:
      return endedRunStatus(await handle.fetchHistory(), description.status.name);
  }
}

export interface ApproveOptions {
  fingerprint?: string;
  by?: string;
  comment?: string;
}

/**
 * Approves the plan: the one `status` shows now, or the one named by `fingerprint`. The workflow is the judge (its
 * validator refuses a stale fingerprint, a run not awaiting approval, a decision already taken) and answers at once.
 */
export async function approve(handle: WorkflowHandle, options: ApproveOptions): Promise<SyncStatus> {
  const before = await loadStatus(handle, decideOnceWorking('approve'));
  if (before.phase !== 'awaiting-approval' || !before.plan) {
    throw new CliError(`Nothing to approve: sync ${handle.workflowId} is ${before.phase}.`, EXIT.refused);
  }
  const fingerprint = options.fingerprint ?? before.plan.fingerprint;
  const by = options.by ?? operatorName();
  await decide(handle, () => handle.executeUpdate(approveUpdate, { args: [{ fingerprint, by, comment: options.comment }] }), (reason) => `Approval refused: ${reason}. Nothing was written.`);
  return loadStatus(handle);
}

/** Rejects the run (before its plan, or while the plan waits); refused once approved or once the write has started. */
export async function reject(handle: WorkflowHandle, reason: string | undefined, options: { by?: string } = {}): Promise<SyncStatus> {
  const before = await loadStatus(handle, decideOnceWorking('reject'));
  if (FINAL_PHASES.includes(before.phase) || before.phase === 'applying') {
    throw new CliError(`Too late to reject: sync ${handle.workflowId} is ${before.phase}.`, EXIT.refused);
  }
  const by = options.by ?? operatorName();
  await decide(handle, () => handle.executeUpdate(rejectUpdate, { args: [{ reason, by }] }), (refusal) => `Rejection refused: ${refusal}.`);
  return loadStatus(handle);
}

/** How long an approval or rejection may wait for a worker to take it. */
const UPDATE_DEADLINE_MS = 10_000;

/** Sends a decision as an Update and turns the workflow's refusal into exit 5. */
async function decide(handle: WorkflowHandle, send: () => Promise<unknown>, refusedMessage: (reason: string) => string): Promise<void> {
  const deadline = Date.now() + UPDATE_DEADLINE_MS;
  try {
    await handle.client.connection.withDeadline(deadline, send);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === DECISION_REFUSED) {
      throw new CliError(refusedMessage(err.cause.message), EXIT.refused);
    }
    // The run ended between the check above and the Update (e.g. the plan expired, or another operator decided).
    if (err instanceof WorkflowNotFoundError) {
      const now = await loadStatus(handle);
      throw new CliError(refusedMessage(`sync ${handle.workflowId} has ended (${now.phase})`), EXIT.refused);
    }
    if (isDeadlineExceeded(err, deadline)) {
      throw new CliError(
        `Sync ${handle.workflowId} did not take the decision within ${UPDATE_DEADLINE_MS / 1000} s: no worker answers on its task queue. ` +
          'Start one with `cp-sync worker`; check with `cp-sync status` whether the decision was taken once it runs.',
        EXIT.failed,
      );
    }
    throw err;
  }
}

/** Waits for the end of the run. A failed run is reported like the others, from the final status it recorded. */
export async function awaitResult(handle: WorkflowHandle): Promise<SyncResult> {
  try {
    return (await handle.result()) as SyncResult;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const status = finalStatusOf(err) ?? (await loadStatus(handle));
    // Cancelled and terminated runs keep their own phase (exit 10, 11); any other unsuccessful end is a failure.
    const phase = isFinal(status.phase) && status.phase !== 'applied' ? status.phase : 'failed';
    const error = status.error ?? (phase === 'failed' ? (err.cause?.message ?? err.message) : undefined);
    return { ...resultOf(status, phase), error: error === undefined ? undefined : withoutActivityWrapper(error) };
  }
}
