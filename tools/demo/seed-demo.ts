/**
 * The demo database (`npm run demo`).
 *
 *   node dist-tools/tools/demo/seed-demo.js [--force]      create the database and the ocpp-db tables when absent, then
 *                                                 replace every charging_stations/charging_points row with the
 *                                                 demo fleet (demo-fleet.ts), so the demo can run again and again
 *   node dist-tools/tools/demo/seed-demo.js --summary      print the charging_points per station and check them against
 *                                                 what an approved sync of the demo fleet must leave; exit 1 if
 *                                                 they differ (--unchanged: against the seeded rows, for a sync
 *                                                 that was rejected, expired or failed)
 *
 * Settings come from the environment only (never .env): OCPP_MYSQL_HOST (127.0.0.1), OCPP_MYSQL_PORT (3306),
 * OCPP_MYSQL_DATABASE (ocpp_demo), OCPP_MYSQL_USER (root), OCPP_MYSQL_PASSWORD. Seeding deletes rows, so it
 * refuses a database whose name does not contain "demo" unless --force is given: a real ocpp-db is never
 * emptied by mistake.
 */
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { ConfigError, loadDatabaseConfig, type DatabaseConfig } from '../../src/config';
import { createOcppSchema } from './ocpp-schema';
import { sslOptions } from '../../src/db/pool';
import { DEMO_DEVICES, DEMO_EXPECTED, DEMO_STATIONS, SEEDED_AT, expectedPointsAfterSync, type ExpectedPoint } from './demo-fleet';

const USAGE = `Usage: node dist-tools/tools/demo/seed-demo.js [--force | --summary [--unchanged]]
  (no option)  create OCPP_MYSQL_DATABASE (default ocpp_demo) and its tables if absent, and replace their rows with the demo fleet
  --force      seed even though the database name does not contain "demo" (deletes every charging station and point there!)
  --summary    print the charging points per station and check them against what an approved sync of the demo fleet
               leaves (exit 1 if they differ)
  --unchanged  with --summary: check that the rows are still the seeded ones (after a rejected, expired or failed sync)`;

class UsageError extends Error {}

function demoDatabaseConfig(env: NodeJS.ProcessEnv): DatabaseConfig {
  const withDefault = (name: string, fallback: string): string => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? fallback : raw;
  };
  return loadDatabaseConfig({
    ...env,
    OCPP_MYSQL_DATABASE: withDefault('OCPP_MYSQL_DATABASE', 'ocpp_demo'),
    OCPP_MYSQL_USER: withDefault('OCPP_MYSQL_USER', 'root'),
  });
}

async function connect(config: DatabaseConfig): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    ssl: sslOptions(config.tls),
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
}

async function seed(config: DatabaseConfig, force: boolean): Promise<void> {
  if (!/demo/i.test(config.database) && !force) {
    throw new UsageError(
      `Refusing to seed OCPP_MYSQL_DATABASE=${config.database}: seeding deletes every charging station and charging point there, ` +
        'and the name does not contain "demo". Use a demo database (e.g. OCPP_MYSQL_DATABASE=ocpp_demo), or pass --force if you really mean it.',
    );
  }
  await createOcppSchema(config);
  const connection = await connect(config);
  try {
    await connection.beginTransaction();
    await connection.query('DELETE FROM charging_points');
    await connection.query('DELETE FROM charging_stations');
    const deletedAt = (deleted: boolean | undefined): string | null => (deleted ? SEEDED_AT : null);
    await connection.query(
      'INSERT INTO charging_stations (id, name, station_id, status, vendor, model, ocpp_status, created, updated, deleted) VALUES ?',
      [DEMO_STATIONS.map((s) => [s.pk, s.name, s.stationId, 'Accepted', 'Demo Vendor', 'DC-Demo', 'Available', SEEDED_AT, SEEDED_AT, deletedAt(s.deleted)])],
    );
    const points = DEMO_STATIONS.flatMap((s) =>
      s.points.map((p) => [p.id, s.name, p.pointId, String(s.pk), 'Available', SEEDED_AT, SEEDED_AT, deletedAt(p.deleted)]),
    );
    await connection.query(
      'INSERT INTO charging_points (id, name, point_id, station_id, connector_status, created, updated, deleted) VALUES ?',
      [points],
    );
    await connection.commit();
  } catch (err) {
    await connection.rollback().catch(() => undefined);
    throw err;
  } finally {
    await connection.end();
  }
  const deletedStations = DEMO_STATIONS.filter((s) => s.deleted).length;
  const deletedPoints = DEMO_STATIONS.flatMap((s) => s.points).filter((p) => p.deleted).length;
  const pointCount = DEMO_STATIONS.reduce((n, s) => n + s.points.length, 0);
  const toCreate = DEMO_STATIONS.filter((s) => s.expectCreated.length > 0).map((s) => `${s.name} ${s.expectCreated.join(',')}`);
  process.stdout.write(
    [
      `Seeded ${config.database} on ${config.host}:${config.port}: ${DEMO_STATIONS.length} charging stations (${deletedStations} soft-deleted), ` +
        `${pointCount} charging points (${deletedPoints} soft-deleted); ${DEMO_DEVICES.length} simulated devices`,
      `  an approved sync should create ${DEMO_EXPECTED.pointsCreated} points (${toCreate.join('; ')}), ` +
        `process ${DEMO_EXPECTED.processedDevices} devices, find no station for ${DEMO_EXPECTED.notFound.length} and reject 'abc'`,
      '',
    ].join('\n'),
  );
}

interface StationRow {
  id: string;
  name: string;
  station_id: string;
  deleted: string | null;
}

interface PointRow {
  id: string;
  name: string;
  point_id: number;
  station_id: string;
  created: string | null;
  updated: string | null;
  deleted: string | null;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const ids = (list: number[]): string => (list.length === 0 ? '-' : list.sort((a, b) => a - b).join(','));
const key = ([pk, pointId, deleted]: ExpectedPoint): string => `station ${pk} point ${pointId}${deleted ? ' (soft-deleted)' : ''}`;

/** Prints the rows per station and compares them with the fleet's expectation; returns the problems found. */
async function summary(config: DatabaseConfig, applied: boolean): Promise<string[]> {
  const connection = await connect(config);
  let stations: StationRow[];
  let points: PointRow[];
  try {
    [stations] = (await connection.query<RowDataPacket[]>('SELECT id, name, station_id, deleted FROM charging_stations ORDER BY id')) as unknown as [StationRow[]];
    [points] = (await connection.query<RowDataPacket[]>(
      'SELECT id, name, point_id, station_id, created, updated, deleted FROM charging_points ORDER BY station_id, point_id, id',
    )) as unknown as [PointRow[]];
  } finally {
    await connection.end();
  }

  const seededIds = new Set(DEMO_STATIONS.flatMap((s) => s.points.map((p) => String(p.id))));
  const notes = new Map(DEMO_STATIONS.map((s) => [String(s.pk), s.note]));
  const added = points.filter((p) => !seededIds.has(String(p.id)));
  const rows = stations.map((s) => {
    const own = points.filter((p) => p.station_id === String(s.id));
    return [
      `${s.name}${s.deleted !== null ? ' (deleted)' : ''}`,
      String(s.id),
      s.station_id,
      ids(own.filter((p) => p.deleted === null).map((p) => Number(p.point_id))),
      ids(own.filter((p) => !seededIds.has(String(p.id))).map((p) => Number(p.point_id))),
      ids(own.filter((p) => p.deleted !== null).map((p) => Number(p.point_id))),
      notes.get(String(s.id)) ?? '',
    ];
  });
  const lines = [
    `charging_points in ${config.database}: ${points.length} rows, ${added.length} added since the seed`,
    ...table(['STATION', 'ID', 'STATION_ID', 'LIVE POINTS', 'ADDED', 'SOFT-DELETED', 'CASE'], rows).map((l) => `  ${l}`),
  ];
  const orphans = points.filter((p) => !stations.some((s) => String(s.id) === p.station_id));
  if (orphans.length > 0) lines.push(`  + ${orphans.length} points whose station_id names no station: ${orphans.map((p) => `${p.station_id}/${p.point_id}`).join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  // The check: the same (station, point_id, deleted) rows as the fleet implies, no more, no fewer.
  const problems: string[] = [];
  const expected = expectedPointsAfterSync(applied).map(key);
  const actual = points.map((p) => key([Number(p.station_id), Number(p.point_id), p.deleted !== null]));
  const remaining = [...actual];
  for (const want of expected) {
    const at = remaining.indexOf(want);
    if (at === -1) problems.push(`missing: ${want}`);
    else remaining.splice(at, 1);
  }
  for (const extra of remaining) problems.push(`unexpected: ${extra}`);
  const names = new Map(stations.map((s) => [String(s.id), s.name]));
  for (const p of added) {
    if (p.name !== names.get(p.station_id)) problems.push(`point ${p.id} has name ${JSON.stringify(p.name)}, not its station's ${JSON.stringify(names.get(p.station_id))}`);
    if (p.created === null || p.created !== p.updated) problems.push(`point ${p.id} has created ${p.created} and updated ${p.updated} (expected both set, equal)`);
  }
  return problems;
}

async function main(argv: string[]): Promise<number> {
  const args = new Set(argv);
  if (args.has('--help') || args.has('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = [...args].filter((a) => !['--force', '--summary', '--unchanged'].includes(a));
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.join(' ')}\n${USAGE}`);
  if (args.has('--summary') ? args.has('--force') : args.has('--unchanged')) throw new UsageError(`--force seeds; --unchanged goes with --summary\n${USAGE}`);
  const config = demoDatabaseConfig(process.env);
  if (!args.has('--summary')) {
    await seed(config, args.has('--force'));
    return 0;
  }
  const applied = !args.has('--unchanged');
  const problems = await summary(config, applied);
  if (problems.length === 0 && !applied) {
    process.stdout.write('✓ Still exactly the seeded rows: nothing was written\n');
    return 0;
  }
  if (problems.length === 0) {
    const created = DEMO_STATIONS.filter((s) => s.expectCreated.length > 0).map((s) => `${s.name} ${s.expectCreated.join(',')}`);
    process.stdout.write(`✓ Exactly the rows the demo fleet implies: ${DEMO_EXPECTED.pointsCreated} points created (${created.join('; ')}), no duplicate connector, soft-deleted rows untouched\n`);
    return 0;
  }
  process.stdout.write(`✗ The rows differ from ${applied ? 'what an approved sync of the demo fleet leaves' : 'the seeded ones'}:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    if (err instanceof UsageError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`${err instanceof ConfigError ? 'Configuration error' : 'Error'}: ${err.message}\n`);
    process.exitCode = err instanceof UsageError || err instanceof ConfigError ? 2 : 1;
  },
);
