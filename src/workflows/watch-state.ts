/**
 * The watch's state from cycle to cycle and from run to run (continue-as-new): pure, no workflow API, so that it
 * can be tested without a server.
 */
import type { ApplyResult, PlanSummary } from '../shared';
import type { PendingWatchPlan, SupersededPlan, WatchCarry, WatchCycle, WatchInput, WatchStatus } from '../watch-shared';

/** Superseded plans remembered, so that approving one of them is refused by name. */
export const SUPERSEDED_KEPT = 20;

export function freshCarry(now: Date): WatchCarry {
  return {
    startedAt: now.toISOString(),
    cycles: 0,
    createdTotal: 0,
    createdToday: 0,
    createdDay: now.toISOString().slice(0, 10),
    devicesHeard: 0,
    lastCycle: null,
    pending: null,
    superseded: [],
    runs: 0,
    lastPlan: null,
  };
}

export function initialStatus(input: WatchInput, carried: WatchCarry | undefined, now: Date): WatchStatus {
  const carry = carried ?? freshCarry(now);
  const status: WatchStatus = { ...carry, runs: carry.runs + 1, kind: 'watch', phase: 'watching', input, refusedApprovals: [], refusedRejections: [] };
  showPending(status);
  return status;
}

/** What the next run needs; nothing else crosses continue-as-new. */
export function carryOf(status: WatchStatus): WatchCarry {
  const { startedAt, cycles, createdTotal, createdToday, createdDay, devicesHeard, lastCycle, pending, superseded, runs, lastPlan } = status;
  return { startedAt, cycles, createdTotal, createdToday, createdDay, devicesHeard, lastCycle, pending, superseded, runs, lastPlan: lastPlan ?? null };
}

/** `plan`, `phase` and `autoApproveExceeded` follow the waiting plan, so that a watch reads like a sync to `approve`. */
export function showPending(status: WatchStatus): void {
  status.plan = status.pending?.plan;
  status.autoApproveExceeded = status.pending?.autoApproveExceeded;
  if (status.phase !== 'stopped') status.phase = status.pending ? 'awaiting-approval' : 'watching';
}

/** A newer cycle's plan replaces the waiting one (it covers the waiting plan's devices too). */
export function supersede(status: WatchStatus, byCycle: number): void {
  const old = status.pending;
  if (!old) return;
  const entry: SupersededPlan = { fingerprint: old.plan.fingerprint, cycle: old.cycle, by: byCycle };
  status.superseded = [...status.superseded, entry].slice(-SUPERSEDED_KEPT);
  status.pending = null;
  showPending(status);
}

export function awaitApproval(status: WatchStatus, pending: PendingWatchPlan): void {
  status.pending = pending;
  showPending(status);
}

/** Counts points created, by day (UTC) too. */
export function recordCreated(status: WatchStatus, result: ApplyResult, now: Date): void {
  const day = now.toISOString().slice(0, 10);
  if (day !== status.createdDay) {
    status.createdDay = day;
    status.createdToday = 0;
  }
  status.createdToday += result.created;
  status.createdTotal += result.created;
  status.lastApply = result;
}

export function cycleRecord(cycle: number, at: Date, changedDevices: number, plan: PlanSummary | undefined): WatchCycle {
  return { cycle, at: at.toISOString(), changedDevices, pointsToCreate: plan?.pointsToCreate ?? 0, created: 0, decision: 'nothing-to-do' };
}

/** An activity's failure for `status.error`, without Temporal's wrapper ("Activity task failed"). */
export function failureMessage(err: unknown): string {
  return err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
}
