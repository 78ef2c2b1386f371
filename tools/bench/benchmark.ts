/**
 * `npm run bench -- --devices N [--rate R] [--collectors K] [--missing-stations M] [--json] [--keep] [--collector-only]`:
 * the sync end to end, as production runs it, with the raw limits of the same run beside it.
 *
 *   - a database of its own (`cps_bench_<random>`: ocpp-db's tables and the tool's), dropped afterwards unless --keep;
 *   - the fleet of fleet.ts, seeded into it (--missing-stations M: a fleet mostly in sync, where only about M stations
 *     miss a point);
 *   - a real worker process (`node dist/cli/main.js worker`) on a task queue of its own; its peak RSS is the VmHWM
 *     of that process alone;
 *   - the real workflow (auto-approve) on the Temporal server, K collectors;
 *   - a publisher process sending every device's count at R msg/s (QoS 1) during the window, and a bare mqtt.js
 *     subscriber process on the same stream;
 *   - afterwards every row is checked (`rowsCorrect`), and the raw limits are measured on the same database: the
 *     bare subscriber's count, the plain GROUP BY join of the run's devices with stations and live points, and a
 *     plain 1,000-row multi-row INSERT of the same new points (rolled back).
 *
 * --keep also writes the worker's output to <tmpdir>/<database>-worker.log.
 *
 * --collector-only: no stations, a dry run; only the intake is compared (collectors against the bare subscriber),
 * to find the lossless rate of one collector, of two, and of the bare subscriber.
 *
 * --watch: the watch instead of a sync (watch-bench.ts, its own options).
 *
 * Services as for the e2e tests: MariaDB (OCPP_MYSQL_HOST/PORT/USER/PASSWORD, default root@127.0.0.1:3306),
 * Temporal (TEMPORAL_ADDRESS, default 127.0.0.1:7233), Mosquitto (CLOUD_HOST, default mqtt://127.0.0.1:1883).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { RowDataPacket } from 'mysql2';
import { streamRows, type Pool } from '../../src/db/pool';
import { tablesFor } from '../../src/db/tables';
import { WORKFLOW_TYPE, type SyncInput, type SyncResult } from '../../src/shared';
import { ask, benchRun, checksum, collectorsListening, eventMs, peakRssMiB, rowsCorrect, say, seconds, seed, startWorker, Started, UsageError, wholeOption, type Seeded } from './harness';
import type { PublishJob, PublishReport } from './publisher';
import { watchBench } from './watch-bench';

const RAW_INSERT_ROWS = 1000;
const WINDOW_MARGIN_MS = 20_000;
const EventType = temporal.api.enums.v1.EventType;

interface Options {
  devices: number;
  rate: number;
  collectors: number;
  json: boolean;
  keep: boolean;
  collectorOnly: boolean;
  missingStations?: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '10000' },
      rate: { type: 'string', default: '10000' },
      collectors: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'collector-only': { type: 'boolean', default: false },
      'missing-stations': { type: 'string' },
    },
  });
  return {
    devices: wholeOption('devices', values.devices, 10_000_000),
    rate: wholeOption('rate', values.rate, 1_000_000),
    collectors: wholeOption('collectors', values.collectors, 64),
    json: values.json,
    keep: values.keep,
    collectorOnly: values['collector-only'],
    missingStations: values['missing-stations'] === undefined ? undefined : wholeOption('missing-stations', values['missing-stations'], 10_000_000),
  };
}

/** The plain GROUP BY join the diff competes with: the run's devices (dashed or not) with their live stations and live points. */
async function rawJoin(pool: Pool, tables: ReturnType<typeof tablesFor>, runKey: string): Promise<number> {
  const connection = await pool.getConnection();
  try {
    const started = performance.now();
    const rows = streamRows(
      connection,
      `SELECT s.id, o.connectors, COUNT(p.id) AS live
         FROM ${tables.observations} o
         JOIN charging_stations s ON s.station_id IN (o.device_id, o.device_plain) AND s.deleted IS NULL
         LEFT JOIN charging_points p ON p.station_id = CAST(s.id AS CHAR) AND p.deleted IS NULL
        WHERE o.run_key = ?
        GROUP BY s.id, o.connectors`,
      [runKey],
    );
    for await (const row of rows) void row;
    return performance.now() - started;
  } finally {
    connection.release();
  }
}

/** A plain multi-row INSERT of the same new points (1,000 rows a statement, one transaction), rolled back. */
async function rawInsert(pool: Pool, seeded: Seeded): Promise<number> {
  const [[row]] = await pool.query<RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) AS id FROM charging_points');
  let id = Number(row?.id ?? 0);
  const now = new Date();
  const rows = [...seeded.expectedNew].map((key) => {
    const [station, point] = key.split('/');
    return [++id, `Station ${station}`, Number(point), station, now, now];
  });
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    const started = performance.now();
    for (let start = 0; start < rows.length; start += RAW_INSERT_ROWS) {
      await connection.query('INSERT INTO charging_points (id, name, point_id, station_id, created, updated) VALUES ?', [rows.slice(start, start + RAW_INSERT_ROWS)]);
    }
    const elapsed = performance.now() - started;
    await connection.rollback();
    return elapsed;
  } finally {
    connection.release();
  }
}

interface HistoryFigures {
  historyBytes: number;
  largestPayloadBytes: number;
  windowClosedAt?: number;
  afterWindowSeconds?: number;
  diffSeconds?: number;
  applySeconds?: number;
}

async function historyFigures(handle: WorkflowHandle): Promise<HistoryFigures> {
  const history = await handle.fetchHistory();
  const historyBytes = temporal.api.history.v1.History.encode(history).finish().length;
  let largestPayloadBytes = 0;
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if (value instanceof Uint8Array) return;
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && 'metadata' in record) {
      largestPayloadBytes = Math.max(largestPayloadBytes, temporal.api.common.v1.Payload.encode(record).finish().length);
      return;
    }
    for (const child of Object.values(record)) visit(child);
  };
  const events = history.events ?? [];
  events.forEach(visit);
  const scheduled = new Map<number, { type: string; at: number }>();
  const figures: HistoryFigures = { historyBytes, largestPayloadBytes };
  let windowClosedAt: number | undefined;
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_TIMER_FIRED && windowClosedAt === undefined) windowClosedAt = figures.windowClosedAt = eventMs(event);
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      scheduled.set(Number(event.eventId), { type: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '', at: eventMs(event) });
    }
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const from = scheduled.get(Number(event.activityTaskCompletedEventAttributes?.scheduledEventId));
      if (from?.type === 'diffStations') figures.diffSeconds = seconds(eventMs(event) - from.at);
      if (from?.type === 'applyMissingPoints') figures.applySeconds = seconds(eventMs(event) - from.at);
    }
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED && windowClosedAt !== undefined) {
      figures.afterWindowSeconds = seconds(eventMs(event) - windowClosedAt);
    }
  }
  return figures;
}

async function main(): Promise<void> {
  const options = readOptions();
  const run = benchRun();
  const { id, database, taskQueue, account, broker, temporalAddress, env, config } = run;
  const running = new Started(run, options.keep);
  try {
    const pool = await running.openDatabase();
    const tables = tablesFor(config);
    say(`seeding ${options.devices} devices into ${database}…`);
    const missingEvery = options.missingStations === undefined ? undefined : Math.max(1, Math.floor(options.devices / Math.max(1, options.missingStations)));
    const seeded = await seed(pool, options.devices, !options.collectorOnly, { missingEvery });
    const before = { points: await checksum(pool, 'charging_points'), stations: await checksum(pool, 'charging_stations') };

    const worker = running.worker = await startWorker(env, options.keep);
    // Before any sync: mostly the workflow bundle that the worker builds when it starts.
    const workerStartRssMiB = peakRssMiB(worker.child.pid);
    const bare = running.bare = fork(join(__dirname, 'bare-subscriber.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await ask(bare, { url: broker, account });
    const publisher = running.publisher = fork(join(__dirname, 'publisher.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

    const connection = running.connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection });
    // The window: the publishing time plus room for the collectors to connect (slow on a loaded machine) and the
    // last messages to arrive. A publisher still sending when it closes would count as the collector's loss, so the
    // report says whether it finished in time (publishedInWindow).
    const windowMs = Math.ceil((seeded.messages / options.rate) * 1000) + WINDOW_MARGIN_MS;
    const input: SyncInput = {
      collectorDurationMs: windowMs,
      approvalTimeoutMs: 3_600_000,
      maxConnectors: 16,
      account,
      ...(options.collectorOnly ? { dryRun: true } : { autoApprove: true }),
      ...(options.collectors > 1 ? { collectors: options.collectors } : {}),
    };
    const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId: `cps-bench-${id}`, args: [input] });
    await collectorsListening(handle, options.collectors);
    say(`publishing ${seeded.messages} messages at ${options.rate}/s (window ${windowMs} ms, ${options.collectors} collector(s))…`);
    const published = await ask<PublishReport>(publisher, { url: broker, account, devices: options.devices, rate: options.rate } satisfies PublishJob);
    const publishEndedAt = Date.now();
    const result = (await handle.result()) as SyncResult;
    const workerPeakRssMiB = peakRssMiB(worker.child.pid);
    const { received: bareReceived } = await ask<{ received: number }>(bare, 'stop');
    const figures = await historyFigures(handle);
    // Each collector's share, from its last line (`Collected N messages … (collector i of K)`).
    const perCollector = worker.collected.map((line) => Number(/\bCollected (\d+) messages/.exec(line)?.[1]));
    if (options.keep) writeFileSync(join(tmpdir(), `${database}-worker.log`), worker.all.join(''));
    const received = result.plan?.messages ?? 0;

    let check: { ok: boolean; problems: string[] } | undefined;
    let rawJoinMs: number | undefined;
    let rawInsertMs: number | undefined;
    if (!options.collectorOnly) {
      check = await rowsCorrect(pool, seeded, before);
      say('measuring the raw limits (join, insert)…');
      rawJoinMs = await rawJoin(pool, tables, handle.firstExecutionRunId ?? (await handle.describe()).runId);
      rawInsertMs = await rawInsert(pool, seeded);
    }
    const report = {
      devices: options.devices,
      collectors: options.collectors,
      rate: options.rate,
      published: published.published,
      publishSeconds: published.seconds,
      publishedRate: Math.round(published.published / published.seconds),
      publishedInWindow: figures.windowClosedAt !== undefined && publishEndedAt <= figures.windowClosedAt,
      received,
      perCollector,
      bareReceived,
      lost: published.published - received,
      bareLost: published.published - bareReceived,
      phase: result.phase,
      pointsCreated: result.apply?.created ?? 0,
      expectedPoints: seeded.expectedNew.size,
      missingStations: options.missingStations,
      /** How the plan was built: during the window (and how many devices were left at its close), or in full and why. */
      planBuilt: worker.planBuilt.join('; '),
      afterWindowSeconds: figures.afterWindowSeconds,
      diffSeconds: figures.diffSeconds,
      applySeconds: figures.applySeconds,
      rawJoinSeconds: rawJoinMs === undefined ? undefined : seconds(rawJoinMs),
      rawInsertSeconds: rawInsertMs === undefined ? undefined : seconds(rawInsertMs),
      workerPeakRssMiB,
      workerStartRssMiB,
      historyBytes: figures.historyBytes,
      largestPayloadBytes: figures.largestPayloadBytes,
      rowsCorrect: check?.ok ?? false,
      problems: check?.problems ?? [],
      database,
      /** --keep: the database stays for inspection; otherwise it is dropped when the benchmark ends. */
      kept: options.keep,
    };
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const rows: [string, unknown][] = [
        ['devices', report.devices],
        ['collectors', report.collectors],
        ['published (QoS 1, acknowledged)', `${report.published} in ${report.publishSeconds} s (${report.publishedRate}/s, asked ${report.rate}/s)`],
        ['publisher done before window end', report.publishedInWindow],
        ['received by the collector(s)', `${report.received} (lost ${report.lost})${report.perCollector.length > 1 ? ` [${report.perCollector.join(' + ')}]` : ''}`],
        ['received by a bare subscriber', `${report.bareReceived} (lost ${report.bareLost})`],
        ['phase', report.phase],
        ['plan', report.planBuilt || '-'],
        ['window close → applied', `${report.afterWindowSeconds} s`],
        ['diff', `${report.diffSeconds} s (raw join ${report.rawJoinSeconds ?? '-'} s)`],
        ['apply', `${report.applySeconds ?? '-'} s for ${report.pointsCreated} points (raw INSERT ${report.rawInsertSeconds ?? '-'} s)`],
        ['worker peak RSS (VmHWM)', `${report.workerPeakRssMiB} MiB (${report.workerStartRssMiB} MiB once started, before the sync)`],
        ['history / largest payload', `${(report.historyBytes / 1024).toFixed(1)} KiB / ${(report.largestPayloadBytes / 1024).toFixed(1)} KiB`],
        ['rows correct', options.collectorOnly ? '(collector only)' : `${report.rowsCorrect}${report.problems.length ? `: ${report.problems.join('; ')}` : ''}`],
      ];
      process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(34)}${String(v)}`).join('\n')}\n`);
    }
    if (!options.collectorOnly && !report.rowsCorrect) process.exitCode = 1;
  } finally {
    await running.stop();
  }
}

(process.argv.includes('--watch') ? watchBench() : main()).catch((err: Error) => {
  process.stderr.write(`benchmark failed: ${err.message}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
