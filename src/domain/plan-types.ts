/**
 * The plan as the workflow keeps it, its history records it and people see it: the counts, always exact, and
 * samples of each list, capped at PLAN_SAMPLE_LIMIT (the full plan lives in the database).
 */

/** One station of the plan, as shown to people (the full plan lives in the database). */
export interface PlanStation {
  deviceId: string;
  stationId: string;
  stationPk: string;
  stationName: string;
  expected: number;
  livePoints: number;
  missing: number[];
  surplus: number[];
  /** Test mode and not the test device: reported, not written. */
  skipped: boolean;
}

/** A live station that no device named during the window. */
export interface SilentStation {
  stationPk: string;
  stationId: string;
  stationName: string;
}

/** A device whose id and undashed id name two different live stations: the exact match (stationId) wins. */
export interface AmbiguousDevice {
  deviceId: string;
  stationId: string;
  otherStationId: string;
}

export interface RejectedMessage {
  topic: string;
  payload: string;
  reason: string;
}

/**
 * The plan as kept in workflow state and history. Lists are capped (see PLAN_SAMPLE_LIMIT) so that the
 * history stays small whatever the fleet size; the counts are always exact.
 */
export interface PlanSummary {
  fingerprint: string;
  /** Test mode: only this device's station is written. */
  testDeviceId?: string;
  processedDevices: number;
  messages: number;
  stationsInDatabase: number;
  stationsToChange: number;
  pointsToCreate: number;
  surplusPoints: number;
  skippedStations: number;
  notFound: number;
  rejected: number;
  /** Live stations in the database that sent nothing during the window (absent in plans of cp-sync 0.1). */
  silentStations?: number;
  /** Devices whose dashed and undashed ids name two different live stations (absent in plans of cp-sync 0.1). */
  ambiguousDevices?: number;
  /**
   * Messages the broker dropped during the window, broker-wide (all its clients), from its
   * `$SYS/broker/publish/messages/dropped`; absent when the broker does not publish it.
   */
  brokerDroppedMessages?: number;
  /** Stations that will get points (and skipped or surplus-only ones), first PLAN_SAMPLE_LIMIT. */
  stations: PlanStation[];
  notFoundDeviceIds: string[];
  /** First PLAN_SAMPLE_LIMIT silent stations, by id; cp_sync_silent_stations has them all. */
  silentStationSamples?: SilentStation[];
  ambiguities?: AmbiguousDevice[];
  rejectedSamples: RejectedMessage[];
  /** True when a list above holds fewer entries than its count. */
  truncated: boolean;
}

export const PLAN_SAMPLE_LIMIT = 200;
