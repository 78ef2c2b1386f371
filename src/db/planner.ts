/**
 * The diff, set-based and streamed: one query joins the run's devices with their stations and live points,
 * the rows stream through the pure rules of domain/plan, and the plan is written back in batches. Memory stays
 * flat whatever the fleet size; only a capped summary is returned.
 */
import type { RowDataPacket } from 'mysql2';
import { streamRows, type Pool } from './pool';
import { isTestDevice, missingPointIds, PlanFingerprint, surplusPointIds } from '../domain/plan';
import { PLAN_SAMPLE_LIMIT, type PlanStation, type PlanSummary, type RejectedMessage } from '../shared';

const ROWS_PER_INSERT = 1000;

/** One device as the diff query returns it; station columns are null when no station matched. */
interface DeviceRow {
  device_id: string;
  connectors: number;
  station_pk: string | null;
  station_id: string | null;
  station_name: string | null;
  live_points: string | null;
}

/** Called for every device, in station order, for the log lines operators grep for. */
export interface PlanListener {
  stationsInDatabase(count: number): void;
  device(deviceId: string, connectors: number): void;
  notFound(deviceId: string): void;
  station(station: PlanStation): void;
}

export interface PlanOptions {
  runKey: string;
  testDeviceId?: string;
  onProgress?: (devices: number) => void;
  listener?: PlanListener;
}

// Exact station_id match first, the undashed one only when there is none (the original's two-way lookup).
// Points are read per station through charging_points' station_id index; station_id there holds the numeric key as text.
const DIFF_QUERY = `
  SELECT o.device_id, o.connectors,
         s.id AS station_pk, s.station_id, s.name AS station_name,
         (SELECT GROUP_CONCAT(p.point_id ORDER BY p.point_id) FROM charging_points p
           WHERE p.station_id = CAST(s.id AS CHAR) AND p.deleted IS NULL) AS live_points
    FROM cp_sync_observations o
    LEFT JOIN charging_stations exact ON exact.station_id = o.device_id AND exact.deleted IS NULL
    LEFT JOIN charging_stations plain ON exact.id IS NULL AND o.device_plain <> o.device_id
                                     AND plain.station_id = o.device_plain AND plain.deleted IS NULL
    LEFT JOIN charging_stations s ON s.id = COALESCE(exact.id, plain.id)
   WHERE o.run_key = ?
   ORDER BY s.id IS NULL, s.id, o.device_id`;

/** The window closed before the collector ever subscribed: planning on no data would wrongly say "nothing to do". */
export class NeverCollectedError extends Error {
  override readonly name = 'NeverCollectedError';
  constructor(runKey: string) {
    super(`run ${runKey} never subscribed to the MQTT broker during its collection window (see the worker log for the connection errors); nothing was planned`);
  }
}

function parsePointIds(list: string | null): number[] {
  return list === null || list === '' ? [] : list.split(',').map(Number);
}

export async function buildPlan(pool: Pool, options: PlanOptions): Promise<PlanSummary> {
  const { runKey, testDeviceId, listener } = options;
  await pool.query('DELETE FROM cp_sync_plan_stations WHERE run_key = ?', [runKey]);
  await pool.query('DELETE FROM cp_sync_not_found WHERE run_key = ?', [runKey]);

  const [[counters]] = await pool.query<RowDataPacket[]>('SELECT messages, rejected FROM cp_sync_runs WHERE run_key = ?', [runKey]);
  if (!counters) throw new NeverCollectedError(runKey);
  const [[stationCount]] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM charging_stations WHERE deleted IS NULL');
  const [rejectedSamples] = await pool.query<RowDataPacket[]>(
    'SELECT topic, payload, reason FROM cp_sync_rejections WHERE run_key = ? ORDER BY seq LIMIT ?',
    [runKey, PLAN_SAMPLE_LIMIT + 1],
  );

  const summary: PlanSummary = {
    fingerprint: '',
    testDeviceId,
    processedDevices: 0,
    messages: Number(counters.messages ?? 0),
    stationsInDatabase: Number(stationCount?.n ?? 0),
    stationsToChange: 0,
    pointsToCreate: 0,
    surplusPoints: 0,
    skippedStations: 0,
    notFound: 0,
    rejected: Number(counters.rejected ?? 0),
    stations: [],
    notFoundDeviceIds: [],
    rejectedSamples: rejectedSamples.slice(0, PLAN_SAMPLE_LIMIT).map((r) => ({ topic: String(r.topic), payload: String(r.payload), reason: String(r.reason) }) satisfies RejectedMessage),
    // Samples are distinct messages, so fewer samples than rejects is normal; only the list limit truncates.
    truncated: rejectedSamples.length > PLAN_SAMPLE_LIMIT,
  };
  listener?.stationsInDatabase(summary.stationsInDatabase);
  const fingerprint = new PlanFingerprint();
  const planRows: unknown[][] = [];
  const notFoundRows: unknown[][] = [];
  const writePending = async (force: boolean): Promise<void> => {
    if (planRows.length >= ROWS_PER_INSERT || (force && planRows.length > 0)) {
      await pool.query(
        'INSERT INTO cp_sync_plan_stations (run_key, station_pk, device_id, station_id, station_name, expected, live_points, missing, surplus, skipped) VALUES ?',
        [planRows.splice(0)],
      );
    }
    if (notFoundRows.length >= ROWS_PER_INSERT || (force && notFoundRows.length > 0)) {
      await pool.query('INSERT INTO cp_sync_not_found (run_key, device_id, connectors) VALUES ?', [notFoundRows.splice(0)]);
    }
  };

  // Two devices can name one station (its id with and without dashes): the station keeps the highest count.
  let pending: { row: DeviceRow; live: number[] } | undefined;
  const settleStation = async (): Promise<void> => {
    if (!pending) return;
    const { row, live } = pending;
    pending = undefined;
    const station: PlanStation = {
      deviceId: row.device_id,
      stationId: row.station_id!,
      stationPk: row.station_pk!,
      stationName: row.station_name!,
      expected: row.connectors,
      livePoints: live.length,
      missing: missingPointIds(row.connectors, live),
      surplus: surplusPointIds(row.connectors, live),
      skipped: testDeviceId !== undefined && !isTestDevice(row.device_id, testDeviceId),
    };
    listener?.station(station);
    fingerprint.add(station);
    if (station.missing.length === 0 && station.surplus.length === 0) return;
    if (station.skipped && station.missing.length > 0) summary.skippedStations++;
    else if (station.missing.length > 0) {
      summary.stationsToChange++;
      summary.pointsToCreate += station.missing.length;
    }
    summary.surplusPoints += station.surplus.length;
    if (summary.stations.length < PLAN_SAMPLE_LIMIT) summary.stations.push(station);
    else summary.truncated = true;
    planRows.push([
      runKey,
      station.stationPk,
      station.deviceId,
      station.stationId,
      station.stationName,
      station.expected,
      station.livePoints,
      station.missing.join(','),
      station.surplus.join(','),
      station.skipped ? 1 : 0,
    ]);
    await writePending(false);
  };

  const connection = await pool.getConnection();
  try {
    for await (const row of streamRows<DeviceRow>(connection, DIFF_QUERY, [runKey], 500)) {
      summary.processedDevices++;
      if (summary.processedDevices % 10_000 === 0) options.onProgress?.(summary.processedDevices);
      listener?.device(row.device_id, row.connectors);
      if (row.station_pk === null) {
        await settleStation();
        listener?.notFound(row.device_id);
        summary.notFound++;
        if (summary.notFoundDeviceIds.length < PLAN_SAMPLE_LIMIT) summary.notFoundDeviceIds.push(row.device_id);
        else summary.truncated = true;
        notFoundRows.push([runKey, row.device_id, row.connectors]);
        await writePending(false);
        continue;
      }
      if (pending && pending.row.station_pk === row.station_pk) {
        // Same station reached through its other spelling: keep the higher count (and its device id).
        if (row.connectors > pending.row.connectors) pending.row = row;
        continue;
      }
      await settleStation();
      pending = { row, live: parsePointIds(row.live_points) };
    }
    await settleStation();
    await writePending(true);
  } finally {
    connection.release();
  }
  summary.fingerprint = fingerprint.digest();
  return summary;
}

/** Recomputes the fingerprint of a stored plan, so that apply writes exactly what was approved. */
export async function storedPlanFingerprint(pool: Pool, runKey: string): Promise<string> {
  const fingerprint = new PlanFingerprint();
  const connection = await pool.getConnection();
  try {
    const rows = streamRows<{ station_pk: string; missing: string; skipped: number }>(
      connection,
      'SELECT station_pk, missing, skipped FROM cp_sync_plan_stations WHERE run_key = ? ORDER BY station_pk',
      [runKey],
    );
    for await (const row of rows) {
      fingerprint.add({ stationPk: row.station_pk, missing: parsePointIds(row.missing), skipped: row.skipped === 1 });
    }
  } finally {
    connection.release();
  }
  return fingerprint.digest();
}
