/**
 * The collection window: the collectors listen until the durable timer fires, then are cancelled and store their
 * last counts. A failing collection (e.g. refused credentials) ends the window early.
 */
import { ActivityFailure, CancellationScope, isCancellation, log, patched, sleep, TimeoutFailure } from '@temporalio/workflow';
import { formatDuration } from '../domain/duration';
import type { SyncInput } from '../shared';
import { collectorFor } from './activity-options';

/** The window's timer is cancelled with the collectors when a collection fails first (runs before it left it pending). */
const WINDOW_TIMER_PATCH = 'cancel-window-timer';

/**
 * Runs the window and returns a note when it closed while a collector was lost (its worker died): the counts it
 * stored until then are kept. Throws the first collector's failure, once every collector has settled. `stop` (a
 * rejection) closes the window early, as its timer would.
 */
export async function collectWindow(input: SyncInput, runKey: string, workflowId: string, stop?: Promise<void>): Promise<string | undefined> {
  const collectConnectorCounts = collectorFor(input.collectorDurationMs);
  const windowScope = new CancellationScope();
  const windowEndsAt = new Date(Date.now() + input.collectorDurationMs).toISOString();
  const base = { runKey, workflowId, account: input.account, maxConnectors: input.maxConnectors, windowEndsAt };
  // One collector: the plain subscription, scheduled exactly as before shared subscriptions existed (so that older
  // histories replay). More: one activity each, splitting the stream over the run's shared subscription.
  const of = input.collectors ?? 1;
  const collectors = windowScope.run(() =>
    Promise.resolve(of <= 1 ? [collectConnectorCounts(base)] : Array.from({ length: of }, (_, index) => collectConnectorCounts({ ...base, collector: { index, of } }))),
  );
  const scheduled = await collectors;
  try {
    const windowTimer = (): Promise<void> => sleep(input.collectorDurationMs, { summary: `Collection window (${formatDuration(input.collectorDurationMs)})` });
    await Promise.race([patched(WINDOW_TIMER_PATCH) ? windowScope.run(windowTimer) : windowTimer(), Promise.all(scheduled), ...(stop ? [stop] : [])]);
  } finally {
    // The window has closed, or a collection failed (and the others stop with it).
    windowScope.cancel();
  }
  const note = settleCollectors(await Promise.allSettled(scheduled), of);
  if (note !== undefined) log.warn(note);
  return note;
}

/**
 * Every collector settles first (each stores its last counts on cancellation), so that a failing one never leaves
 * the others running after the run has ended. Returns the lost-collector note, or throws the first real failure.
 */
function settleCollectors(outcomes: PromiseSettledResult<{ windowClosedBeforeRetry?: boolean } | undefined>[], of: number): string | undefined {
  const lost = `${of > 1 ? 'a collector' : 'the collector'} was lost near the end of the window (worker stopped); counts stored until then are used`;
  let note: string | undefined;
  let failure: Error | undefined;
  for (const settled of outcomes) {
    if (settled.status === 'fulfilled') {
      // A collector whose worker died near the end is retried by the server when its heartbeat times out; when that
      // retry starts after the window has closed, it does not listen and says so.
      if (settled.value?.windowClosedBeforeRetry) note = lost;
      continue;
    }
    const err: unknown = settled.reason;
    if (isCancellation(err)) continue;
    // The server does not retry an activity whose cancellation was requested: a collector whose worker died near
    // the end of the window times out instead. What it stored is complete up to its last heartbeat.
    if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
      note = lost;
      continue;
    }
    failure ??= err instanceof Error ? err : new Error(String(err));
  }
  if (failure !== undefined) throw failure;
  return note;
}
