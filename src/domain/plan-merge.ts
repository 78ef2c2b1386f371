/**
 * The plan as a merge of two sorted streams: the run's devices matched to their stations, and every live station
 * with its live points, both in ascending station key order. One pass, constant memory: the rules of domain/plan
 * decide each station as the two streams meet, and every fact (a station to change or complete, a device without a
 * station, an ambiguous device, a silent station) is handed out as an event for the caller to write and count.
 */
import { isTestDevice, missingPointIds, surplusPointIds } from './plan';
import type { AmbiguousDevice, PlanStation, SilentStation } from './plan-types';

/** A device of the run and the live station its id (or its undashed id) names; stationPk null when none does. */
export interface MatchedDevice {
  deviceId: string;
  connectors: number;
  stationPk: string | null;
  /** Set when the undashed id names another live station than the exact id (which wins). */
  otherStationPk: string | null;
  otherStationId: string | null;
}

/** A live station and its live point ids, as the database lists them (comma-separated, null: none). */
export interface LiveStation {
  stationPk: string;
  stationId: string;
  stationName: string;
  livePoints: string | null;
}

export function parsePointIds(list: string | null): number[] {
  return list === null || list === '' ? [] : list.split(',').map(Number);
}

export type PlanEvent =
  | { kind: 'device'; deviceId: string; connectors: number }
  | { kind: 'station'; station: PlanStation }
  | { kind: 'notFound'; deviceId: string; connectors: number }
  | { kind: 'ambiguous'; ambiguity: AmbiguousDevice; stationPk: string; otherStationPk: string }
  | { kind: 'silent'; station: SilentStation };

/**
 * Station keys are BIGINT UNSIGNED in canonical decimal: shorter is smaller, equal lengths compare as text (exact
 * beyond 2^53, and cheaper than BigInt).
 */
export function compareStationKeys(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class StreamOrderError extends Error {
  override readonly name = 'StreamOrderError';
}

/**
 * Receives every fact of the plan in order. `event` is synchronous (at a million devices, a promise per event costs
 * more than the event); what it gathers is written in `batchDone`, which the merge awaits between batches of rows, so
 * at most a batch of each stream's facts waits in memory.
 */
export interface PlanEventSink {
  event(event: PlanEvent): void;
  batchDone(): Promise<void>;
}

/** One stream of row batches read a row at a time: only a batch boundary awaits. */
class BatchCursor<T> {
  private batch: T[] = [];
  private index = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<T[]>) {}

  /** The current row; undefined when the batch is used up (see `needsFill`) or the stream has ended. */
  current(): T | undefined {
    return this.batch[this.index];
  }

  advance(): void {
    this.index++;
  }

  needsFill(): boolean {
    return !this.ended && this.index >= this.batch.length;
  }

  async fill(): Promise<void> {
    while (this.needsFill()) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else {
        this.batch = next.value;
        this.index = 0;
      }
    }
  }
}

/**
 * Devices must come ordered by station key (devices without a station last, then by device id), live stations by
 * station key, both in batches. A device whose station is not among the live stations (deleted between the two
 * reads) counts as not found: the apply re-checks every station under lock anyway.
 */
export async function mergePlan(devices: AsyncIterable<MatchedDevice[]>, liveStations: AsyncIterable<LiveStation[]>, sink: PlanEventSink, testDeviceId?: string): Promise<void> {
  const stations = new BatchCursor(liveStations[Symbol.asyncIterator]());
  // The station the devices last matched: passed by afterwards, it is not silent.
  let lastMatchedPk: string | undefined;
  let pending: { device: MatchedDevice; station: LiveStation; live: number[] } | undefined;

  /**
   * Advances the live stations to `pk` (undefined: to the end), reporting every station passed by as silent. True
   * when it got there; false when the current batch ran out first (fill the cursor, then call again).
   */
  const reach = (pk: string | undefined): boolean => {
    for (let station = stations.current(); station !== undefined; station = stations.current()) {
      if (pk !== undefined && compareStationKeys(station.stationPk, pk) >= 0) return true;
      if (station.stationPk !== lastMatchedPk) sink.event({ kind: 'silent', station: { stationPk: station.stationPk, stationId: station.stationId, stationName: station.stationName } });
      stations.advance();
    }
    return !stations.needsFill();
  };
  const reachAcrossBatches = async (pk: string | undefined): Promise<void> => {
    while (!reach(pk)) {
      await sink.batchDone();
      await stations.fill();
    }
  };
  const settle = (): void => {
    if (!pending) return;
    const { device, station: live, live: livePointIds } = pending;
    pending = undefined;
    sink.event({
      kind: 'station',
      station: {
        deviceId: device.deviceId,
        stationId: live.stationId,
        stationPk: live.stationPk,
        stationName: live.stationName,
        expected: device.connectors,
        livePoints: livePointIds.length,
        missing: missingPointIds(device.connectors, livePointIds),
        surplus: surplusPointIds(device.connectors, livePointIds),
        skipped: testDeviceId !== undefined && !isTestDevice(device.deviceId, testDeviceId),
      },
    });
  };
  const ambiguity = (device: MatchedDevice): void => {
    if (device.otherStationPk === null || device.stationPk === null || pending === undefined) return;
    const ambiguous: AmbiguousDevice = { deviceId: device.deviceId, stationId: pending.station.stationId, otherStationId: device.otherStationId ?? '' };
    sink.event({ kind: 'ambiguous', ambiguity: ambiguous, stationPk: device.stationPk, otherStationPk: device.otherStationPk });
  };

  let previousPk: string | null | undefined;
  for await (const batch of devices) {
    for (const device of batch) {
      const pk = device.stationPk === null ? null : String(device.stationPk);
      if (previousPk !== undefined && (previousPk === null ? pk !== null : pk !== null && compareStationKeys(pk, previousPk) < 0)) {
        throw new StreamOrderError(`devices out of station order: station ${pk ?? 'none'} after ${previousPk ?? 'none'}`);
      }
      previousPk = pk;
      sink.event({ kind: 'device', deviceId: device.deviceId, connectors: device.connectors });
      if (pk !== null && pending?.station.stationPk === pk) {
        // Same station reached through its other spelling: keep the higher count (and its device id).
        if (device.connectors > pending.device.connectors) pending.device = device;
        ambiguity(device);
        continue;
      }
      settle();
      if (pk !== null && !reach(pk)) await reachAcrossBatches(pk);
      const station = stations.current();
      if (pk === null || station === undefined || station.stationPk !== pk) {
        sink.event({ kind: 'notFound', deviceId: device.deviceId, connectors: device.connectors });
        continue;
      }
      lastMatchedPk = pk;
      pending = { device, station, live: parsePointIds(station.livePoints) };
      ambiguity(device);
    }
    await sink.batchDone();
  }
  settle();
  await reachAcrossBatches(undefined);
  await sink.batchDone();
}
