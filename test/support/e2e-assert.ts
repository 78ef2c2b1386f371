/**
 * Assertions over the database after a sync: what was created, and that nothing else changed.
 */
import type { E2eDatabase, PointRow, StationRow } from './e2e-db';

/** Everything in charging_points (and charging_stations) before a sync, to compare with afterwards. */
export interface Snapshot {
  points: PointRow[];
  stations: StationRow[];
  takenAt: Date;
}

export async function snapshot(db: E2eDatabase): Promise<Snapshot> {
  const takenAt = new Date();
  takenAt.setUTCMilliseconds(0);
  return { points: await db.allPoints(), stations: await db.allStations(), takenAt };
}

/**
 * Checks the rows a sync created since `before` and returns them as `station_id → point_ids`:
 *   - every row that existed before is unchanged (nothing updated, nothing deleted, soft-deleted rows untouched),
 *     and the stations are unchanged;
 *   - each new row: a unique id, name = its station's name, station_id = the station's numeric id as text,
 *     point_id ≥ 1, created = updated, set to the time of the sync, every other column null;
 *   - each live connector (station_id, point_id) exists exactly once.
 */
export async function createdSince(db: E2eDatabase, before: Snapshot): Promise<Map<string, number[]>> {
  const after = await db.allPoints();
  expect(await db.allStations()).toEqual(before.stations);

  const byId = new Map(after.map((p) => [p.id, p]));
  expect(byId.size).toBe(after.length);
  for (const old of before.points) expect(byId.get(old.id)).toEqual(old);

  const stations = new Map(before.stations.map((s) => [s.id, s]));
  const oldIds = new Set(before.points.map((p) => p.id));
  const fresh = after.filter((p) => !oldIds.has(p.id));
  const now = Date.now();
  const created = new Map<string, number[]>();
  for (const row of fresh) {
    const station = stations.get(row.station_id);
    if (!station) throw new Error(`new row ${row.id} has station_id ${row.station_id}, which is no station's id`);
    expect(row).toEqual({
      id: expect.stringMatching(/^[1-9]\d*$/),
      name: station.name,
      point_id: expect.any(Number),
      station_id: station.id,
      latitude: null,
      longitude: null,
      error_code: null,
      connector_status: null,
      created: expect.any(Date),
      updated: expect.any(Date),
      deleted: null,
    });
    expect(row.point_id).toBeGreaterThanOrEqual(1);
    expect(row.updated).toEqual(row.created);
    expect(row.created!.getTime()).toBeGreaterThanOrEqual(before.takenAt.getTime());
    expect(row.created!.getTime()).toBeLessThanOrEqual(now + 1000);
    created.set(row.station_id, [...(created.get(row.station_id) ?? []), row.point_id].sort((a, b) => a - b));
  }

  const live = after.filter((p) => p.deleted === null).map((p) => `${p.station_id}/${p.point_id}`);
  expect(new Set(live).size).toBe(live.length);
  return created;
}

/** `{ [station.station_id]: point_ids }` for readable expectations. */
export function byStationId(created: Map<string, number[]>, stations: StationRow[]): Record<string, number[]> {
  const names = new Map(stations.map((s) => [s.id, s.station_id]));
  return Object.fromEntries([...created].map(([pk, points]) => [names.get(pk) ?? `unknown station ${pk}`, points]));
}

/** A run's history, as `handle.fetchHistory()` gives it. */
interface HistoryLike {
  events?: Array<{
    eventId?: { toString(): string } | null;
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
    activityTaskStartedEventAttributes?: { scheduledEventId?: { toString(): string } | null; attempt?: number | null } | null;
  }> | null;
}

/**
 * The attempt number of every started activity of the sync itself (collect, diff, apply), in order; the
 * notification activity, which runs beside them whether or not a webhook is set, is left out.
 */
export function syncActivityAttempts(history: HistoryLike): number[] {
  const events = history.events ?? [];
  const typeOf = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name]));
  return events.flatMap((e) => {
    const started = e.activityTaskStartedEventAttributes;
    if (!started || typeOf.get(String(started.scheduledEventId)) === 'sendNotification') return [];
    return [started.attempt ?? 0];
  });
}
