/**
 * A rejection ends the run at once: while the window listens or the plan is built, a `reject` stops that work (the
 * collectors are cancelled, store their counts and end their MQTT sessions; the plan's queries are killed) instead
 * of letting it run to its end. Runs recorded before this rule replay as they were: the patch is asked only when a
 * rejection arrives during such work.
 */
import { CancellationScope, condition, patched } from '@temporalio/workflow';
import type { SyncStatus } from '../shared';

const REJECT_STOPS_WORK_PATCH = 'reject-stops-work';

export interface RejectionStop {
  /** Resolves when the run is rejected while the work runs (never otherwise). */
  readonly stopped: Promise<void>;
  /** Whether it has. */
  fired(): boolean;
  /** The work has ended: a later rejection no longer stops it. */
  done(): void;
}

export function stopOnRejection(status: SyncStatus): RejectionStop {
  let done = false;
  let fired = false;
  const never = new Promise<void>(() => undefined);
  const stopped = condition(() => done || status.rejection !== undefined).then(() => {
    if (done || !patched(REJECT_STOPS_WORK_PATCH)) return never;
    fired = true;
    return undefined;
  });
  return { stopped, fired: () => fired, done: () => void (done = true) };
}

/**
 * Runs `work` (an activity) in a scope of its own and cancels it when the run is rejected first. Resolves with the
 * work's value, or `undefined` when the rejection stopped it.
 */
export async function untilRejected<T>(status: SyncStatus, work: () => Promise<T>): Promise<T | undefined> {
  const stop = stopOnRejection(status);
  const scope = new CancellationScope();
  const running = scope.run(work);
  const settled = running.then(
    () => false,
    () => false,
  );
  try {
    if (await Promise.race([settled, stop.stopped.then(() => true)])) {
      scope.cancel();
      await settled;
      return undefined;
    }
    return await running;
  } finally {
    stop.done();
  }
}
