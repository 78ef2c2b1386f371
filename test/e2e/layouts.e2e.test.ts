/**
 * Whole syncs (plan, approval, apply, rows checked) on ocpp-db tables laid out as production installations have them:
 * each common collation of the tables (none of which is the connection's default on both MySQL 8 and MariaDB), and a
 * charging_points.station_id that is BIGINT UNSIGNED instead of text. Before the queries named their collations, the
 * first of these failed in the plan step with "Illegal mix of collations".
 * The same fleet also shows the plan's new facts: an ambiguous device (exact match wins) and silent stations.
 */
import type { RowDataPacket } from 'mysql2';
import { byStationId, createdSince, snapshot } from '../support/e2e-assert';
import { report, useE2e } from '../support/e2e';
import type { OcppTableLayout } from '../support/e2e-db';

const LAYOUTS: { name: string; layout: OcppTableLayout }[] = [
  { name: 'utf8mb4_general_ci (MariaDB default)', layout: { charset: 'utf8mb4', collation: 'utf8mb4_general_ci' } },
  { name: 'utf8mb4_unicode_ci', layout: { charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' } },
  { name: 'utf8mb4_bin', layout: { charset: 'utf8mb4', collation: 'utf8mb4_bin' } },
  { name: 'utf8mb4_uca1400_ai_ci (MariaDB 10.10+, like MySQL 8 utf8mb4_0900_ai_ci)', layout: { charset: 'utf8mb4', collation: 'utf8mb4_uca1400_ai_ci' } },
  { name: 'latin1_swedish_ci', layout: { charset: 'latin1', collation: 'latin1_swedish_ci' } },
  { name: 'charging_points.station_id BIGINT UNSIGNED', layout: { integerPointStationId: true } },
];

describe.each(LAYOUTS)('ocpp-db tables in $name', ({ name, layout }) => {
  const e2e = useE2e(`layout-${name.replace(/[^a-z0-9]/gi, '').slice(0, 12).toLowerCase()}`, { layout });

  test('a whole sync plans, reports and creates exactly the missing points', async () => {
    const { db } = e2e;
    // The layout is really there (so that this test cannot pass on the default one by mistake).
    const [columns] = await db.pool.query<RowDataPacket[]>(
      `SELECT TABLE_NAME AS t, DATA_TYPE AS type, COLLATION_NAME AS collation FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND COLUMN_NAME = 'station_id' ORDER BY TABLE_NAME`,
      [db.config.database],
    );
    const expectedText = { type: 'varchar', collation: layout.collation ?? expect.stringMatching(/^utf8mb4_/) };
    expect(columns).toEqual([
      { t: 'charging_points', ...(layout.integerPointStationId ? { type: 'bigint', collation: null } : expectedText) },
      { t: 'charging_stations', ...expectedText },
    ]);
    const gaps = await db.station({ station_id: 'GAP-0001', name: 'Gaps' });
    await db.point(gaps, 1);
    await db.point(gaps, 3);
    const undashed = await db.station({ station_id: 'UND0002XYZ', name: 'Undashed' });
    await db.point(undashed, 1);
    // AMB-0003 and AMB0003 are two stations: device AMB-0003 matches the first exactly, the second without dashes.
    const exact = await db.station({ station_id: 'AMB-0003', name: 'Ambiguous, exact' });
    const other = await db.station({ station_id: 'AMB0003', name: 'Ambiguous, undashed' });
    const silent = await db.station({ station_id: 'SILENT-0004', name: 'Silent' });
    // A name outside ASCII survives the trip through the tool into the new rows, in latin1 as in utf8mb4.
    const accented = await db.station({ station_id: 'CAFE-0005', name: 'Café Süd' });
    await db.station({ station_id: 'DEL-0006', name: 'Deleted', deleted: new Date('2024-01-02T03:04:05Z') });
    const before = await snapshot(db);

    const handle = await e2e.collect(e2e.account(), [
      report('GAP-0001', 3),
      report('UND-0002-XYZ', 2),
      report('AMB-0003', 2),
      report('CAFE-0005', 1),
      report('DEL-0006', 2),
    ]);
    const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
    expect(waiting.plan).toMatchObject({
      pointsToCreate: 5,
      stationsToChange: 4,
      processedDevices: 5,
      notFound: 1,
      notFoundDeviceIds: ['DEL-0006'],
      stationsInDatabase: 6,
      ambiguousDevices: 1,
      ambiguities: [{ deviceId: 'AMB-0003', stationId: 'AMB-0003', otherStationId: 'AMB0003' }],
      silentStations: 2,
    });
    expect(waiting.plan!.silentStationSamples!.map((s) => s.stationId).sort()).toEqual(['AMB0003', 'SILENT-0004']);
    expect(e2e.infoLines()).toContain('Ambiguous device AMB-0003: station AMB-0003 matches it exactly and station AMB0003 without dashes; using AMB-0003');

    await e2e.approve(handle, waiting.plan!.fingerprint);
    expect(await handle.result()).toMatchObject({ phase: 'applied', created: 5 });
    expect(byStationId(await createdSince(db, before), [gaps, undashed, exact, other, silent, accented])).toEqual({
      'GAP-0001': [2],
      UND0002XYZ: [2],
      'AMB-0003': [1, 2],
      'CAFE-0005': [1],
    });
    expect((await db.livePoints(accented)).map((p) => p.name)).toEqual(['Café Süd']);

    // The full lists are in the tool's tables.
    const [silentRows] = await db.pool.query(`SELECT station_id FROM ${db.tables.silentStations} WHERE run_key = ? ORDER BY station_id`, [handle.firstExecutionRunId]);
    expect(silentRows).toEqual([{ station_id: 'AMB0003' }, { station_id: 'SILENT-0004' }]);
  }, 60_000);
});
