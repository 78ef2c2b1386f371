/**
 * `cp-sync plan --format json|csv|sql`: the whole plan, streamed from the tool's tables (store/plan-reader.ts) to an
 * Output as the rows arrive. Nothing is collected in memory, so a plan of any size is exported with flat memory.
 */
import { escape } from 'mysql2';
import type { SyncDatabase } from '../db/tables';
import { ambiguities, highestPointId, notFoundDevices, pendingStations, planStations, rejections, silentStations } from '../store/plan-reader';
import { REJECTION_SAMPLE_LIMIT } from '../store/observation-store';
import { POINTS_PER_INSERT } from '../store/applier';
import { idInBlock } from '../domain/ids';
import { ApplyTally } from '../domain/still-missing';
import type { Phase, PlanSummary } from '../shared';
import type { WatchPhase } from '../watch-shared';
import type { Output } from './output';

export const PLAN_FORMATS = ['table', 'json', 'csv', 'sql'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/** A plan to export: the workflow's summary (counts, fingerprint) and where its rows are (the run key). */
export interface PlanToExport {
  workflowId: string;
  /** The run id, which is also the run key of the plan's rows unless `runKey` says otherwise. */
  runId: string;
  phase: Phase | WatchPhase;
  summary: PlanSummary;
  /** A watch's plan: its cycle, and the cycle's run key, under which its rows are. */
  runKey?: string;
  cycle?: number;
}

/** The summary's lists, which the export replaces with the complete lists from the tables. */
const LISTS = ['stations', 'notFoundDeviceIds', 'silentStationSamples', 'ambiguities', 'rejectedSamples', 'truncated'] as const;

function runKeyOf(plan: PlanToExport): string {
  return plan.runKey ?? plan.runId;
}

/** Writes `"key": [ … ]` with one element per line. */
async function jsonArray<T>(out: Output, key: string, items: AsyncIterable<T>): Promise<number> {
  let count = 0;
  await out.write(`  ${JSON.stringify(key)}: [`);
  for await (const item of items) {
    await out.write(`${count === 0 ? '\n' : ',\n'}    ${JSON.stringify(item)}`);
    count++;
  }
  await out.write(count === 0 ? '],\n' : '\n  ],\n');
  return count;
}

async function* mapped<T, U>(items: AsyncIterable<T>, map: (item: T) => U): AsyncGenerator<U> {
  for await (const item of items) yield map(item);
}

/**
 * One JSON document: the fields of `cp-sync plan --json` as before (workflowId, phase, the summary's counts), with
 * every list complete instead of its first PLAN_SAMPLE_LIMIT entries, plus runId.
 */
export async function writePlanJson(db: SyncDatabase, plan: PlanToExport, out: Output): Promise<void> {
  const cycle = plan.cycle !== undefined ? { cycle: plan.cycle, runKey: runKeyOf(plan) } : {};
  const head: Record<string, unknown> = { workflowId: plan.workflowId, runId: plan.runId, ...cycle, phase: plan.phase, ...plan.summary };
  for (const list of LISTS) delete head[list];
  const opening = JSON.stringify(head, null, 2);
  await out.write(`${opening.slice(0, opening.lastIndexOf('\n}'))},\n`);
  const runKey = runKeyOf(plan);
  await jsonArray(out, 'stations', planStations(db, runKey));
  await jsonArray(
    out,
    'notFoundDeviceIds',
    mapped(notFoundDevices(db, runKey), (device) => device.deviceId),
  );
  await jsonArray(out, 'silentStationSamples', silentStations(db, runKey));
  await jsonArray(out, 'ambiguities', ambiguities(db, runKey));
  const storedRejections = await jsonArray(out, 'rejectedSamples', rejections(db, runKey));
  // The collector stores the first REJECTION_SAMPLE_LIMIT rejected messages only; every other list is whole.
  const truncated = storedRejections >= REJECTION_SAMPLE_LIMIT && plan.summary.rejected > storedRejections;
  await out.write(`  "truncated": ${truncated}\n}\n`);
}

/** One CSV record (RFC 4180 quoting, Unix line ends): a field with a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvRecord(fields: readonly string[]): string {
  return `${fields.map((field) => (/[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field)).join(',')}\n`;
}

export const CSV_HEADER = ['station', 'station id', 'device', 'expected', 'live', 'missing', 'surplus', 'skipped'] as const;

/**
 * One record per planned station (`station id` is charging_stations.id, what charging_points.station_id holds), then
 * one per device without a station (station and station id empty). Point id lists are comma-separated in one field.
 */
export async function writePlanCsv(db: SyncDatabase, plan: PlanToExport, out: Output): Promise<void> {
  await out.write(csvRecord(CSV_HEADER));
  for await (const s of planStations(db, runKeyOf(plan))) {
    await out.write(csvRecord([s.stationName, s.stationPk, s.deviceId, String(s.expected), String(s.livePoints), s.missing.join(','), s.surplus.join(','), String(s.skipped)]));
  }
  for await (const device of notFoundDevices(db, runKeyOf(plan))) {
    await out.write(csvRecord(['', '', device.deviceId, String(device.connectors), '', '', '', 'false']));
  }
}

export interface SqlExportOptions {
  /** When the export was made, for its header. */
  now?: Date;
  /** Set when the run has applied already: the apply would write nothing more. */
  appliedAt?: Date | null;
}

/**
 * The apply's INSERTs as a DBA can run them by hand, in the manner of `pt-table-sync --print`: one transaction, the
 * planned points re-checked against ocpp-db now (as the apply re-checks them under lock), ids continuing from the
 * highest id now. `created`/`updated` are the moment the script runs, in UTC, as the apply writes them.
 */
export async function writePlanSql(db: SyncDatabase, plan: PlanToExport, out: Output, options: SqlExportOptions = {}): Promise<void> {
  const { summary } = plan;
  const now = options.now ?? new Date();
  const t = db.tables;
  await out.write(
    [
      `-- cp-sync plan ${plan.workflowId} --format sql`,
      `-- Run ${plan.runId}${plan.cycle !== undefined ? `, cycle ${plan.cycle}` : ''} (${plan.phase}), plan ${summary.fingerprint}: ${summary.pointsToCreate} charging points to create on ${summary.stationsToChange} stations` +
        (summary.testDeviceId !== undefined ? ` (test mode: only device ${summary.testDeviceId})` : ''),
      `-- The INSERTs the apply would run, as of ${now.toISOString()}: planned points re-checked against ${t.points} now,`,
      `-- ids continuing from its highest id now. The apply itself re-checks every station and point under lock and takes`,
      `-- its ids then, so approving stays safe; run this by hand instead, never as well, and only while nothing else`,
      `-- writes to ${t.points} (a point added meanwhile would be duplicated, an id taken meanwhile fails the INSERT).`,
      '',
    ].join('\n'),
  );
  if (options.appliedAt) {
    await out.write(`-- This run was applied at ${options.appliedAt.toISOString()}: the apply would insert nothing more.\nSTART TRANSACTION;\nCOMMIT;\n`);
    return;
  }
  const highest = await highestPointId(db);
  await out.write(`-- Highest ${t.points}.id now: ${highest ?? 'none (empty table)'}\nSTART TRANSACTION;\nSET @now = UTC_TIMESTAMP(3);\n`);
  const tally = new ApplyTally();
  let rows = 0;
  let inStatement = 0;
  for await (const station of pendingStations(db, runKeyOf(plan))) {
    for (const pointId of tally.station(station)) {
      const id = idInBlock(highest, rows);
      const values = `(${id}, ${escape(station.name)}, ${pointId}, ${escape(station.stationPk)}, @now, @now)`;
      await out.write(inStatement === 0 ? `INSERT INTO ${t.points} (id, name, point_id, station_id, created, updated) VALUES\n  ${values}` : `,\n  ${values}`);
      rows++;
      inStatement++;
      if (inStatement === POINTS_PER_INSERT) {
        await out.write(';\n');
        inStatement = 0;
      }
    }
  }
  if (inStatement > 0) await out.write(';\n');
  const { created, stationsChanged, alreadyPresent, stationsGone } = tally.result();
  await out.write(
    `COMMIT;\n-- ${created} charging points on ${stationsChanged} stations` +
      `; ${alreadyPresent} planned points exist by now and ${stationsGone} planned stations were deleted since the plan (left out, as the apply would)\n`,
  );
}

/** Writes `plan` in `format` (json, csv or sql) to `out`. */
export async function writePlan(db: SyncDatabase, format: Exclude<PlanFormat, 'table'>, plan: PlanToExport, out: Output, options: SqlExportOptions = {}): Promise<void> {
  switch (format) {
    case 'json':
      return writePlanJson(db, plan, out);
    case 'csv':
      return writePlanCsv(db, plan, out);
    case 'sql':
      return writePlanSql(db, plan, out, options);
  }
}
