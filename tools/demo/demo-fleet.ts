/**
 * The demo fleet, as data: what `npm run demo` seeds into the demo database (seed-demo.ts), what the station
 * simulator publishes over MQTT (simulator.ts), and the charging_points the database must hold after an
 * approved sync (checked by `seed-demo --summary`). One place, so the three always agree.
 *
 * Each station shows one case of the original tool's guide or of the bugs it had:
 *
 *   Alpha    complete: 2 connectors, points 1,2                      → nothing to do
 *   Beta     missing points: count 3, point 1 (publishes 2 then 3)   → create 2,3 (highest count wins)
 *   Gamma    gap: count 3, points 1 and 3                            → create 2 only (the original made a 2nd point 3)
 *   Delta    surplus: count 2, points 1..4                           → nothing; 3,4 reported as surplus, never deleted
 *   Epsilon  station_id undashed, device publishes it dashed         → matched; create 1,2
 *   Zeta     soft-deleted station                                     → its device is "not found"; nothing written
 *   Eta      soft-deleted point 2, count 2                            → create 2 (a deleted row does not count)
 *   Theta    device publishes 'abc'                                   → message rejected; nothing written
 *   + two devices with no station at all                              → listed under "Stations Not Found"
 */

/** MQTT account (topic level 1) the simulator publishes under and the demo sync listens to. */
export const DEMO_ACCOUNT = 'demo';

/** When the seeded rows were "created": a fixed time, so the seed is the same on every run. */
export const SEEDED_AT = '2024-11-11 10:30:00';

export interface DemoPoint {
  /** charging_points.id */
  id: number;
  pointId: number;
  /** Soft-deleted (charging_points.deleted set). */
  deleted?: boolean;
}

export interface DemoStation {
  /** charging_stations.id (charging_points.station_id holds it as text). */
  pk: number;
  name: string;
  /** charging_stations.station_id */
  stationId: string;
  /** Soft-deleted (charging_stations.deleted set). */
  deleted?: boolean;
  points: DemoPoint[];
  /** Point ids an approved sync creates on this station. */
  expectCreated: number[];
  /** Point ids reported as surplus (kept). */
  expectSurplus?: number[];
  /** The case this station demonstrates, for people. */
  note: string;
}

export interface DemoDevice {
  /** Topic level 3. */
  deviceId: string;
  /** Payloads published in turn, one a second (a count, or garbage). */
  payloads: string[];
  /** The station (pk) this device is, if any. */
  stationPk?: number;
}

export const DEMO_STATIONS: readonly DemoStation[] = [
  {
    pk: 12345,
    name: 'Alpha Station',
    stationId: 'ab12-cd34-ef56-gh78',
    points: [
      { id: 1001, pointId: 1 },
      { id: 1002, pointId: 2 },
    ],
    expectCreated: [],
    note: 'complete',
  },
  {
    pk: 67890,
    name: 'Beta Station',
    stationId: '6r43-lnud-2u11-oa8z',
    points: [{ id: 1003, pointId: 1 }],
    expectCreated: [2, 3],
    note: 'missing points (publishes 2 and 3: the highest wins)',
  },
  {
    pk: 11111,
    name: 'Gamma Station',
    stationId: '1234-5678-90ab-cdef',
    points: [
      { id: 1004, pointId: 1 },
      { id: 1005, pointId: 3 },
    ],
    expectCreated: [2],
    note: 'gap: points 1 and 3 of 3',
  },
  {
    pk: 22222,
    name: 'Delta Station',
    stationId: '9kq2-x7mw-4t8p-b3zd',
    points: [
      { id: 1006, pointId: 1 },
      { id: 1007, pointId: 2 },
      { id: 1008, pointId: 3 },
      { id: 1009, pointId: 4 },
    ],
    expectCreated: [],
    expectSurplus: [3, 4],
    note: 'surplus: 4 points, 2 connectors (kept)',
  },
  {
    pk: 33333,
    name: 'Epsilon Station',
    stationId: 'p5v8r2h6k9w3c1n4',
    points: [],
    expectCreated: [1, 2],
    note: 'station_id undashed, device id dashed',
  },
  {
    pk: 44444,
    name: 'Zeta Station',
    stationId: 'z7y6-x5w4-v3u2-t1s0',
    deleted: true,
    points: [{ id: 1010, pointId: 1 }],
    expectCreated: [],
    note: 'soft-deleted station: its device is not found',
  },
  {
    pk: 55555,
    name: 'Eta Station',
    stationId: 'm3n4-b5v6-c7x8-z9l0',
    points: [
      { id: 1011, pointId: 1 },
      { id: 1012, pointId: 2, deleted: true },
    ],
    expectCreated: [2],
    note: 'soft-deleted point 2 is recreated',
  },
  {
    pk: 66666,
    name: 'Theta Station',
    stationId: 'q1w2-e3r4-t5y6-u7i8',
    points: [{ id: 1013, pointId: 1 }],
    expectCreated: [],
    note: "device publishes 'abc': rejected, nothing written",
  },
];

export const DEMO_DEVICES: readonly DemoDevice[] = [
  { deviceId: 'ab12-cd34-ef56-gh78', payloads: ['2'], stationPk: 12345 },
  { deviceId: '6r43-lnud-2u11-oa8z', payloads: ['2', '3'], stationPk: 67890 },
  { deviceId: '1234-5678-90ab-cdef', payloads: ['3'], stationPk: 11111 },
  { deviceId: '9kq2-x7mw-4t8p-b3zd', payloads: ['2'], stationPk: 22222 },
  { deviceId: 'p5v8-r2h6-k9w3-c1n4', payloads: ['2'], stationPk: 33333 },
  { deviceId: 'z7y6-x5w4-v3u2-t1s0', payloads: ['2'], stationPk: 44444 },
  { deviceId: 'm3n4-b5v6-c7x8-z9l0', payloads: ['2'], stationPk: 55555 },
  { deviceId: 'q1w2-e3r4-t5y6-u7i8', payloads: ['abc'], stationPk: 66666 },
  { deviceId: 'zzzz-yyyy-xxxx-wwww', payloads: ['2'] },
  { deviceId: 'aaaa-bbbb-cccc-dddd', payloads: ['1'] },
];

/** What an approved demo sync reports. */
export const DEMO_EXPECTED = {
  pointsCreated: DEMO_STATIONS.reduce((n, s) => n + s.expectCreated.length, 0),
  /** Devices with a valid count (the 'abc' device is rejected, so it is not a processed device). */
  processedDevices: DEMO_DEVICES.filter((d) => d.payloads.some((p) => /^\d+$/.test(p))).length,
  notFound: ['z7y6-x5w4-v3u2-t1s0', 'zzzz-yyyy-xxxx-wwww', 'aaaa-bbbb-cccc-dddd'],
} as const;

/** One charging_points row as the database must hold it after the sync: [station pk, point_id, deleted]. */
export type ExpectedPoint = readonly [stationPk: number, pointId: number, deleted: boolean];

/** With `applied` false: the seeded rows, as a rejected, expired or failed sync leaves them. */
export function expectedPointsAfterSync(applied = true): ExpectedPoint[] {
  const rows: ExpectedPoint[] = [];
  for (const station of DEMO_STATIONS) {
    for (const point of station.points) rows.push([station.pk, point.pointId, point.deleted === true]);
    if (applied) for (const pointId of station.expectCreated) rows.push([station.pk, pointId, false]);
  }
  return rows.sort((a, b) => a[0] - b[0] || a[1] - b[1] || Number(a[2]) - Number(b[2]));
}
