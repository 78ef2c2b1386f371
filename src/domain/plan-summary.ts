/**
 * How a plan's summary is built as the merge (domain/plan-merge.ts) hands out its facts: every count exact, every
 * list capped at PLAN_SAMPLE_LIMIT, so the summary kept in the workflow's history stays small whatever the fleet.
 * The planner (store/planner.ts) only reads the inputs and writes the rows; what they add up to is decided here.
 */
import { PlanFingerprint } from './plan';
import { PLAN_SAMPLE_LIMIT, type AmbiguousDevice, type PlanStation, type PlanSummary, type RejectedMessage, type SilentStation } from './plan-types';

/** The collection window's counters, as the run's record holds them (the broker's counter as decimal text). */
export interface RunCounters {
  messages: number;
  rejected: number;
  brokerDroppedStart: string | null;
  brokerDroppedEnd: string | null;
}

/** What the summary starts from: the run's counters, the live stations now, and the first stored rejected messages. */
export interface PlanStart {
  counters: RunCounters;
  stationsInDatabase: number;
  /** Up to PLAN_SAMPLE_LIMIT + 1, in arrival order: one more than the cap tells that the list is cut. */
  rejectedSamples: RejectedMessage[];
  testDeviceId: string | undefined;
}

/**
 * Messages the broker dropped during the window. A counter that went down means the broker restarted during the
 * window: the drops are then unknown (undefined), as they are when the broker does not publish the counter.
 */
export function brokerDropsDuring(start: string | null, end: string | null): number | undefined {
  if (start === null || end === null || BigInt(end) < BigInt(start)) return undefined;
  return Number(BigInt(end) - BigInt(start));
}

/** A station that the plan keeps: it has points to create (or skipped in test mode) or surplus points to report. */
export function isKeptStation(station: Pick<PlanStation, 'missing' | 'surplus'>): boolean {
  return station.missing.length > 0 || station.surplus.length > 0;
}

export class PlanSummaryBuilder {
  private readonly summary: PlanSummary;
  private readonly silentStationSamples: SilentStation[] = [];
  private readonly ambiguities: AmbiguousDevice[] = [];
  private readonly fingerprint = new PlanFingerprint();

  constructor({ counters, stationsInDatabase, rejectedSamples, testDeviceId }: PlanStart) {
    this.summary = {
      fingerprint: '',
      testDeviceId,
      processedDevices: 0,
      messages: counters.messages,
      stationsInDatabase,
      stationsToChange: 0,
      pointsToCreate: 0,
      surplusPoints: 0,
      skippedStations: 0,
      notFound: 0,
      rejected: counters.rejected,
      silentStations: 0,
      ambiguousDevices: 0,
      brokerDroppedMessages: brokerDropsDuring(counters.brokerDroppedStart, counters.brokerDroppedEnd),
      stations: [],
      notFoundDeviceIds: [],
      rejectedSamples: rejectedSamples.slice(0, PLAN_SAMPLE_LIMIT),
      // Samples are distinct messages, so fewer samples than rejects is normal; only the list limit truncates.
      truncated: rejectedSamples.length > PLAN_SAMPLE_LIMIT,
      silentStationSamples: this.silentStationSamples,
      ambiguities: this.ambiguities,
    };
  }

  get stationsInDatabase(): number {
    return this.summary.stationsInDatabase;
  }

  /** Counts a device heard during the window; returns how many so far. */
  device(): number {
    return ++this.summary.processedDevices;
  }

  /** Counts devices heard during the window all at once (a plan built during the window knows only their number here). */
  devices(count: number): void {
    this.summary.processedDevices += count;
  }

  /** The silent stations all at once: their number, and the first of them in key order (up to one more than the cap). */
  silentStations(count: number, first: SilentStation[]): void {
    this.summary.silentStations = (this.summary.silentStations ?? 0) + count;
    for (const station of first.slice(0, count)) this.sample(this.silentStationSamples, station);
  }

  notFound(deviceId: string): void {
    this.summary.notFound++;
    this.sample(this.summary.notFoundDeviceIds, deviceId);
  }

  ambiguous(ambiguity: AmbiguousDevice): void {
    this.summary.ambiguousDevices = (this.summary.ambiguousDevices ?? 0) + 1;
    this.sample(this.ambiguities, ambiguity);
  }

  silent(station: SilentStation): void {
    this.summary.silentStations = (this.summary.silentStations ?? 0) + 1;
    this.sample(this.silentStationSamples, station);
  }

  /**
   * Counts a planned station (stations must come in ascending key order, as the merge gives them); false when it has
   * nothing to create or report (the plan does not keep it).
   */
  station(station: PlanStation): boolean {
    this.fingerprint.add(station);
    if (!isKeptStation(station)) return false;
    if (station.skipped && station.missing.length > 0) this.summary.skippedStations++;
    else if (station.missing.length > 0) {
      this.summary.stationsToChange++;
      this.summary.pointsToCreate += station.missing.length;
    }
    this.summary.surplusPoints += station.surplus.length;
    this.sample(this.summary.stations, station);
    return true;
  }

  /** The summary, sealed with the plan's fingerprint. */
  finish(): PlanSummary {
    this.summary.fingerprint = this.fingerprint.digest();
    return this.summary;
  }

  private sample<T>(list: T[], item: T): void {
    if (list.length < PLAN_SAMPLE_LIMIT) list.push(item);
    else this.summary.truncated = true;
  }
}
