/**
 * The one "still missing" rule: what the apply writes for a planned station, decided against ocpp-db as it is at
 * the moment of writing. The apply (store/applier.ts) decides with it under lock; `cp-sync plan --format sql`
 * (cli/plan-export.ts) decides with it without locks, so the export prints exactly what the apply would insert.
 */
import type { ApplyResult } from '../shared';

/** The planned point ids that have no live point by now, in plan order. */
export function stillMissing(planned: readonly number[], live: readonly number[] | undefined): number[] {
  // A station has a handful of connectors: a scan beats building a set per station at a million stations.
  return live === undefined || live.length === 0 ? [...planned] : planned.filter((pointId) => !live.includes(pointId));
}

/** A planned station as ocpp-db has it now. */
export interface PlannedStationNow {
  /** undefined when the station was deleted (soft or hard) since the plan. */
  name: string | undefined;
  /** The plan's point ids for it. */
  planned: readonly number[];
  /** Its live point ids now; undefined when it has none. */
  live: readonly number[] | undefined;
}

/** Decides station after station what the apply creates, and counts what it leaves out and why. */
export class ApplyTally {
  private created = 0;
  private stationsChanged = 0;
  private alreadyPresent = 0;
  private stationsGone = 0;

  /** The point ids to create on the station: none when it is gone or complete by now. */
  station({ name, planned, live }: PlannedStationNow): number[] {
    if (name === undefined) {
      this.stationsGone++;
      return [];
    }
    const missing = stillMissing(planned, live);
    this.alreadyPresent += planned.length - missing.length;
    if (missing.length > 0) {
      this.stationsChanged++;
      this.created += missing.length;
    }
    return missing;
  }

  result(): ApplyResult {
    return { created: this.created, stationsChanged: this.stationsChanged, alreadyPresent: this.alreadyPresent, stationsGone: this.stationsGone };
  }
}
