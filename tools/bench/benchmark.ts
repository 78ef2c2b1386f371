/**
 * `npm run bench [-- --devices 100000]`: measures the diff and the apply at fleet scale against the real
 * database, and the size of what Temporal would carry. It seeds its own database (cps_bench, or --database NAME), fills the
 * collection table directly (the MQTT window is not what is measured here), then times buildPlan and applyPlan
 * and prints the figures. Bounded: it stops by itself and drops its database unless --keep.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { RowDataPacket } from 'mysql2';
import { loadDatabaseConfig, type Env } from '../../src/config';
import { applyPlan } from '../../src/db/applier';
import { createOcppSchema } from '../demo/ocpp-schema';
import { buildPlan } from '../../src/db/planner';
import { createPool, streamRows, type Pool } from '../../src/db/pool';
import { migrate } from '../../src/db/migrator';
import { tablesFor, type SyncDatabase } from '../../src/db/tables';
import { undashed } from '../../src/domain/plan';

const ROWS_PER_INSERT = 5000;

async function insertChunked(pool: Pool, sql: string, rows: unknown[][]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) await pool.query(sql, [rows.slice(start, start + ROWS_PER_INSERT)]);
}

function deviceId(i: number): string {
  const hex = i.toString(16).padStart(16, '0');
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12)}`;
}

/** A deterministic fleet: most stations complete, some missing points, some with gaps, some unknown devices. */
async function seed({ pool, tables }: SyncDatabase, devices: number, runKey: string): Promise<void> {
  const stations: unknown[][] = [];
  const points: unknown[][] = [];
  const observations: unknown[][] = [];
  let pointId = 1;
  for (let i = 1; i <= devices; i++) {
    const device = deviceId(i);
    const count = 1 + (i % 4);
    observations.push([runKey, device, undashed(device), count]);
    if (i % 50 === 0) continue; // 2 % of devices have no station
    // Every third station is stored without dashes, as some backends do.
    stations.push([i, `Station ${i}`, i % 3 === 0 ? undashed(device) : device]);
    for (let p = 1; p <= count; p++) {
      const missing = (i % 10 === 0 && p > 1) || (i % 7 === 0 && p === 2); // 10 % miss points, some have gaps
      if (!missing) points.push([pointId++, `Station ${i}`, p, String(i)]);
    }
  }
  await insertChunked(pool, 'INSERT INTO charging_stations (id, name, station_id) VALUES ?', stations);
  await insertChunked(pool, 'INSERT INTO charging_points (id, name, point_id, station_id) VALUES ?', points);
  await pool.query(`INSERT INTO ${tables.runs} (run_key, workflow_id, started) VALUES (?, 'bench', NOW())`, [runKey]);
  await insertChunked(pool, `INSERT INTO ${tables.observations} (run_key, device_id, device_plain, connectors) VALUES ?`, observations);
}

/**
 * The raw limit of the diff on the same database: the plain join of the run's devices with their stations (exact id
 * only) and their live points, grouped per device, streamed to this process and discarded.
 */
async function rawJoinMs({ pool, tables }: SyncDatabase, runKey: string): Promise<number> {
  const connection = await pool.getConnection();
  try {
    const t = performance.now();
    const rows = streamRows(
      connection,
      `SELECT o.device_id, o.connectors, s.id, GROUP_CONCAT(p.point_id) AS points
         FROM ${tables.observations} o
         JOIN charging_stations s ON s.station_id = o.device_id AND s.deleted IS NULL
         LEFT JOIN charging_points p ON p.station_id = CAST(s.id AS CHAR) AND p.deleted IS NULL
        WHERE o.run_key = ? GROUP BY o.device_id`,
      [runKey],
    );
    for await (const row of rows) void row;
    return performance.now() - t;
  } finally {
    connection.destroy();
  }
}

/**
 * The raw limit of the apply: the rows it created, inserted again into the same table (under fresh ids above them) in
 * plain 1,000-row INSERTs, in one transaction that is then rolled back (the rollback is not timed).
 */
async function rawInsertMs({ pool }: SyncDatabase, firstNewId: string): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT id, name, point_id, station_id, created, updated FROM charging_points WHERE id >= ? ORDER BY id', [firstNewId]);
  const [[top]] = await pool.query<RowDataPacket[]>('SELECT MAX(id) AS id FROM charging_points');
  const offset = BigInt(String(top!.id)) - BigInt(firstNewId) + 1n;
  const values: unknown[][] = rows.map((r) => [(BigInt(String(r.id)) + offset).toString(), r.name, r.point_id, r.station_id, r.created, r.updated] as unknown[]);
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    const t = performance.now();
    for (let start = 0; start < values.length; start += 1000) {
      await connection.query('INSERT INTO charging_points (id, name, point_id, station_id, created, updated) VALUES ?', [values.slice(start, start + 1000)]);
    }
    const ms = performance.now() - t;
    await connection.rollback();
    return ms;
  } finally {
    connection.release();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { devices: { type: 'string', default: '100000' }, keep: { type: 'boolean', default: false }, database: { type: 'string', default: 'cps_bench' } },
  });
  // Its own database name, so that two benchmarks on one server do not drop each other's.
  const database = values.database;
  if (!/^\w{1,64}$/.test(database)) throw new Error('--database: expected a plain database name (letters, digits, _)');
  const devices = Number(values.devices);
  if (!Number.isInteger(devices) || devices <= 0) throw new Error('--devices: expected a positive whole number');
  const env: Env = { OCPP_MYSQL_USER: 'root', ...process.env, OCPP_MYSQL_DATABASE: database, CP_SYNC_DATABASE: database };
  const config = loadDatabaseConfig(env);
  const admin = createPool({ ...config, database: 'mysql' }, 1);
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
  await createOcppSchema(config);
  await migrate(config);
  const pool = createPool(config);
  const db: SyncDatabase = { pool, tables: tablesFor(config) };
  try {
    const runKey = 'bench-run';
    let t = performance.now();
    await seed(db, devices, runKey);
    const seedMs = performance.now() - t;

    const rawJoin = await rawJoinMs(db, runKey);
    const [[highestBefore]] = await pool.query<RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM charging_points');

    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    t = performance.now();
    const plan = await buildPlan(db, { runKey });
    const diffMs = performance.now() - t;
    t = performance.now();
    const applied = await applyPlan(db, { runKey, fingerprint: plan.fingerprint });
    const applyMs = performance.now() - t;
    clearInterval(sampler);
    const rawInsert = await rawInsertMs(db, String(highestBefore!.id));

    const summaryBytes = Buffer.byteLength(JSON.stringify(plan));
    const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
    const lines = [
      `devices                 ${devices}`,
      `seed (not measured)     ${(seedMs / 1000).toFixed(1)} s`,
      `diff (buildPlan)        ${(diffMs / 1000).toFixed(2)} s  (${Math.round(devices / (diffMs / 1000))} devices/s)`,
      `apply (one transaction) ${(applyMs / 1000).toFixed(2)} s  (${applied.created} points created on ${applied.stationsChanged} stations)`,
      `diff + apply            ${((diffMs + applyMs) / 1000).toFixed(2)} s`,
      `raw join (same run)     ${(rawJoin / 1000).toFixed(2)} s  (diff / raw join: ${(diffMs / rawJoin).toFixed(2)})`,
      `raw INSERT (same run)   ${(rawInsert / 1000).toFixed(2)} s  (apply / raw INSERT: ${(applyMs / rawInsert).toFixed(2)})`,
      `plan summary payload    ${(summaryBytes / 1024).toFixed(1)} KiB (Temporal payload limit for this tool: 128 KiB)`,
      `peak RSS during diff+apply ${mib(peakRss)} MiB (before: ${mib(rssBefore)} MiB)`,
      `plan: ${plan.pointsToCreate} points to create, ${plan.notFound} devices without a station, fingerprint ${plan.fingerprint}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (applied.created !== plan.pointsToCreate) throw new Error(`applied ${applied.created} points but the plan had ${plan.pointsToCreate}`);
  } finally {
    await pool.end();
    if (!values.keep) {
      const cleanup = createPool({ ...config, database: 'mysql' }, 1);
      await cleanup.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await cleanup.end();
    }
  }
}

main().catch((err: Error) => {
  process.stderr.write(`benchmark failed: ${err.message}\n`);
  process.exitCode = 1;
});
