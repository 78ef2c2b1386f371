/**
 * `node dist-tools/tools/bench/window-close-probe.js --devices N`: the worker's memory at a windowed sync's close when
 * its plan was built during the window (PLAN_DURING_WINDOW=true), without the window itself. The benchmark's fleet
 * is seeded, every device stored as heard and marked, and planned step by step as the first collector plans it; then
 * the close runs in a child process whose standard output is a pipe, read line by line as the benchmark reads a
 * worker's, twice: with the log's backlog bounded (what the worker does) and unbounded (before). Prints, for each,
 * the close's time and the child's peak RSS (VmHWM). Its database is dropped afterwards.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { originalLogLines } from '../../src/activities/diff';
import { loadDatabaseConfig } from '../../src/config';
import { AttemptQueries } from '../../src/db/attempt-queries';
import { createPool } from '../../src/db/pool';
import { tablesFor } from '../../src/db/tables';
import { createConsoleLog } from '../../src/log';
import { ObservationStore } from '../../src/store/observation-store';
import { planAtWindowClose } from '../../src/store/window-plan';
import { planMarkedDevices, takeSnapshot } from '../../src/store/window-planner';
import { benchDevice } from './fleet';
import { benchRun, say, seconds, seed, sleep, Started, wholeOption } from './harness';

const RUN_KEY = 'window-close-probe';

function peakMiB(): number {
  const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Math.round(Number(line?.[1] ?? 0) / 1024);
}

/** The child: the close, its lines to standard output, then its figures to standard error once they are all out. */
async function close(database: string, bounded: boolean): Promise<void> {
  const config = loadDatabaseConfig({ ...process.env, OCPP_MYSQL_USER: process.env.OCPP_MYSQL_USER ?? 'root', OCPP_MYSQL_DATABASE: database, CP_SYNC_DATABASE: database });
  const pool = createPool(config);
  const log = createConsoleLog({ context: () => ({ workflowId: `cps-bench-${database}` }) });
  if (!bounded) delete log.drained;
  const started = Date.now();
  const built = await planAtWindowClose({ pool, tables: tablesFor(config) }, { runKey: RUN_KEY, listener: originalLogLines(log, false) });
  const closeSeconds = seconds(Date.now() - started);
  const peakAtClose = peakMiB();
  await log.drained?.();
  await new Promise<void>((resolve) => (process.stdout.writableLength === 0 ? resolve() : process.stdout.once('drain', () => resolve())));
  await pool.end();
  process.stderr.write(`${JSON.stringify({ bounded, built: built.built, closeSeconds, peakAtClose, peakMiB: peakMiB(), points: built.summary.pointsToCreate })}\n`);
}

function runClose(database: string, bounded: boolean): Promise<string> {
  const child = spawn(process.execPath, [__filename, '--close', database, ...(bounded ? [] : ['--unbounded'])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let matched = 0;
  let partial = '';
  let result = '';
  // As the benchmark reads a worker's output (harness.ts, startWorker): split into lines, each looked at.
  child.stdout.on('data', (chunk: Buffer) => {
    const split = (partial + chunk.toString('utf8')).split('\n');
    partial = split.pop() ?? '';
    for (const line of split) {
      lines++;
      if (/\b(Collected|Watch collector stopped:) \d+ messages\b/.test(line) || /Plan built [^"]*/.test(line)) matched++;
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (result += chunk.toString('utf8')));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(`${result.trim()} (${lines} lines read, ${matched} matched)`) : reject(new Error(`close exited ${code}: ${result}`)))));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { devices: { type: 'string', default: '100000' }, close: { type: 'string' }, unbounded: { type: 'boolean', default: false } } });
  if (values.close !== undefined) return close(values.close, !values.unbounded);
  const devices = wholeOption('devices', values.devices, 10_000_000);
  const run = benchRun();
  const running = new Started(run, false);
  try {
    const pool = await running.openDatabase();
    const db = { pool, tables: tablesFor(run.config) };
    say(`seeding ${devices} devices into ${run.database}…`);
    await seed(pool, devices, true);
    // The server records a table's last change in whole seconds: the snapshot comes in a later second.
    await sleep(1100);
    const queries = new AttemptQueries(pool);
    const store = new ObservationStore(db, { markForWindowPlan: true });
    await store.startRun(RUN_KEY, 'window-close-probe');
    let started = Date.now();
    if (!(await takeSnapshot(db, queries, RUN_KEY, () => false))) throw new Error('the snapshot was not taken');
    say(`snapshot in ${seconds(Date.now() - started)} s; storing and planning ${devices} devices…`);
    started = Date.now();
    for (let from = 1; from <= devices; from += 20_000) {
      const counts = new Map<string, number>();
      for (let i = from; i < from + 20_000 && i <= devices; i++) counts.set(benchDevice(i).deviceId, benchDevice(i).connectors);
      await store.flush(RUN_KEY, { counts, messages: counts.size, rejected: [], rejectedCount: 0 });
      while (((await planMarkedDevices(db, queries, RUN_KEY)) ?? 0) > 0);
    }
    say(`stored and planned in ${seconds(Date.now() - started)} s`);
    for (const bounded of [true, false]) say(`close, log backlog ${bounded ? 'bounded' : 'unbounded'}: ${await runClose(run.database, bounded)}`);
  } finally {
    await running.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`window-close-probe failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
