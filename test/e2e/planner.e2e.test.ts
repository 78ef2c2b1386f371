/**
 * The planner against the real database, without Temporal: several plans at once on one small pool. A plan holds two
 * streaming connections and borrows a third for its writes; without turn-taking, two plans could hold every
 * connection and wait on each other for ever (seen in CI: a sync stuck in "planning", heartbeating all along).
 */
import { buildPlan } from '../../src/store/planner';
import { createPool } from '../../src/db/pool';
import { E2eDatabase } from '../support/e2e-db';

let db: E2eDatabase;

beforeAll(async () => {
  db = await E2eDatabase.create('cps_e2e_plan');
}, 60_000);

afterAll(async () => {
  await db.drop();
});

test('four plans at once on a pool of three connections all finish, each with its own result', async () => {
  const stations = [];
  for (let i = 1; i <= 4; i++) stations.push(await db.station({ station_id: `PLAN-${i}`, name: `Plan ${i}` }));
  await db.station({ station_id: 'PLAN-SILENT', name: 'Silent' });
  const runs = [1, 2, 3, 4].map((i) => `plan-run-${i}`);
  for (const [i, runKey] of runs.entries()) {
    await db.pool.query(`INSERT INTO ${db.tables.runs} (run_key, workflow_id, started) VALUES (?, 'planner-e2e', UTC_TIMESTAMP())`, [runKey]);
    // The n-th run hears stations 1..n, each reporting n connectors (none has a point yet): n × n points to create.
    const rows = stations.slice(0, i + 1).map((s) => [runKey, s.station_id, s.station_id.replace(/-/g, ''), i + 1]);
    await db.pool.query(`INSERT INTO ${db.tables.observations} (run_key, device_id, device_plain, connectors) VALUES ?`, [rows]);
  }

  const pool = createPool(db.config, 3);
  let deadlocked: NodeJS.Timeout | undefined;
  try {
    const plans = await Promise.race([
      Promise.all(runs.map((runKey) => buildPlan({ pool, tables: db.tables }, { runKey }))),
      new Promise<never>((_, reject) => (deadlocked = setTimeout(() => reject(new Error('the plans did not finish within 30 s: the pool is deadlocked')), 30_000))),
    ]);
    expect(plans.map((p) => ({ devices: p.processedDevices, points: p.pointsToCreate, silent: p.silentStations }))).toEqual([
      { devices: 1, points: 1, silent: 4 },
      { devices: 2, points: 4, silent: 3 },
      { devices: 3, points: 9, silent: 2 },
      { devices: 4, points: 16, silent: 1 },
    ]);
  } finally {
    // Left running, the timer kept this file's jest worker alive for 30 s after the plans ended: jest force-exited it.
    clearTimeout(deadlocked);
    await pool.end();
  }
}, 60_000);
