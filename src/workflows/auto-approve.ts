import type { PlanSummary, SyncInput } from '../shared';

/** How a plan is decided without an operator: by whom (the approver recorded), or why it must wait for one. */
export type AutoDecision = { approver: string } | { waitReason?: string };

/**
 * The auto-approve policy. `autoApprove` applies any plan (approver `auto-approve`); the limits apply a plan at or
 * below all given limits, recorded as `auto-approve (limit N)` (N the points limit; stations named when limited).
 * A bigger plan waits for an operator, and says which limit it passed.
 */
const stations = (n: number): string => `${n} station${n === 1 ? '' : 's'}`;

export function autoDecision(input: SyncInput, plan: Pick<PlanSummary, 'pointsToCreate' | 'stationsToChange'>): AutoDecision {
  if (input.autoApprove) return { approver: 'auto-approve' };
  const { autoApproveMaxPoints: maxPoints, autoApproveMaxStations: maxStations } = input;
  if (maxPoints === undefined && maxStations === undefined) return {};
  const exceeded = [
    maxPoints !== undefined && plan.pointsToCreate > maxPoints ? `${plan.pointsToCreate} points to create exceed the auto-approve limit of ${maxPoints}` : undefined,
    maxStations !== undefined && plan.stationsToChange > maxStations ? `${stations(plan.stationsToChange)} to change exceed the auto-approve limit of ${stations(maxStations)}` : undefined,
  ].filter((reason): reason is string => reason !== undefined);
  if (exceeded.length > 0) return { waitReason: exceeded.join('; ') };
  const limits = [maxPoints !== undefined ? String(maxPoints) : undefined, maxStations !== undefined ? stations(maxStations) : undefined].filter(Boolean);
  return { approver: `auto-approve (limit ${limits.join(', ')})` };
}
