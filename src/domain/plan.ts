/**
 * The pure rules of the plan for one station: the device's id without dashes (its second spelling; the lookup by
 * both spellings runs in the planner's query), which device test mode writes, which connectors are missing, which
 * are surplus, and the plan's fingerprint.
 */
import { createHash } from 'node:crypto';

export function undashed(deviceId: string): string {
  return deviceId.replace(/-/g, '');
}

/** Test mode matches the test device with or without dashes, on either side. */
export function isTestDevice(deviceId: string, testDeviceId: string | undefined): boolean {
  if (testDeviceId === undefined || testDeviceId === '') return false;
  return deviceId === testDeviceId || undashed(deviceId) === undashed(testDeviceId);
}

/** The connectors 1..expected that have no live point. */
export function missingPointIds(expected: number, livePointIds: Iterable<number>): number[] {
  const live = new Set(livePointIds);
  const missing: number[] = [];
  for (let pointId = 1; pointId <= expected; pointId++) if (!live.has(pointId)) missing.push(pointId);
  return missing;
}

/** Live points above the reported count: reported to the operator, never deleted. */
export function surplusPointIds(expected: number, livePointIds: Iterable<number>): number[] {
  return [...new Set(livePointIds)].filter((pointId) => pointId > expected).sort((a, b) => a - b);
}

/** The part of a planned station that decides what is written. */
export interface FingerprintedStation {
  stationPk: string;
  missing: readonly number[];
  skipped: boolean;
}

/**
 * Builds a fingerprint incrementally over stations given in ascending stationPk order, so that a plan of any
 * size is fingerprinted while it streams. Two plans with the same writes have the same fingerprint.
 */
export class PlanFingerprint {
  private readonly hash = createHash('sha256');

  add(station: FingerprintedStation): void {
    if (station.missing.length === 0 || station.skipped) return;
    this.hash.update(`${station.stationPk}:${station.missing.join(',')};`);
  }

  /** 16 hex digits: short enough to type, long enough never to match another plan by chance. */
  digest(): string {
    return this.hash.digest('hex').slice(0, 16);
  }
}
