import { ApplicationFailure } from '@temporalio/activity';
import { buildPlan, NeverCollectedError, type PlanListener } from '../store/planner';
import { planAtWindowClose } from '../store/window-plan';
import type { SyncDatabase } from '../db/tables';
import type { LogLevel } from '../config';
import type { Log } from '../log';
import type { SyncMetrics } from '../metrics';
import { planHeadline } from '../domain/run-text';
import { ACTIVITY, ERROR_TYPES, type PlanStation, type PlanSummary } from '../shared';
import type { AttemptQueries } from '../db/attempt-queries';
import { runAttempt, type AttemptHooks } from './attempts';

export interface DiffInput {
  runKey: string;
  testDeviceId?: string;
}

/**
 * The per-device lines of the original. Devices that need nothing are printed only at LOG_LEVEL=debug, so a
 * large fleet's log shows the stations that matter. Between batches the plan waits for stdout's reader (Log.drained):
 * counted as a wait of `attempt`, not a stall (the plan at window close replays a million lines at the reader's pace).
 */
export function originalLogLines(log: Log, debug: boolean, attempt?: Pick<AttemptQueries, 'waitingFor'>): PlanListener {
  let current: { deviceId: string; connectors: number } | undefined;
  const processing = (level: 'info' | 'debug'): void => {
    if (current && (level === 'info' || debug)) log[level](`Processing device: ${current.deviceId}, connector count: ${current.connectors}`, { deviceId: current.deviceId, connectors: current.connectors });
  };
  return {
    stationsInDatabase(count) {
      log.info(`Found ${count} charging stations`, { stations: count });
    },
    batchDone: () => {
      const drained = log.drained?.() ?? Promise.resolve();
      return attempt ? attempt.waitingFor(drained) : drained;
    },
    device(deviceId, connectors) {
      current = { deviceId, connectors };
    },
    ambiguous({ deviceId, stationId, otherStationId }) {
      log.info(`Ambiguous device ${deviceId}: station ${stationId} matches it exactly and station ${otherStationId} without dashes; using ${stationId}`, {
        deviceId,
        stationId,
        otherStationId,
      });
    },
    notFound(deviceId) {
      processing('info');
      log.info(`No station found for device: ${deviceId}`, { deviceId });
    },
    station(station: PlanStation) {
      const mismatch = station.missing.length > 0 || station.surplus.length > 0;
      // Most stations need nothing: their lines are not even built unless LOG_LEVEL=debug.
      if (!mismatch && !debug) return;
      const level = mismatch ? 'info' : 'debug';
      const about = { deviceId: station.deviceId, stationId: station.stationPk };
      log[level](`Processing device: ${station.deviceId}, connector count: ${station.expected}`, { ...about, connectors: station.expected });
      log[level](`Station found: ${station.stationName} (id: ${station.stationPk}), existing points: ${station.livePoints}`, { ...about, found: station.livePoints });
      if (!mismatch) return;
      log.info(`Mismatch! Expected ${station.expected}, but found ${station.livePoints} points`, { ...about, expected: station.expected, found: station.livePoints });
      if (station.surplus.length > 0) log.info(`Surplus points kept (never deleted): ${station.surplus.join(', ')}`, { ...about, surplus: station.surplus.join(',') });
      if (station.missing.length === 0) return;
      if (station.skipped) log.info('⊘ Skipped (test mode)', about);
      else log.info(`✓ Prepared ${station.missing.length} new charging points (point_id ${station.missing.join(', ')})`, { ...about, prepared: station.missing.length });
    },
  };
}

/**
 * `workerTestDeviceId` is the worker's own TEST_DEVICE_ID: a worker set up for test mode never writes beyond its
 * test device, even for a sync started without one (the sync's own test device, when given, wins).
 */
export function createDiffActivity(deps: SyncDatabase & { log: Log; metrics: SyncMetrics; logLevel?: LogLevel; workerTestDeviceId?: string; planDuringWindow?: boolean }) {
  return async function diffStations(input: DiffInput): Promise<PlanSummary> {
    const { log } = deps;
    const testDeviceId = input.testDeviceId ?? deps.workerTestDeviceId;
    let devices = 0;
    // Heartbeats on a timer, also while the diff query runs: a dead worker's attempt moves on within seconds. The
    // devices planned show that it gets on; while none are, a running statement of its own does (runAttempt).
    const hooks: AttemptHooks = {
      progress: () => ({ devices }),
      translate: (err) => (err instanceof NeverCollectedError ? ApplicationFailure.create({ type: ERROR_TYPES.neverCollected, message: err.message, nonRetryable: true }) : err),
      onFinalFailure: (message) => log.error(`✗ Planning failed: ${message}`),
    };
    const plan = await runAttempt(ACTIVITY.plan, deps, hooks, async (queries) => {
      await queries.query('SELECT 1');
      log.info('Database connection established successfully');
      if (testDeviceId !== undefined) log.info(`⚠️  TEST MODE: Only processing device: ${testDeviceId}`);
      const options = {
        runKey: input.runKey,
        testDeviceId,
        queries,
        listener: originalLogLines(log, deps.logLevel === 'debug', queries),
        onProgress: (done: number) => {
          devices = done;
        },
      };
      // Without PLAN_DURING_WINDOW nothing was planned during the window, and nothing of it is read or written here.
      if (deps.planDuringWindow !== true) return buildPlan(deps, options);
      const built = await planAtWindowClose(deps, { ...options, debug: deps.logLevel === 'debug' });
      if (built.built === 'during-window') log.info(`Plan built during the collection window: ${built.lateDevices} devices were left to plan at its close`);
      else log.info(`Plan built from the whole fleet at window close: ${built.reason}`);
      return built.summary;
    });
    log.info(
      `${planHeadline(plan)}, ${plan.processedDevices} unique devices, ${plan.notFound} without a station, ${plan.rejected} rejected messages, ` +
        `${plan.silentStations ?? 0} silent stations${plan.brokerDroppedMessages !== undefined ? `, ${plan.brokerDroppedMessages} messages dropped by the broker` : ''}`,
    );
    deps.metrics.planBuilt(plan);
    return plan;
  };
}
