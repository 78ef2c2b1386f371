/**
 * `npm run bench -- --watch [--devices N] [--new-per-minute K] [--minutes M] [--interval 30s] [--period 5min]
 * [--cycles-per-run C] [--collectors K] [--steady] [--json] [--keep]`: the watch end to end, with the raw limits of the same run.
 *
 *   - its own database with the fleet of fleet.ts, plus the stations (without points) of the devices that will come
 *     online; a real worker process; the real watch (auto-approve) on the Temporal server;
 *   - a publisher process (watch-publisher.ts): every fleet device once a period (N / period msg/s) and K new
 *     devices a minute, for M minutes; a bare mqtt.js subscriber beside it (the intake's raw limit);
 *   - meanwhile the database is polled (by index, every 250 ms) for each new device's points: first message → all
 *     its points exist is its latency;
 *   - once publishing ends, the watch gets until a cycle finds nothing more to plan (at most 2 intervals + 60 s),
 *     then `stop`; every row is checked, the histories of all its runs are read, and a plain indexed SELECT of 100
 *     devices' stations and live points is timed as the raw database time of a cycle.
 * The whole run is bounded (M minutes + 1 min per 100,000 devices + 10 min); everything it started is stopped, its
 * database dropped unless --keep.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { RowDataPacket } from 'mysql2';
import type { Pool } from '../../src/db/pool';
import { parseDuration } from '../../src/domain/duration';
import { DEFAULT_CYCLES_PER_RUN, DEFAULT_WATCH_INTERVAL_MS, WATCH_WORKFLOW_TYPE, type WatchInput, type WatchStatus } from '../../src/watch-shared';
import { stopWatchUpdate } from '../../src/workflows/watch-definitions';
import { benchDevice, missingPoints, newBenchDevice } from './fleet';
import { ask, benchRun, checksum, collectorsListening, insertChunked, peakRssMiB, rssMiB, rowsCorrect, say, seconds, seed, sleep, startWorker, Started, UsageError, wholeOption, type Seeded } from './harness';
import { watchHistoryFigures } from './watch-history';
import { completeFleet, knownFleet } from './watch-steady';
import { probeHundredDeviceCycle } from './watch-cycle-probe';
import { tablesFor } from '../../src/db/tables';
import { watchKeyOf } from '../../src/domain/watch-keys';
import type { WatchPublishJob, WatchPublisherMessage, WatchPublishReport } from './watch-publisher';

const POLL_MS = 250;
const RAW_SELECT_DEVICES = 100;

function readWatchOptions() {
  const { values } = parseArgs({
    options: {
      watch: { type: 'boolean' },
      devices: { type: 'string', default: '10000' },
      'new-per-minute': { type: 'string', default: '100' },
      minutes: { type: 'string', default: '5' },
      interval: { type: 'string', default: String(DEFAULT_WATCH_INTERVAL_MS) },
      period: { type: 'string', default: '5min' },
      'cycles-per-run': { type: 'string', default: String(DEFAULT_CYCLES_PER_RUN) },
      collectors: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      steady: { type: 'boolean', default: false },
    },
  });
  const duration = (name: string, raw: string, min: number): number => {
    const ms = parseDuration(raw);
    if (ms === undefined || ms < min) throw new UsageError(`--${name}: expected a duration of at least ${min} ms (5s, 30s, 5min), got ${JSON.stringify(raw)}`);
    return ms;
  };
  return {
    devices: wholeOption('devices', values.devices, 10_000_000),
    newPerMinute: wholeOption('new-per-minute', values['new-per-minute'], 100_000),
    minutes: wholeOption('minutes', values.minutes, 24 * 60),
    intervalMs: duration('interval', values.interval, 1000),
    periodMs: duration('period', values.period, 1000),
    cyclesPerRun: wholeOption('cycles-per-run', values['cycles-per-run'], 100_000),
    collectors: wholeOption('collectors', values.collectors, 64),
    json: values.json,
    keep: values.keep,
    steady: values.steady,
  };
}

/** The q-quantile (nearest rank) of the values, in seconds rounded to ms; undefined for none. */
function quantile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! * 1000) / 1000;
}

/** Times each new device from its first message until all its points exist (polled by the points' station_id index). */
class LatencyWatcher {
  readonly sentAt = new Map<number, number>();
  readonly latencies: number[] = [];
  private readonly waiting = new Set<number>();
  constructor(private readonly pool: Pool) {}

  sent(device: number, atMs: number): void {
    this.sentAt.set(device, atMs);
    this.waiting.add(device);
  }

  get outstanding(): number {
    return this.waiting.size;
  }

  async poll(): Promise<void> {
    if (this.waiting.size === 0) return;
    const stations = [...this.waiting].map(String);
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT station_id, COUNT(*) AS n FROM charging_points WHERE station_id IN (?) AND deleted IS NULL GROUP BY station_id', [stations]);
    const now = Date.now();
    for (const row of rows) {
      const device = Number(row.station_id);
      if (Number(row.n) < newBenchDevice(device).connectors) continue;
      this.latencies.push((now - this.sentAt.get(device)!) / 1000);
      this.waiting.delete(device);
    }
  }
}

/** Runs the publisher, timing new devices meanwhile; resolves with its report. */
function runPublisher(publisher: ChildProcess, job: WatchPublishJob, latency: LatencyWatcher): Promise<WatchPublishReport> {
  return new Promise((resolve, reject) => {
    publisher.on('message', (message: WatchPublisherMessage) => ('report' in message ? resolve(message.report) : latency.sent(message.newDevice, message.atMs)));
    publisher.once('exit', (code) => reject(new Error(`the watch publisher exited (${code}) without a report`)));
    publisher.send(job);
  });
}

/** The raw database time of a cycle: a plain indexed SELECT of 100 devices' stations and live points (median of 5). */
async function rawSelect(pool: Pool, devices: number): Promise<number> {
  const step = Math.max(1, Math.floor(devices / RAW_SELECT_DEVICES));
  const ids = Array.from({ length: Math.min(devices, RAW_SELECT_DEVICES) }, (_, k) => benchDevice(k * step + 1).station?.stationId).filter((id): id is string => id !== undefined);
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    await pool.query('SELECT s.id, p.point_id FROM charging_stations s LEFT JOIN charging_points p ON p.station_id = CAST(s.id AS CHAR) AND p.deleted IS NULL WHERE s.station_id IN (?) AND s.deleted IS NULL', [ids]);
    times.push(performance.now() - started);
  }
  return Math.round(quantile(times, 0.5)! * 10) / 10_000;
}

/** Waits (bounded) until a cycle that began after publishing ended found nothing to plan, and no new device waits. */
async function settle(handle: WorkflowHandle, latency: LatencyWatcher, intervalMs: number): Promise<void> {
  const deadline = Date.now() + 2 * intervalMs + 60_000;
  const since = new Date(Date.now() + 2000).toISOString();
  while (Date.now() < deadline) {
    await latency.poll();
    const status = await handle.query<WatchStatus>('status');
    if (latency.outstanding === 0 && status.lastCycle && status.lastCycle.at > since && status.lastCycle.changedDevices === 0) return;
    await sleep(POLL_MS);
  }
  say(`the watch did not settle within ${seconds(2 * intervalMs + 60_000)} s (${latency.outstanding} new devices without points)`);
}

export async function watchBench(): Promise<void> {
  const options = readWatchOptions();
  const run = benchRun();
  const { database } = run;
  const running = new Started(run, options.keep);
  let handle: WorkflowHandle | undefined;
  const stopAll = async (): Promise<void> => {
    // A watch still running (the run failed or overran) is terminated: it would listen for ever.
    await handle?.terminate('benchmark over').catch(() => undefined);
    await running.stop();
  };
  // The time bound: the minutes asked, a minute of seeding per 100,000 devices (two with --steady), and 10 min for the rest.
  const boundMs = (options.minutes + (options.steady ? 2 : 1) * Math.ceil(options.devices / 100_000) + 10) * 60_000;
  const hardStop = setTimeout(() => {
    process.stderr.write(`benchmark failed: over its time bound of ${boundMs / 60_000} min; stopping what it started\n`);
    void stopAll().finally(() => process.exit(1));
  }, boundMs);
  try {
    const pool = await running.openDatabase();
    say(`seeding ${options.devices} devices into ${database}…`);
    const seeded = await seed(pool, options.devices, true);
    // --steady: the fleet in sync and known to the watch (watch-steady.ts); otherwise a fleet never synced.
    const fleet = options.steady ? { ...seeded, expectedNew: new Set<string>(), lastPointId: await completeFleet(pool, options.devices, seeded.lastPointId) } : seeded;
    const newTotal = Math.floor(options.newPerMinute * options.minutes);
    const newStations = Array.from({ length: newTotal }, (_, k) => newBenchDevice(options.devices + k + 1).station);
    await insertChunked(pool, 'INSERT INTO charging_stations (id, name, station_id) VALUES ?', newStations.map((s) => [s.pk, `Station ${s.pk}`, s.stationId]));
    const before = { points: await checksum(pool, 'charging_points'), stations: await checksum(pool, 'charging_stations') };

    const worker = running.worker = await startWorker(run.env, options.keep);
    const workerStartRssMiB = peakRssMiB(worker.child.pid);
    const bare = running.bare = fork(join(__dirname, 'bare-subscriber.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await ask(bare, { url: run.broker, account: run.account });
    const connection = running.connection = await Connection.connect({ address: run.temporalAddress });
    const client = new Client({ connection });
    const input: WatchInput = {
      intervalMs: options.intervalMs,
      maxConnectors: 16,
      account: run.account,
      autoApproveMaxPoints: Number.MAX_SAFE_INTEGER,
      autoApproveMaxStations: Number.MAX_SAFE_INTEGER,
      cyclesPerRun: options.cyclesPerRun,
      ...(options.collectors > 1 ? { collectors: options.collectors } : {}),
    };
    const workflowId = `cps-bench-watch-${run.id}`;
    if (options.steady) await knownFleet(pool, tablesFor(run.config).watchDevices, watchKeyOf(workflowId), options.devices);
    const watch = await client.workflow.start(WATCH_WORKFLOW_TYPE, { taskQueue: run.taskQueue, workflowId, args: [input] });
    handle = watch;
    const firstRunId = watch.firstExecutionRunId;
    await collectorsListening(handle, options.collectors, 'collectWatchCounts');

    const latency = new LatencyWatcher(pool);
    const polling = { on: true };
    const poller = (async () => {
      while (polling.on) await Promise.all([latency.poll(), sleep(POLL_MS)]);
    })();
    say(`watching: ${options.devices} devices every ${seconds(options.periodMs)} s, ${options.newPerMinute} new a minute, for ${options.minutes} min (a cycle every ${seconds(options.intervalMs)} s)…`);
    const publisher = running.publisher = fork(join(__dirname, 'watch-publisher.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const job: WatchPublishJob = { url: run.broker, account: run.account, devices: options.devices, periodSeconds: options.periodMs / 1000, newPerMinute: options.newPerMinute, seconds: options.minutes * 60 };
    const published = await runPublisher(publisher, job, latency);
    polling.on = false;
    await poller;
    await settle(handle, latency, options.intervalMs);
    const status = await handle.executeUpdate(stopWatchUpdate, { args: [{ by: 'benchmark', reason: 'benchmark over' }] });
    const workerPeakRssMiB = peakRssMiB(worker.child.pid);
    const workerRssMiB = rssMiB(worker.child.pid);
    const { received: bareReceived } = await ask<{ received: number }>(bare, 'stop');
    const received = worker.collected.map((line) => Number(/ (\d+) messages/.exec(line)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
    if (options.keep) writeFileSync(join(tmpdir(), `${database}-worker.log`), worker.all.join(''));

    const history = await watchHistoryFigures(client, workflowId, firstRunId);
    // What the watch must have created: the missing points of every fleet device heard, and every new device's points.
    const expectedNew = new Set<string>();
    if (!options.steady) for (let i = 1; i <= published.fleetDevicesHeard; i++) for (const p of missingPoints(benchDevice(i))) expectedNew.add(`${i}/${p}`);
    for (let k = 1; k <= published.newDevices; k++) {
      const device = newBenchDevice(options.devices + k);
      for (let p = 1; p <= device.connectors; p++) expectedNew.add(`${device.station.pk}/${p}`);
    }
    const check = await rowsCorrect(pool, { ...fleet, expectedNew } satisfies Seeded, before);
    say('measuring the raw limit (100 devices by index)…');
    const rawSelect100Seconds = await rawSelect(pool, options.devices);
    say('timing a cycle of 100 changed devices on the same tables…');
    const cycle100 = await probeHundredDeviceCycle({ pool, tables: tablesFor(run.config) }, workflowId, options.devices, status.cycles);
    const cycleSeconds = history.changedCycles.map((c) => c.seconds);
    const report = {
      devices: options.devices,
      periodSeconds: seconds(options.periodMs),
      intervalSeconds: seconds(options.intervalMs),
      minutes: options.minutes,
      steady: options.steady,
      collectors: options.collectors,
      published: published.published,
      publishedRate: Math.round(published.published / published.seconds),
      received,
      bareReceived,
      lost: published.published - received,
      bareLost: published.published - bareReceived,
      newDevices: published.newDevices,
      newDevicesApplied: latency.latencies.length,
      latencySeconds: { p50: quantile(latency.latencies, 0.5), p95: quantile(latency.latencies, 0.95), p99: quantile(latency.latencies, 0.99), max: quantile(latency.latencies, 1) },
      cycles: status.cycles,
      cyclesWithChanges: history.changedCycles.length,
      changedDevicesPerCycle: { p50: quantile(history.changedCycles.map((c) => c.changedDevices), 0.5), max: quantile(history.changedCycles.map((c) => c.changedDevices), 1) },
      cycleDbSeconds: { p50: quantile(cycleSeconds, 0.5), p99: quantile(cycleSeconds, 0.99), max: quantile(cycleSeconds, 1) },
      rawSelect100Seconds,
      cycle100,
      workerPeakRssMiB,
      workerRssMiB,
      workerStartRssMiB,
      runs: history.runs,
      continuedAsNew: history.runs - 1,
      historyBytesPerRun: Math.max(...history.historyBytesPerRun),
      historyBytesPerCycle: Math.round(history.historyBytesPerRun.reduce((a, b) => a + b, 0) / Math.max(1, status.cycles)),
      createdTotal: status.createdTotal,
      expectedPoints: expectedNew.size,
      phase: status.phase,
      rowsCorrect: check.ok,
      problems: check.problems,
      database,
      kept: options.keep,
    };
    handle = undefined;
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${Object.entries(report).map(([k, v]) => `${k.padEnd(24)}${JSON.stringify(v)}`).join('\n')}\n`);
    if (!report.rowsCorrect) process.exitCode = 1;
  } finally {
    clearTimeout(hardStop);
    await stopAll();
  }
}
