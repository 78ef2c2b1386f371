/**
 * The benchmark's fleet, generated from the device number alone (so that the seeder, the publisher process and the
 * final check agree without passing a million rows around):
 *   - 1 to 4 connectors per station;
 *   - 5 % unknown devices (no station), half of the station ids stored undashed (devices always publish dashed);
 *   - about 20 % of stations missing points: 10 % with no point at all, 10 % with a gap (the middle point);
 *   - 5 % with a surplus point (kept, never deleted);
 *   - 10 % of devices publish their count twice (QoS 1 duplicates, as the broker may deliver them);
 *   - or, with `missingEvery`, a fleet mostly in sync: only every n-th station misses a point.
 */
import { undashed } from '../../src/domain/plan';

export interface BenchDevice {
  deviceId: string;
  connectors: number;
  /** Absent for an unknown device. */
  station?: { pk: number; stationId: string; points: number[] };
  /** Messages it publishes (its count, once or twice). */
  messages: number;
}

/** A cheap integer hash, so that the fleet's traits do not line up with each other. */
function mix(i: number, salt: number): number {
  let h = Math.imul(i ^ salt, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

export function benchDeviceId(i: number): string {
  const hex = i.toString(16).padStart(16, '0');
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12)}`;
}

/** `missingEvery` (`--missing-stations`): a fleet mostly in sync, where only every n-th station misses a point (its last). */
export interface FleetOptions {
  missingEvery?: number;
}

export function benchDevice(i: number, { missingEvery }: FleetOptions = {}): BenchDevice {
  const deviceId = benchDeviceId(i);
  const connectors = 1 + (mix(i, 1) % 4);
  const messages = mix(i, 2) % 10 === 0 ? 2 : 1;
  if (mix(i, 3) % 20 === 0) return { deviceId, connectors, messages };
  const kind = mix(i, 4) % 20;
  const all = Array.from({ length: connectors }, (_, k) => k + 1);
  const gap = Math.ceil(connectors / 2);
  const points =
    missingEvery !== undefined
      ? i % missingEvery === 0
        ? all.slice(0, -1)
        : kind === 4
          ? [...all, connectors + 1]
          : all
      : kind < 2
        ? []
        : kind < 4
          ? all.filter((p) => p !== gap)
          : kind === 4
            ? [...all, connectors + 1]
            : all;
  return { deviceId, connectors, messages, station: { pk: i, stationId: i % 2 === 0 ? undashed(deviceId) : deviceId, points } };
}

/** The points an approved sync must create on a device's station. */
export function missingPoints(device: BenchDevice): number[] {
  if (!device.station) return [];
  const present = new Set(device.station.points);
  return Array.from({ length: device.connectors }, (_, k) => k + 1).filter((p) => !present.has(p));
}

/**
 * A device that comes online during a watch benchmark (numbered after the fleet): its station exists, without any
 * point, so the watch must create all of its connectors.
 */
export function newBenchDevice(i: number): BenchDevice & { station: NonNullable<BenchDevice['station']> } {
  const deviceId = benchDeviceId(i);
  return { deviceId, connectors: 1 + (mix(i, 1) % 4), messages: 1, station: { pk: i, stationId: i % 2 === 0 ? undashed(deviceId) : deviceId, points: [] } };
}
