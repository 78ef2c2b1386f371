/**
 * What the benchmark's modes share (benchmark.ts for a sync, watch-bench.ts for a watch): a database and a task
 * queue of their own, the worker process and its peak RSS, the child processes, the row check afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { RowDataPacket } from 'mysql2';
import { loadDatabaseConfig, type DatabaseConfig, type Env } from '../../src/config';
import { migrate } from '../../src/db/migrator';
import { createPool, type Pool } from '../../src/db/pool';
import { createOcppSchema } from '../demo/ocpp-schema';
import { repoRoot } from '../repo-root';
import { benchDevice, missingPoints, type FleetOptions } from './fleet';

const ROWS_PER_INSERT = 5000;

export class UsageError extends Error {}

/** A whole number option from 1 to max, or a usage error naming it. */
export function wholeOption(name: string, raw: string, max: number): number {
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= max)) throw new UsageError(`--${name}: expected a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

export const say = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
export const seconds = (ms: number): number => Math.round(ms) / 1000;
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function insertChunked(pool: Pool, sql: string, rows: unknown[][]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) await pool.query(sql, [rows.slice(start, start + ROWS_PER_INSERT)]);
}

export interface Seeded {
  messages: number;
  expectedNew: Set<string>;
  lastPointId: number;
}

/** A checksum of a table's rows: unchanged rows give the same one. */
export async function checksum(pool: Pool, table: string, where = '1'): Promise<string> {
  const [[row]] = await pool.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n, COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', id, name, station_id, ${table === 'charging_points' ? 'point_id' : 'status'}, IFNULL(deleted, '-')))), 0) AS x FROM ${table} WHERE ${where}`,
  );
  return `${row?.n}/${row?.x}`;
}

/** Every expected new point exists exactly once, live; nothing else was added; the seeded rows are untouched. */
export async function rowsCorrect(pool: Pool, seeded: Seeded, before: { points: string; stations: string }): Promise<{ ok: boolean; problems: string[] }> {
  const problems: string[] = [];
  if ((await checksum(pool, 'charging_points', `id <= ${seeded.lastPointId}`)) !== before.points) problems.push('seeded charging_points changed');
  if ((await checksum(pool, 'charging_stations')) !== before.stations) problems.push('charging_stations changed');
  const [rows] = await pool.query<RowDataPacket[]>('SELECT station_id, point_id, deleted FROM charging_points WHERE id > ?', [seeded.lastPointId]);
  const seen = new Set<string>();
  for (const row of rows) {
    const key = `${row.station_id}/${row.point_id}`;
    if (!seeded.expectedNew.has(key)) problems.push(`unexpected point ${key}`);
    else if (seen.has(key)) problems.push(`point ${key} created twice`);
    else if (row.deleted !== null) problems.push(`point ${key} created deleted`);
    seen.add(key);
    if (problems.length > 10) break;
  }
  if (seen.size !== seeded.expectedNew.size) problems.push(`${seeded.expectedNew.size - seen.size} expected points missing`);
  return { ok: problems.length === 0, problems };
}

function statusMiB(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** The process's peak resident set so far (VmHWM). */
export function peakRssMiB(pid: number | undefined): number | undefined {
  return statusMiB(pid, 'VmHWM');
}

/** The process's resident set now (VmRSS). */
export function rssMiB(pid: number | undefined): number | undefined {
  return statusMiB(pid, 'VmRSS');
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Its last 64 KiB of output, for errors. */
  tail(): string;
  /** Each collector's `Collected N messages …` (a sync's) or `Watch collector stopped: N messages …` line. */
  collected: string[];
  /** The plan activity's line saying how the plan was built (during the window, or from the whole fleet and why). */
  planBuilt: string[];
  /** Everything it printed, with --keep (for a profile of what it did). */
  all: string[];
}

/** Words of the worker's lines that startWorker looks for: a chunk holding none of them is not split into lines. */
const WORKER_LINE_MARKERS = [' messages', 'Plan built ', 'Worker listening on task queue'];

export function startWorker(env: Env, keepAll: boolean): Promise<WorkerProcess> {
  // BENCH_WORKER_NODE_ARGS: node flags for the worker alone, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" for a profile.
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const worker = spawn(process.execPath, [...nodeArgs, join(repoRoot(), 'dist', 'cli', 'main.js'), 'worker'], { env: env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let partial = '';
  const collected: string[] = [];
  const planBuilt: string[] = [];
  const all: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.kill('SIGKILL');
      reject(new Error(`the worker did not start within 60 s:\n${tail}`));
    }, 60_000);
    worker.stdout.on('data', (chunk: Buffer) => {
      // A plan's close writes a million lines in seconds and waits while they are unread (Log.drained): this reader
      // must be as fast as a production log pipeline, so only text holding a line it looks for is split into lines.
      const text = partial + chunk.toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      partial = text.slice(end);
      if (!WORKER_LINE_MARKERS.some((marker) => text.lastIndexOf(marker, end) !== -1)) return;
      for (const line of text.slice(0, end).split('\n')) {
        if (/\b(Collected|Watch collector stopped:) \d+ messages\b/.test(line)) collected.push(line);
        const built = /Plan built [^"]*/.exec(line);
        if (built) planBuilt.push(built[0]);
        if (line.includes('Worker listening on task queue')) {
          clearTimeout(timer);
          resolve({ child: worker, tail: () => tail, collected, planBuilt, all });
        }
      }
    });
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-65_536);
      if (keepAll) all.push(chunk.toString('utf8'));
    };
    worker.stdout.on('data', keep);
    worker.stderr.on('data', keep);
    worker.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited (${code}):\n${tail}`));
    });
  });
}

export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (answer) => resolve(answer as T));
    child.once('exit', (code) => reject(new Error(`${child.spawnargs.join(' ')} exited (${code}) without answering`)));
    child.send(message as object);
  });
}

export function eventMs(event: temporal.api.history.v1.IHistoryEvent): number {
  const time = event.eventTime;
  return Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

export async function dropDatabase(config: DatabaseConfig, name: string): Promise<void> {
  const admin = createPool({ ...config, database: 'mysql' }, 1);
  try {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await admin.end();
  }
}

export interface BenchRun {
  id: string;
  database: string;
  taskQueue: string;
  account: string;
  broker: string;
  temporalAddress: string;
  /** The worker's environment. */
  env: Env;
  config: DatabaseConfig;
}

/** A run's own database, task queue and MQTT account, and the services of the environment (as for the e2e tests). */
export function benchRun(): BenchRun {
  const id = randomBytes(4).toString('hex');
  const database = `cps_bench_${id}`;
  const taskQueue = `cps-bench-${id}`;
  const account = `bench-${id}`;
  const broker = process.env.CLOUD_HOST?.trim() || 'mqtt://127.0.0.1:1883';
  const temporalAddress = process.env.TEMPORAL_ADDRESS?.trim() || '127.0.0.1:7233';
  const env: Env = {
    OCPP_MYSQL_USER: 'root',
    ...process.env,
    OCPP_MYSQL_DATABASE: database,
    CP_SYNC_DATABASE: database,
    CLOUD_HOST: broker,
    CLOUD_CREDENTIALS: '{}',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'info',
  };
  return { id, database, taskQueue, account, broker, temporalAddress, env, config: loadDatabaseConfig(env) };
}

/** Seeds stations and points (not in --collector-only) and works out what the sync must create. */
export async function seed(pool: Pool, devices: number, withStations: boolean, fleet: FleetOptions = {}): Promise<Seeded> {
  let stations: unknown[][] = [];
  let points: unknown[][] = [];
  const expectedNew = new Set<string>();
  let messages = 0;
  let pointId = 0;
  const flush = async (): Promise<void> => {
    await insertChunked(pool, 'INSERT INTO charging_stations (id, name, station_id) VALUES ?', stations);
    await insertChunked(pool, 'INSERT INTO charging_points (id, name, point_id, station_id) VALUES ?', points);
    stations = [];
    points = [];
  };
  for (let i = 1; i <= devices; i++) {
    const device = benchDevice(i, fleet);
    messages += device.messages;
    if (!withStations || !device.station) continue;
    const { pk, stationId } = device.station;
    stations.push([pk, `Station ${pk}`, stationId]);
    for (const p of device.station.points) points.push([++pointId, `Station ${pk}`, p, String(pk)]);
    for (const p of missingPoints(device)) expectedNew.add(`${pk}/${p}`);
    if (points.length >= 50_000) await flush();
  }
  await flush();
  return { messages, expectedNew, lastPointId: pointId };
}

/** Waits until each of the run's collectors has subscribed (its first heartbeat comes after the subscription). */
export async function collectorsListening(handle: WorkflowHandle, collectors: number, activityType = 'collectConnectorCounts'): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { raw } = await handle.describe();
    const listening = (raw.pendingActivities ?? []).filter((a) => a.activityType?.name === activityType && (a.heartbeatDetails?.payloads?.length ?? 0) > 0);
    if (listening.length >= collectors) return;
    await sleep(200);
  }
  throw new Error(`the ${collectors} collector(s) did not subscribe within 60 s`);
}

/** What a benchmark run started: `stop` ends all of it whatever happened, and drops the run's database unless kept. */
export class Started {
  pool?: Pool;
  worker?: WorkerProcess;
  bare?: ChildProcess;
  publisher?: ChildProcess;
  connection?: Connection;

  constructor(
    private readonly run: BenchRun,
    private readonly keep: boolean,
  ) {}

  /** The run's database with ocpp-db's tables and the tool's, and a pool on it. */
  async openDatabase(): Promise<Pool> {
    await createOcppSchema(this.run.config);
    await migrate(this.run.config);
    return (this.pool = createPool(this.run.config));
  }

  async stop(): Promise<void> {
    await stopProcess(this.publisher);
    await stopProcess(this.bare);
    await stopProcess(this.worker?.child);
    await this.connection?.close();
    await this.pool?.end();
    if (!this.keep) await dropDatabase(this.run.config, this.run.database);
  }
}
