/**
 * The planning during a sync's window (store/window-planner.ts), run by the run's first collector beside its intake:
 * the snapshot of the stations, then a step whenever devices were marked. It never fails the window: whatever goes
 * wrong here only means that the plan at close is built in full.
 */
import type { SyncDatabase } from '../db/tables';
import { AttemptQueries } from '../db/attempt-queries';
import type { Log } from '../log';
import { discardWindowRows, ocppChangedSince, planMarkedDevices, takeSnapshot, withRunState } from '../store/window-planner';

/** How long the planning waits when no device was marked (the collectors flush every second). */
const IDLE_MS = 1000;
/**
 * After each step (and each batch of the snapshot) the planning rests a quarter of the time it worked, so that the
 * intake keeps a share of the CPU and the database (on a busy 2-core machine, a collector that waits 200 ms for the
 * CPU at 5,000 msg/s makes the broker drop messages), while the planning still keeps pace with a fleet whose devices
 * arrive at ~11,000 a second. A compromise, not a measured optimum (docs/performance.md).
 */
const REST_PER_WORK = 0.25;
/** How often a step checks that ocpp-db has not changed: the planning stops at once when it has. */
const STEPS_PER_CHECK = 10;

export interface WindowPrePlan {
  /** Stops after the step in progress (the plan at close would wait for that step's transaction anyway). */
  stop(): Promise<void>;
}

export function startWindowPrePlan(deps: SyncDatabase & { log: Log }, runKey: string): WindowPrePlan {
  const queries = new AttemptQueries(deps.pool);
  let stopped = false;
  let wake: (() => void) | undefined;
  const idle = (ms = IDLE_MS): Promise<void> =>
    new Promise((resolve) => {
      if (stopped) return resolve();
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** Whether to go on: false once ocpp-db changed (said in the log) or the plan at close has taken over. */
  const unchanged = async (): Promise<boolean> => {
    const result = await withRunState(deps, queries, runKey, async (connection, state) => {
      if (state.snapshotAt === null || !(await ocppChangedSince(connection, (sql) => queries.tag(sql), deps.tables, state.snapshotAt))) return true;
      await connection.query(queries.tag(`UPDATE ${deps.tables.windowState} SET abandoned = 1 WHERE run_key = ?`), [runKey]);
      deps.log.info('ocpp-db changed during the collection window: the plan will be built from the whole fleet at its close');
      return false;
    });
    return result === true;
  };

  const run = async (): Promise<void> => {
    const rest = (workedMs: number): Promise<void> => idle(workedMs * REST_PER_WORK);
    if (!(await takeSnapshot(deps, queries, runKey, () => stopped, rest))) return;
    for (let steps = 0; !stopped; steps++) {
      if (steps % STEPS_PER_CHECK === 0 && !(await unchanged())) return discardWindowRows(deps, queries, runKey, () => stopped);
      const started = Date.now();
      const planned = await planMarkedDevices(deps, queries, runKey);
      if (planned === undefined) return;
      await (planned === 0 ? idle() : rest(Date.now() - started));
    }
  };
  const running = run().catch((err: unknown) => {
    deps.log.warn(`Planning during the collection window stopped (the plan will be built from the whole fleet at its close): ${err instanceof Error ? err.message : String(err)}`);
  });
  return {
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
