/**
 * The database time of one watch cycle of exactly 100 changed devices on the benchmark's fleet, measured after the
 * run (the watch stopped, its rows checked): 100 fleet devices with a station are marked as heard with one more
 * connector, then the cycle's own code runs as the worker's activities run it (claim, incremental plan, apply with
 * its lock and re-check), timed per step. Five rounds of other devices; the median. The run's database is dropped
 * afterwards, so the points this adds are never checked.
 */
import { performance } from 'node:perf_hooks';
import type { SyncDatabase } from '../../src/db/tables';
import { cycleRunKey, watchKeyOf } from '../../src/domain/watch-keys';
import { applyPlan } from '../../src/store/applier';
import { WatchDeviceStore } from '../../src/store/watch-devices';
import { planCycle } from '../../src/store/watch-planner';
import { benchDevice } from './fleet';

const DEVICES = 100;
const ROUNDS = 5;

export interface CycleProbe {
  /** Changed devices a round (fewer than 100 only in a fleet too small for 5 rounds of 100). */
  devices: number;
  rounds: number;
  pointsCreated: number;
  /** Medians of the rounds, in seconds. */
  claimSeconds: number;
  planSeconds: number;
  applySeconds: number;
  totalSeconds: number;
}

const median = (values: number[]): number => (values.length === 0 ? 0 : Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]! * 10) / 10_000);

/** Runs ROUNDS cycles of DEVICES changed devices each, numbered after `lastCycle`, on the watch's own rows. */
export async function probeHundredDeviceCycle(db: SyncDatabase, workflowId: string, fleetSize: number, lastCycle: number): Promise<CycleProbe> {
  const watchKey = watchKeyOf(workflowId);
  const store = new WatchDeviceStore(db);
  const times = { claim: [] as number[], plan: [] as number[], apply: [] as number[], total: [] as number[] };
  let pointsCreated = 0;
  let devices = DEVICES;
  const step = Math.max(1, Math.floor(fleetSize / (DEVICES * ROUNDS * 2)));
  let next = 1;
  for (let round = 0; round < ROUNDS; round++) {
    const ids: string[] = [];
    for (; ids.length < DEVICES && next <= fleetSize; next += step) {
      const device = benchDevice(next);
      if (device.station) ids.push(device.deviceId);
    }
    // A small fleet runs out of devices: fewer rounds, and the figures say how many devices they timed.
    if (ids.length === 0) break;
    devices = Math.min(devices, ids.length);
    // As the collectors' upsert leaves a device whose count rose: pending, one connector more.
    await db.pool.query(`UPDATE ${db.tables.watchDevices} SET connectors = connectors + 1, pending = 1 WHERE watch_key = ? AND device_id IN (?)`, [watchKey, ids]);
    const cycle = lastCycle + round + 1;
    const runKey = cycleRunKey(workflowId, cycle);
    const started = performance.now();
    await store.claim(watchKey, cycle);
    const claimed = performance.now();
    const plan = await planCycle(db, { workflowId, watchKey, runKey, fromCycle: cycle });
    const planned = performance.now();
    const applied = await applyPlan(db, { runKey, fingerprint: plan.fingerprint });
    const done = performance.now();
    pointsCreated += applied.created;
    times.claim.push(claimed - started);
    times.plan.push(planned - claimed);
    times.apply.push(done - planned);
    times.total.push(done - started);
  }
  return { devices, rounds: times.total.length, pointsCreated, claimSeconds: median(times.claim), planSeconds: median(times.plan), applySeconds: median(times.apply), totalSeconds: median(times.total) };
}
