/**
 * Partial silence: when more live stations than the run's limit sent nothing during the window, the plan may rest
 * on a broken feed (one gateway down, a wrong topic for part of the fleet), so no auto-approve applies it: it waits
 * for a person. Pure, for the workflow sandbox.
 */
import type { PlanSummary } from '../shared';

/** MAX_SILENT_STATIONS when nothing sets it: more than half of the live stations silent holds the plan. */
export const DEFAULT_MAX_SILENT_STATIONS = 50;

/**
 * Why the plan must wait for a person ("4 of 6 live stations (67 %) sent nothing, more than the 50 % of
 * --max-silent-stations/MAX_SILENT_STATIONS"), or undefined when the silence is within `maxPercent`.
 */
export function tooManySilent(plan: Pick<PlanSummary, 'silentStations' | 'stationsInDatabase'>, maxPercent = DEFAULT_MAX_SILENT_STATIONS): string | undefined {
  const silent = plan.silentStations;
  // Plans of cp-sync 0.1 do not count silent stations; an empty database has none.
  if (silent === undefined || plan.stationsInDatabase <= 0) return undefined;
  const percent = (silent * 100) / plan.stationsInDatabase;
  if (percent <= maxPercent) return undefined;
  return `${silent} of ${plan.stationsInDatabase} live stations (${Math.round(percent)} %) sent nothing, more than the ${maxPercent} % of --max-silent-stations/MAX_SILENT_STATIONS; a person must approve`;
}
