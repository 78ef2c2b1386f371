/**
 * Whole syncs against the real Temporal dev server, MariaDB and Mosquitto (see test/support/e2e.ts): the stations
 * publish over MQTT, the in-process worker collects, plans, waits for the approval signal and writes; every row is
 * checked in the database afterwards.
 */
import { temporal } from '@temporalio/proto';
import { WorkflowFailedError } from '@temporalio/client';
import type { PlanStation } from '../../src/shared';
import { deviceTopic } from '../../src/domain/topic';
import { byStationId, createdSince, snapshot } from '../support/e2e-assert';
import { report, useE2e, type StationRow } from '../support/e2e';

const e2e = useE2e('sync');
const TEST_TIMEOUT = 40_000;

beforeEach(async () => {
  await e2e.db.clearOcppTables();
});

function stationsById(stations: PlanStation[]): Record<string, Pick<PlanStation, 'deviceId' | 'expected' | 'livePoints' | 'missing' | 'surplus' | 'skipped'>> {
  return Object.fromEntries(stations.map((s) => [s.stationId, { deviceId: s.deviceId, expected: s.expected, livePoints: s.livePoints, missing: s.missing, surplus: s.surplus, skipped: s.skipped }]));
}

describe('a sync, from MQTT to the database', () => {
  test(
    'plans every rule of the original (fixed where it was wrong), writes nothing before approval, then creates exactly the missing points; a second sync has nothing to do',
    async () => {
      const { db } = e2e;
      // Points 1 and 3, count 3: only point 2 is missing (the original created a second point 3).
      const gaps = await db.station({ station_id: 'GAP-0001', name: 'Gaps' });
      await db.point(gaps, 1);
      await db.point(gaps, 3);
      const empty = await db.station({ station_id: 'NEW-0002', name: 'Brand new' });
      // Matched only through the device id without its dashes.
      const undashed = await db.station({ station_id: 'UND0003XYZ', name: 'Undashed' });
      await db.point(undashed, 1);
      // A soft-deleted station does not exist: its device is "not found" and its points stay as they are.
      const deletedStation = await db.station({ station_id: 'DEL-0004', name: 'Deleted station', deleted: new Date('2024-01-02T03:04:05Z') });
      await db.point(deletedStation, 1);
      // A soft-deleted point does not exist: its connector is missing and gets a new row; the old row stays.
      const softPoint = await db.station({ station_id: 'SDP-0005', name: 'Soft-deleted point' });
      await db.point(softPoint, 1);
      await db.point(softPoint, 2, { deleted: new Date('2024-01-02T03:04:05Z') });
      // Reports only payloads that are no whole number 0..16: never processed, nothing written.
      const badPayload = await db.station({ station_id: 'BAD-0006', name: 'Bad payloads' });
      // Reported as 2 and as 4: the highest count wins.
      const twice = await db.station({ station_id: 'TWICE-0007', name: 'Reported twice' });
      // More live points than reported: surplus, reported and kept.
      const surplus = await db.station({ station_id: 'SUR-0008', name: 'Surplus' });
      for (const pointId of [1, 2, 3, 4]) await db.point(surplus, pointId);
      // Missing 1 and 3, and 5 surplus.
      const mixed = await db.station({ station_id: 'MIX-0009', name: 'Mixed' });
      await db.point(mixed, 2);
      await db.point(mixed, 5);
      const inSync = await db.station({ station_id: 'OK-0010', name: 'In sync' });
      await db.point(inSync, 1);
      await db.point(inSync, 2);
      // Missing points, but silent during the window: untouched.
      const silent = await db.station({ station_id: 'SILENT-0011', name: 'Silent' });

      const account = e2e.account();
      const reports = [
        report('GAP-0001', 3),
        report('NEW-0002', 2),
        report('UND-0003-XYZ', 2),
        report('DEL-0004', 2),
        report('SDP-0005', 2),
        report('UNKNOWN-9999', 1),
        report('BAD-0006', 'abc'),
        report('BAD-0006', '2.5'),
        report('BAD-0006', '99'),
        report('TWICE-0007', 2),
        report('TWICE-0007', 4),
        report('TWICE-0007', 2),
        report('SUR-0008', 2),
        report('MIX-0009', 3),
        report('OK-0010', 2),
      ];
      const before = await snapshot(db);
      const handle = await e2e.collect(account, reports);

      const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
      const plan = waiting.plan!;
      expect(plan).toMatchObject({
        pointsToCreate: 11,
        stationsToChange: 6,
        processedDevices: 10,
        notFound: 2,
        surplusPoints: 3,
        skippedStations: 0,
        stationsInDatabase: 10,
      });
      expect(plan.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect([...plan.notFoundDeviceIds].sort()).toEqual(['DEL-0004', 'UNKNOWN-9999']);
      expect(stationsById(plan.stations)).toEqual({
        'GAP-0001': { deviceId: 'GAP-0001', expected: 3, livePoints: 2, missing: [2], surplus: [], skipped: false },
        'NEW-0002': { deviceId: 'NEW-0002', expected: 2, livePoints: 0, missing: [1, 2], surplus: [], skipped: false },
        UND0003XYZ: { deviceId: 'UND-0003-XYZ', expected: 2, livePoints: 1, missing: [2], surplus: [], skipped: false },
        'SDP-0005': { deviceId: 'SDP-0005', expected: 2, livePoints: 1, missing: [2], surplus: [], skipped: false },
        'TWICE-0007': { deviceId: 'TWICE-0007', expected: 4, livePoints: 0, missing: [1, 2, 3, 4], surplus: [], skipped: false },
        'SUR-0008': { deviceId: 'SUR-0008', expected: 2, livePoints: 4, missing: [], surplus: [3, 4], skipped: false },
        'MIX-0009': { deviceId: 'MIX-0009', expected: 3, livePoints: 2, missing: [1, 3], surplus: [5], skipped: false },
      });
      // Each bad payload is rejected with its reason and counted (the publisher repeats them, hence "at least"); a
      // repeated reject is sampled once per window.
      expect(plan.rejected).toBeGreaterThanOrEqual(3);
      expect(plan.rejectedSamples).toHaveLength(3);
      const reasons = Object.fromEntries(plan.rejectedSamples.map((r) => [r.payload, r.reason]));
      expect(reasons).toEqual({
        abc: expect.stringContaining('not a whole number'),
        '2.5': expect.stringContaining('not a whole number'),
        '99': expect.stringContaining('above MAX_CONNECTORS (16)'),
      });
      expect(new Set(plan.rejectedSamples.map((r) => r.topic))).toEqual(new Set([deviceTopic(account, 'BAD-0006')]));
      expect(waiting.approval).toBeUndefined();

      // The plan is a dry run until approved: nothing is written while it waits.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await createdSince(db, before)).size).toBe(0);
      expect((await e2e.status(handle)).phase).toBe('awaiting-approval');

      await e2e.approve(handle, plan.fingerprint);
      const result = await handle.result();
      expect(result).toMatchObject({
        phase: 'applied',
        created: 11,
        processedDevices: 10,
        notFoundCount: 2,
        fingerprint: plan.fingerprint,
        approval: { by: 'e2e-operator', fingerprint: plan.fingerprint, auto: false },
        apply: { created: 11, stationsChanged: 6, alreadyPresent: 0, stationsGone: 0 },
      });
      expect(result.rejected).toBe(plan.rejected);
      expect([...result.notFound].sort()).toEqual(['DEL-0004', 'UNKNOWN-9999']);
      expect((await e2e.status(handle)).phase).toBe('applied');

      const all: StationRow[] = [gaps, empty, undashed, deletedStation, softPoint, badPayload, twice, surplus, mixed, inSync, silent];
      expect(byStationId(await createdSince(db, before), all)).toEqual({
        'GAP-0001': [2],
        'NEW-0002': [1, 2],
        UND0003XYZ: [2],
        'SDP-0005': [2],
        'TWICE-0007': [1, 2, 3, 4],
        'MIX-0009': [1, 3],
      });
      expect(await db.livePointIds(gaps)).toEqual([1, 2, 3]);
      expect(await db.livePointIds(surplus)).toEqual([1, 2, 3, 4]);
      expect(await db.livePointIds(mixed)).toEqual([1, 2, 3, 5]);
      expect(await db.livePointIds(softPoint)).toEqual([1, 2]);
      expect(await db.livePointIds(badPayload)).toEqual([]);
      expect(await db.livePointIds(silent)).toEqual([]);

      // The original's log lines, which operators grep for.
      const lines = e2e.infoLines();
      expect(lines).toEqual(
        expect.arrayContaining([
          'Connected to MQTT broker',
          'Subscribed to connectors-count',
          'Collection completed!',
          'Disconnected from broker',
          'Database connection established successfully',
          'Found 10 charging stations',
          'Processing device: GAP-0001, connector count: 3',
          'Mismatch! Expected 3, but found 2 points',
          'No station found for device: UNKNOWN-9999',
          'No station found for device: DEL-0004',
          '=== Success ===',
          '✓ Transaction committed successfully',
          'Total charging points created: 11',
        ]),
      );
      expect(lines.indexOf('Found 10 charging stations')).toBeLessThan(lines.indexOf('Processing device: GAP-0001, connector count: 3'));

      // Credentials stay in the worker: not in its log, not in the workflow's history. The history is searched in
      // its wire form, where JSON payloads are plain UTF-8 (the account and a device id show that the search sees them).
      const history = Buffer.from(temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish()).toString('utf8');
      expect(history).toContain(account);
      expect(history).toContain('UNKNOWN-9999');
      for (const secret of e2e.secrets) {
        expect(history).not.toContain(secret);
        expect(e2e.lines.map((l) => l.line).join('\n')).not.toContain(secret);
        expect(e2e.sdkLog.join('\n')).not.toContain(secret);
      }

      // The same reports again: everything is in place now.
      const afterFirst = await snapshot(db);
      const again = await e2e.collect(e2e.account(), reports);
      const second = await again.result();
      expect(second).toMatchObject({ phase: 'nothing-to-do', created: 0, processedDevices: 10, notFoundCount: 2 });
      expect((await createdSince(db, afterFirst)).size).toBe(0);
    },
    TEST_TIMEOUT,
  );

  test(
    'an approval with a stale fingerprint is refused and writes nothing; the current one applies',
    async () => {
      const { db } = e2e;
      const station = await db.station({ station_id: 'STALE-0001', name: 'Stale' });
      const account = e2e.account();
      const reports = [report('STALE-0001', 2)];

      // A first, dry run: its plan (points 1 and 2) is what the operator looked at.
      const dry = await e2e.collect(account, reports, { dryRun: true });
      const dryResult = await dry.result();
      expect(dryResult.phase).toBe('dry-run');
      const stale = dryResult.fingerprint!;
      expect(await db.livePointIds(station)).toEqual([]);

      // Meanwhile someone creates point 1: the next plan differs.
      await db.point(station, 1);
      const before = await snapshot(db);
      const handle = await e2e.collect(account, reports);
      const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
      expect(waiting.plan).toMatchObject({ pointsToCreate: 1 });
      expect(waiting.plan!.fingerprint).not.toBe(stale);

      await e2e.approve(handle, stale, 'stale-operator');
      const refused = await e2e.statusWhen(handle, 'the stale approval refused', (s) => s.refusedApprovals.length >= 1, 10_000);
      expect(refused.phase).toBe('awaiting-approval');
      expect(refused.approval).toBeUndefined();
      expect(refused.refusedApprovals).toEqual([
        expect.objectContaining({ by: 'stale-operator', fingerprint: stale, reason: expect.stringContaining(`fingerprint ${stale} is not the current plan's`) }),
      ]);
      expect((await createdSince(db, before)).size).toBe(0);

      await e2e.approve(handle, waiting.plan!.fingerprint);
      const result = await handle.result();
      expect(result).toMatchObject({ phase: 'applied', created: 1, approval: { by: 'e2e-operator', fingerprint: waiting.plan!.fingerprint } });
      expect(byStationId(await createdSince(db, before), [station])).toEqual({ 'STALE-0001': [2] });
    },
    TEST_TIMEOUT,
  );

  test.each([
    { case: 'the topic has the dashes', topicDevice: 'TMD-0001-AAAA' },
    { case: 'the topic has no dashes', topicDevice: 'TMD0001AAAA' },
  ])(
    'test mode (TEST_DEVICE_ID with dashes, station id without; $case): only that station is written, the others are reported and skipped',
    async ({ topicDevice }) => {
      const { db } = e2e;
      const target = await db.station({ station_id: 'TMD0001AAAA', name: 'Test device' });
      const other = await db.station({ station_id: 'OTH-0002', name: 'Other' });
      await db.point(other, 2);
      const before = await snapshot(db);

      const handle = await e2e.collect(e2e.account(), [report(topicDevice, 2), report('OTH-0002', 3), report('NOBODY-0003', 1)], { testDeviceId: 'TMD-0001-AAAA' });
      const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
      expect(waiting.plan).toMatchObject({ pointsToCreate: 2, stationsToChange: 1, skippedStations: 1, processedDevices: 3, notFound: 1, notFoundDeviceIds: ['NOBODY-0003'] });
      expect(stationsById(waiting.plan!.stations)).toEqual({
        TMD0001AAAA: { deviceId: topicDevice, expected: 2, livePoints: 0, missing: [1, 2], surplus: [], skipped: false },
        'OTH-0002': { deviceId: 'OTH-0002', expected: 3, livePoints: 1, missing: [1, 3], surplus: [], skipped: true },
      });

      await e2e.approve(handle, waiting.plan!.fingerprint);
      expect(await handle.result()).toMatchObject({ phase: 'applied', created: 2, processedDevices: 3, notFound: ['NOBODY-0003'] });
      expect(byStationId(await createdSince(db, before), [target, other])).toEqual({ TMD0001AAAA: [1, 2] });
      expect(e2e.infoLines()).toEqual(expect.arrayContaining(['⚠️  TEST MODE: Only processing device: TMD-0001-AAAA', '⊘ Skipped (test mode)']));
    },
    TEST_TIMEOUT,
  );

  // The first case is the operator's view (one bad row, nothing written); the second is the one that needs the
  // transaction: every INSERT has succeeded when the last statement fails, and all of them must be rolled back.
  test.each([
    {
      case: "a row of one station is refused by a trigger (other stations' rows come first in the same insert)",
      trigger: (failing: StationRow) => `CREATE TRIGGER e2e_refuse BEFORE INSERT ON charging_points FOR EACH ROW
        BEGIN IF NEW.station_id = '${failing.id}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'e2e: row refused for station ${failing.station_id}'; END IF; END`,
    },
    {
      case: "the run's record cannot be updated after every insert succeeded",
      trigger: () => `CREATE TRIGGER ${e2e.db.config.toolDatabase}.e2e_refuse BEFORE UPDATE ON ${e2e.db.tables.runs} FOR EACH ROW
        BEGIN IF NEW.applied IS NOT NULL THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'e2e: run record refused'; END IF; END`,
    },
  ])(
    'a database error during apply fails the run and leaves no new row at all ($case)',
    async ({ trigger }) => {
      const { db } = e2e;
      const first = await db.station({ station_id: 'ERR-A', name: 'Error A' });
      const failing = await db.station({ station_id: 'ERR-B', name: 'Error B' });
      const last = await db.station({ station_id: 'ERR-C', name: 'Error C' });
      await db.point(last, 1);
      const before = await snapshot(db);

      const handle = await e2e.collect(e2e.account(), [report('ERR-A', 2), report('ERR-B', 2), report('ERR-C', 3)]);
      const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
      expect(waiting.plan).toMatchObject({ pointsToCreate: 6, stationsToChange: 3 });

      const dropTriggers = async (): Promise<void> => {
        for (const schema of [db.config.database, db.config.toolDatabase]) await db.pool.query(`DROP TRIGGER IF EXISTS \`${schema}\`.e2e_refuse`);
      };
      await dropTriggers();
      await db.pool.query(trigger(failing));
      try {
        await e2e.approve(handle, waiting.plan!.fingerprint);
        await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      } finally {
        await dropTriggers();
      }

      const failed = await e2e.status(handle);
      expect(failed).toMatchObject({ phase: 'failed', failedDuring: 'applying', error: expect.stringContaining('e2e: ') });
      expect(failed.apply).toBeUndefined();
      expect((await createdSince(db, before)).size).toBe(0);
      for (const station of [first, failing]) expect(await db.livePointIds(station)).toEqual([]);
      expect(await db.livePointIds(last)).toEqual([1]);
      expect((await db.runRecord(handle.firstExecutionRunId))?.applied).toBeNull();
      expect(e2e.infoLines()).toEqual(expect.arrayContaining(['=== Failed ===', 'No charging points were created', expect.stringMatching(/^✗ Transaction rolled back due to error: .*e2e: /)]));
    },
    TEST_TIMEOUT,
  );

  test(
    'apply re-reads under lock: a point added by someone else after the plan is not duplicated, a station deleted meanwhile gets nothing',
    async () => {
      const { db } = e2e;
      const busy = await db.station({ station_id: 'RACE-0001', name: 'Busy' });
      const gone = await db.station({ station_id: 'RACE-0002', name: 'Gone' });
      const handle = await e2e.collect(e2e.account(), [report('RACE-0001', 3), report('RACE-0002', 1)]);
      const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
      expect(waiting.plan).toMatchObject({ pointsToCreate: 4, stationsToChange: 2 });

      // Between the plan and the approval: someone creates point 2 of one station and deletes the other.
      await db.point(busy, 2);
      await db.pool.query('UPDATE charging_stations SET deleted = UTC_TIMESTAMP() WHERE id = ?', [gone.id]);
      const before = await snapshot(db);

      await e2e.approve(handle, waiting.plan!.fingerprint);
      expect(await handle.result()).toMatchObject({ phase: 'applied', created: 2, apply: { created: 2, stationsChanged: 1, alreadyPresent: 1, stationsGone: 1 } });
      expect(byStationId(await createdSince(db, before), [busy, gone])).toEqual({ 'RACE-0001': [1, 3] });
      expect(await db.livePointIds(busy)).toEqual([1, 2, 3]);
    },
    TEST_TIMEOUT,
  );

  test(
    'two syncs with the same plan, approved at the same time: each connector is created exactly once',
    async () => {
      const { db } = e2e;
      const stations = [await db.station({ station_id: 'TWIN-0001', name: 'Twin 1' }), await db.station({ station_id: 'TWIN-0002', name: 'Twin 2' })];
      await db.point(stations[1]!, 2);
      const before = await snapshot(db);
      const account = e2e.account();
      const reports = [report('TWIN-0001', 3), report('TWIN-0002', 4)];

      const [one, two] = await Promise.all([e2e.collect(account, reports), e2e.collect(account, reports)]);
      const [planOne, planTwo] = await Promise.all([e2e.waitForPhase(one, 'awaiting-approval'), e2e.waitForPhase(two, 'awaiting-approval')]);
      expect([planOne.plan!.pointsToCreate, planTwo.plan!.pointsToCreate]).toEqual([6, 6]);
      expect(planOne.plan!.fingerprint).toBe(planTwo.plan!.fingerprint);

      await Promise.all([e2e.approve(one, planOne.plan!.fingerprint), e2e.approve(two, planTwo.plan!.fingerprint)]);
      const results = await Promise.all([one.result(), two.result()]);
      expect(results.map((r) => r.phase)).toEqual(['applied', 'applied']);
      expect(results.map((r) => r.created).sort()).toEqual([0, 6]);
      expect(results.map((r) => r.apply!.alreadyPresent).sort()).toEqual([0, 6]);
      expect(byStationId(await createdSince(db, before), stations)).toEqual({ 'TWIN-0001': [1, 2, 3], 'TWIN-0002': [1, 3, 4] });
    },
    TEST_TIMEOUT,
  );
});

/** Defects found while building, kept as tests so that they stay fixed. */
describe('regressions', () => {
  // A repeated bad payload is sampled once per window, so fewer samples than rejects must not mark the plan cut.
  test(
    'a plan whose lists are all complete is not marked truncated because a bad payload was repeated',
    async () => {
      await e2e.db.station({ station_id: 'TRUNC-0001', name: 'Truncated?' });
      const handle = await e2e.collect(e2e.account(), [report('TRUNC-0001', 1), report('TRUNC-0002', 'abc')]);
      const { plan } = await e2e.waitForPhase(handle, 'awaiting-approval');
      expect(plan).toMatchObject({ stations: [expect.objectContaining({ stationId: 'TRUNC-0001' })], notFound: 0, rejectedSamples: [expect.objectContaining({ payload: 'abc' })] });
      expect(plan!.rejected).toBeGreaterThan(1);
      expect(plan!.truncated).toBe(false);
    },
    TEST_TIMEOUT,
  );
});
