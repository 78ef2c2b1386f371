/**
 * A small run of the end-to-end benchmark (`npm run bench`), so that it keeps working: its own database, a real
 * worker process, the real workflow, a publisher and a bare subscriber; every row checked afterwards. It runs the
 * build in dist-tools/ and dist/ (`npm test` builds first; alone: `npm run -s build` first, as for every e2e file).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { ROOT } from '../support/e2e-cli';
import { serverConfig } from '../support/e2e-db';

const BENCHMARK = join(ROOT, 'dist-tools', 'tools', 'bench', 'benchmark.js');

test('2,000 devices end to end: every row correct, every figure reported, its database dropped', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [BENCHMARK, '--devices', '2000', '--rate', '1000', '--json'], {
    cwd: ROOT,
    timeout: 150_000,
    // The benchmark's worker with the plan built during the window: the other e2e files run the sync without it.
    env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233', PLAN_DURING_WINDOW: 'true' },
  });
  const report = JSON.parse(stdout) as Record<string, unknown>;
  expect(report).toMatchObject({ devices: 2000, collectors: 1, phase: 'applied', rowsCorrect: true, problems: [], kept: false });
  expect(report.database).toMatch(/^cps_bench_[0-9a-f]{8}$/);
  for (const field of ['published', 'received', 'bareReceived', 'afterWindowSeconds', 'diffSeconds', 'applySeconds', 'rawJoinSeconds', 'rawInsertSeconds', 'workerPeakRssMiB', 'historyBytes', 'largestPayloadBytes']) {
    expect(typeof report[field]).toBe('number');
  }
  // The fleet: 10 % duplicate messages on top of one per device; every one of them heard.
  expect(report.published).toBeGreaterThan(2000);
  expect(report.received).toBe(report.published);
  expect(report.pointsCreated).toBe(report.expectedPoints);
  expect(report.largestPayloadBytes as number).toBeLessThanOrEqual(128 * 1024);
  // The seeding ends seconds before the window opens, and nothing writes ocpp-db during it: the first collector
  // plans the fleet while it listens (the exact plan, as rowsCorrect shows), and the close plans only the rest.
  expect(report.planBuilt).toMatch(/^Plan built during the collection window: \d+ devices were left to plan at its close$/);

  const server = serverConfig();
  const admin = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [report.database]);
    expect(rows).toHaveLength(0);
  } finally {
    await admin.end();
  }
}, 180_000);

test('--watch, 200 devices for a minute at a 5 s interval: every figure reported, every row correct, continued as new', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [BENCHMARK, '--watch', '--devices', '200', '--new-per-minute', '20', '--minutes', '1', '--interval', '5s', '--period', '30s', '--cycles-per-run', '5', '--json'],
    { cwd: ROOT, timeout: 240_000, env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233' } },
  );
  const report = JSON.parse(stdout) as Record<string, unknown>;
  expect(report).toMatchObject({ devices: 200, newDevices: 20, phase: 'stopped', rowsCorrect: true, problems: [], kept: false });
  for (const field of ['published', 'received', 'bareReceived', 'lost', 'cycles', 'rawSelect100Seconds', 'workerPeakRssMiB', 'historyBytesPerRun', 'continuedAsNew']) {
    expect(typeof report[field]).toBe('number');
  }
  for (const field of ['latencySeconds', 'cycleDbSeconds']) expect(Object.values(report[field] as object).every((v) => typeof v === 'number')).toBe(true);
  // Every new device's points appeared, and within a few intervals of its first message.
  expect(report.newDevicesApplied).toBe(20);
  expect((report.latencySeconds as { max: number }).max).toBeLessThan(60);
  expect(report.createdTotal).toBe(report.expectedPoints);
  expect(report.lost).toBe(0);
  expect(report.continuedAsNew as number).toBeGreaterThanOrEqual(1);
  expect(report.cycles as number).toBeGreaterThanOrEqual(10);
  // The timed cycle of changed devices on the same tables: as many as a 200-device fleet allows, each one point more.
  const probe = report.cycle100 as { devices: number; rounds: number; pointsCreated: number; totalSeconds: number };
  expect(probe.rounds).toBeGreaterThanOrEqual(1);
  expect(probe.devices).toBeGreaterThan(50);
  expect(probe.pointsCreated).toBeGreaterThan(0);
  expect(probe.totalSeconds).toBeGreaterThan(0);
}, 300_000);
