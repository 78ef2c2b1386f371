/**
 * `cp-sync list`: the syncs of the namespace from Temporal's visibility (search attributes and memo), so it answers
 * for ended runs and without a worker. The morning check is `cp-sync list --phase awaiting-approval`.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { FINAL_PHASES, PHASES, WORKFLOW_TYPE, type Phase } from '../shared';
import { renderTable } from '../domain/table';
import { WATCH_PHASES, WATCH_WORKFLOW_TYPE, type WatchPhase } from '../watch-shared';
import { CP_SYNC_DATABASE, CP_SYNC_PHASE, CP_SYNC_POINTS_TO_CREATE, type RunMemo } from '../workflows/visibility';

/** What `list --phase` takes: a sync's phases and a watch's (watching, awaiting-approval, stopped). */
export type ListPhase = Phase | WatchPhase;
export const LIST_PHASES: readonly ListPhase[] = [...new Set<ListPhase>([...PHASES, ...WATCH_PHASES])];
/** Phases a run ends in: a phase of a running one also needs a running execution. */
const LIST_FINAL_PHASES: readonly ListPhase[] = [...FINAL_PHASES, 'stopped'];

export interface ListOptions {
  phase?: ListPhase;
  /** Only runs started at or after this time. */
  since?: Date;
  /** Only runs meant for this OCPP database (CpSyncDatabase), for a namespace that several databases share. */
  database?: string;
  limit: number;
}

export interface ListedRun {
  workflowId: string;
  /** Only for a watch (`cp-sync watch`): a run without it is a sync. */
  kind?: 'watch';
  runId: string;
  /** The run's phase; for a run ended from outside (terminated, timed out) the execution status, e.g. `terminated`. */
  phase: string;
  pointsToCreate?: number;
  database?: string;
  startedAt: string;
  closedAt?: string;
  decidedBy?: string;
  outcome?: string;
}

export function isPhase(value: string): value is Phase {
  return (PHASES as readonly string[]).includes(value);
}

export function isListPhase(value: string): value is ListPhase {
  return (LIST_PHASES as readonly string[]).includes(value);
}

/** The visibility query. A phase of a running sync also requires a running execution: a terminated run keeps its last phase. */
export function listQuery(options: Pick<ListOptions, 'phase' | 'since' | 'database'>): string {
  // Watches too: their phases (watching, awaiting-approval) are told in the same search attribute.
  const clauses = [`(WorkflowType = '${WORKFLOW_TYPE}' OR WorkflowType = '${WATCH_WORKFLOW_TYPE}')`];
  if (options.phase === 'terminated') {
    // Ended from outside: the run never told this phase itself.
    clauses.push(`ExecutionStatus = 'Terminated'`);
  } else if (options.phase === 'cancelled') {
    // Runs before the `cancelled` phase kept the phase they were cancelled in.
    clauses.push(`(${CP_SYNC_PHASE.name} = 'cancelled' OR ExecutionStatus = 'Canceled')`);
  } else if (options.phase) {
    clauses.push(`${CP_SYNC_PHASE.name} = '${options.phase}'`);
    if (!LIST_FINAL_PHASES.includes(options.phase)) clauses.push(`ExecutionStatus = 'Running'`);
  }
  if (options.since) clauses.push(`StartTime >= '${options.since.toISOString()}'`);
  // The option's parser allows no quote: the name goes into the query as it is.
  if (options.database) clauses.push(`${CP_SYNC_DATABASE.name} = '${options.database}'`);
  return clauses.join(' AND ');
}

/** The order `list` promises. Elasticsearch visibility (clusters, Temporal Cloud) sorts so; SQL visibility refuses ORDER BY. */
export const NEWEST_START_FIRST = ' ORDER BY StartTime DESC';

/** What a run's visibility record and its description both carry. */
type RunRecord = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'typedSearchAttributes' | 'memo' | 'startTime' | 'closeTime'> & Partial<Pick<WorkflowExecutionInfo, 'type'>>;

function phaseOf(execution: RunRecord): string {
  const phase = execution.typedSearchAttributes.get(CP_SYNC_PHASE);
  const running = execution.status.name === 'RUNNING';
  // A run that ended without reaching a final phase was ended from outside; runs of cp-sync 0.1 have no phase.
  if (phase !== undefined && (running || (isPhase(phase) && FINAL_PHASES.includes(phase)))) return phase;
  // A watch ends `stopped` when `cp-sync watch stop` ended it.
  if (phase === 'stopped' && execution.type === WATCH_WORKFLOW_TYPE && execution.status.name === 'COMPLETED') return phase;
  if (execution.status.name === 'CANCELLED') return 'cancelled';
  return running ? 'running' : execution.status.name.toLowerCase().replace(/_/g, '-');
}

export function listedRun(execution: RunRecord): ListedRun {
  const memo = (execution.memo ?? {}) as RunMemo;
  return {
    workflowId: execution.workflowId,
    ...(execution.type === WATCH_WORKFLOW_TYPE ? { kind: 'watch' as const } : {}),
    runId: execution.runId,
    phase: phaseOf(execution),
    pointsToCreate: execution.typedSearchAttributes.get(CP_SYNC_POINTS_TO_CREATE),
    database: execution.typedSearchAttributes.get(CP_SYNC_DATABASE),
    startedAt: execution.startTime.toISOString(),
    closedAt: execution.closeTime?.toISOString(),
    decidedBy: typeof memo.decidedBy === 'string' ? memo.decidedBy : undefined,
    // Runs of earlier versions recorded Temporal's wrapper in their outcome; the operator needs what it wraps.
    outcome: typeof memo.outcome === 'string' ? memo.outcome.replace(': Activity task failed: ', ': ') : undefined,
  };
}

function isOrderByRefused(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (/ORDER BY/i.test(e.message)) return true;
  return false;
}

/** Newest start first, at most `limit`, each terminated run with its reason. */
export async function listRuns(client: Client, options: ListOptions): Promise<ListedRun[]> {
  const runs = await newestRuns(client, options);
  for (const run of runs) if (run.phase === 'terminated' && run.outcome === undefined) run.outcome = await terminationOutcome(client, run);
  return runs;
}

/**
 * `terminated: <reason>`, as `status` says it. A termination writes nothing the visibility store keeps, so the
 * reason is read from the run's last history event: one event, however long the history.
 */
async function terminationOutcome(client: Client, run: ListedRun): Promise<string> {
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId: run.workflowId, runId: run.runId },
    maximumPageSize: 1,
  });
  const reason = history?.events?.[0]?.workflowExecutionTerminatedEventAttributes?.reason;
  return reason ? `terminated: ${reason}` : 'terminated';
}

/** Newest start first, at most `limit`: sorted by the server where it can, else by newestFirst. */
async function newestRuns(client: Client, options: ListOptions): Promise<ListedRun[]> {
  const pageSize = Math.min(options.limit, 1000);
  const runs: ListedRun[] = [];
  try {
    for await (const execution of client.workflow.list({ query: listQuery(options) + NEWEST_START_FIRST, pageSize })) {
      runs.push(listedRun(execution));
      if (runs.length >= options.limit) break;
    }
    return runs;
  } catch (err) {
    if (runs.length > 0 || !isOrderByRefused(err)) throw err;
  }
  return newestFirst(client.workflow.list({ query: listQuery(options), pageSize: 1000 }), options.limit);
}

/**
 * The `limit` runs that started last, from a visibility store that cannot sort by start (SQL: running runs first,
 * then by close time, newest first). A run closes after it starts, so once the runs still to come closed before
 * the limit-th newest start seen, none of them can enter: reading stops there. Any other order is read to its end.
 */
export async function newestFirst(executions: AsyncIterable<RunRecord> | Iterable<RunRecord>, limit: number): Promise<ListedRun[]> {
  const runs: ListedRun[] = [];
  let lastClose = Number.POSITIVE_INFINITY;
  let closeTimeOrder = true;
  for await (const execution of executions) {
    const close = execution.closeTime?.getTime();
    if (close === undefined ? lastClose !== Number.POSITIVE_INFINITY : close > lastClose) closeTimeOrder = false;
    if (close !== undefined) lastClose = close;
    runs.push(listedRun(execution));
    runs.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
    if (runs.length > limit) runs.pop();
    if (closeTimeOrder && close !== undefined && runs.length === limit && close < Date.parse(runs[limit - 1]!.startedAt)) break;
  }
  return runs;
}

/** A table for people: one line per run, the columns an operator scans. */
export function formatRuns(runs: ListedRun[]): string[] {
  if (runs.length === 0) return ['No syncs match.'];
  return renderTable(
    ['WORKFLOW ID', 'PHASE', 'POINTS', 'DATABASE', 'STARTED', 'DECIDED BY'],
    runs.map((r) => [r.workflowId, r.phase, r.pointsToCreate === undefined ? '-' : String(r.pointsToCreate), r.database ?? '-', r.startedAt.replace(/\.\d{3}Z$/, 'Z'), r.decidedBy ?? '-']),
  );
}
