/**
 * `--steady`: the watch benchmark's fleet as a watch finds it after weeks of running, rather than on its first day:
 *   - every fleet station already has all its points (the fleet is in sync; surplus points stay);
 *   - the watch's table already knows every fleet device at the count it publishes, and which have no station,
 *     exactly as a cycle leaves them (pending = 0, no_station as planned). They are not marked as planned by a cycle
 *     (planned_cycle = 0), so that no cycle of the new watch re-plans them.
 * Then what changes during the run is what changes in a running fleet: the new devices, a count that rises, and the
 * devices without a station, which a watch plans again whenever they are heard (their station may exist by now).
 */
import type { Pool } from '../../src/db/pool';
import { undashed } from '../../src/domain/plan';
import { benchDevice, missingPoints } from './fleet';
import { insertChunked } from './harness';

const ROWS_PER_FLUSH = 50_000;

/** Inserts every fleet station's missing points after `lastPointId`; returns the last point id. */
export async function completeFleet(pool: Pool, devices: number, lastPointId: number): Promise<number> {
  let rows: unknown[][] = [];
  let id = lastPointId;
  for (let i = 1; i <= devices; i++) {
    const device = benchDevice(i);
    for (const p of missingPoints(device)) rows.push([++id, `Station ${device.station!.pk}`, p, String(device.station!.pk)]);
    if (rows.length >= ROWS_PER_FLUSH) {
      await insertChunked(pool, 'INSERT INTO charging_points (id, name, point_id, station_id) VALUES ?', rows);
      rows = [];
    }
  }
  await insertChunked(pool, 'INSERT INTO charging_points (id, name, point_id, station_id) VALUES ?', rows);
  return id;
}

/** Writes the watch's row for every fleet device, as known and planned, under the watch's key. */
export async function knownFleet(pool: Pool, table: string, watchKey: string, devices: number): Promise<void> {
  const heard = new Date();
  let rows: unknown[][] = [];
  for (let i = 1; i <= devices; i++) {
    const device = benchDevice(i);
    rows.push([watchKey, device.deviceId, undashed(device.deviceId), device.connectors, heard, heard, 0, 0, device.station ? 0 : 1]);
    if (rows.length >= ROWS_PER_FLUSH || i === devices) {
      await insertChunked(pool, `INSERT INTO ${table} (watch_key, device_id, device_plain, connectors, first_heard, last_heard, pending, planned_cycle, no_station) VALUES ?`, rows);
      rows = [];
    }
  }
}
