/**
 * `cp-sync list`: the syncs of the namespace from Temporal's visibility (search attributes and memo), so it answers
 * for ended runs and without a worker. The morning check is `cp-sync list --phase awaiting-approval`.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { FINAL_PHASES, PHASES, WORKFLOW_TYPE, type Phase } from '../shared';
import { renderTable } from './table';
import { CP_SYNC_DATABASE, CP_SYNC_PHASE, CP_SYNC_POINTS_TO_CREATE, type RunMemo } from '../workflows/visibility';

export interface ListOptions {
  phase?: Phase;
  /** Only runs started at or after this time. */
  since?: Date;
  limit: number;
}

export interface ListedRun {
  workflowId: string;
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

/** The visibility query. A phase of a running sync also requires a running execution: a terminated run keeps its last phase. */
export function listQuery(options: Pick<ListOptions, 'phase' | 'since'>): string {
  const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`];
  if (options.phase === 'terminated') {
    // Ended from outside: the run never told this phase itself.
    clauses.push(`ExecutionStatus = 'Terminated'`);
  } else if (options.phase === 'cancelled') {
    // Runs before the `cancelled` phase kept the phase they were cancelled in.
    clauses.push(`(${CP_SYNC_PHASE.name} = 'cancelled' OR ExecutionStatus = 'Canceled')`);
  } else if (options.phase) {
    clauses.push(`${CP_SYNC_PHASE.name} = '${options.phase}'`);
    if (!FINAL_PHASES.includes(options.phase)) clauses.push(`ExecutionStatus = 'Running'`);
  }
  if (options.since) clauses.push(`StartTime >= '${options.since.toISOString()}'`);
  return clauses.join(' AND ');
}

function phaseOf(execution: WorkflowExecutionInfo): string {
  const phase = execution.typedSearchAttributes.get(CP_SYNC_PHASE);
  const running = execution.status.name === 'RUNNING';
  // A run that ended without reaching a final phase was ended from outside; runs of cp-sync 0.1 have no phase.
  if (phase !== undefined && (running || (isPhase(phase) && FINAL_PHASES.includes(phase)))) return phase;
  if (execution.status.name === 'CANCELLED') return 'cancelled';
  return running ? 'running' : execution.status.name.toLowerCase().replace(/_/g, '-');
}

export function listedRun(execution: WorkflowExecutionInfo): ListedRun {
  const memo = (execution.memo ?? {}) as RunMemo;
  return {
    workflowId: execution.workflowId,
    runId: execution.runId,
    phase: phaseOf(execution),
    pointsToCreate: execution.typedSearchAttributes.get(CP_SYNC_POINTS_TO_CREATE),
    database: execution.typedSearchAttributes.get(CP_SYNC_DATABASE),
    startedAt: execution.startTime.toISOString(),
    closedAt: execution.closeTime?.toISOString(),
    decidedBy: typeof memo.decidedBy === 'string' ? memo.decidedBy : undefined,
    outcome: typeof memo.outcome === 'string' ? memo.outcome : undefined,
  };
}

/** Newest first, at most `limit`. */
export async function listRuns(client: Client, options: ListOptions): Promise<ListedRun[]> {
  const runs: ListedRun[] = [];
  for await (const execution of client.workflow.list({ query: listQuery(options), pageSize: Math.min(options.limit, 1000) })) {
    runs.push(listedRun(execution));
    if (runs.length >= options.limit) break;
  }
  return runs;
}

/** A table for people: one line per run, the columns an operator scans. */
export function formatRuns(runs: ListedRun[]): string[] {
  if (runs.length === 0) return ['No syncs match.'];
  return renderTable(
    ['WORKFLOW ID', 'PHASE', 'POINTS', 'STARTED', 'DECIDED BY'],
    runs.map((r) => [r.workflowId, r.phase, r.pointsToCreate === undefined ? '-' : String(r.pointsToCreate), r.startedAt.replace(/\.\d{3}Z$/, 'Z'), r.decidedBy ?? '-']),
  );
}
