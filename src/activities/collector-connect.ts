/**
 * The collector's connection to the broker, from the activity's side: while it is not connected, every failed attempt
 * is heartbeated at once (`connectionError`, naming the setting), so that `status` and the Web UI show it within
 * seconds rather than when the window ends; a collector that never connected fails with that problem, not with a
 * plan that finds nothing.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import type { CollectorOptions } from '../mqtt/collector';
import { brokerAddress } from '../mqtt/broker-problem';
import { ThreadedCollector } from '../mqtt/threaded-collector';
import { signalOwnWorkflow } from './tell-workflow';
import { COLLECTOR_CONNECTION_SIGNAL, ERROR_TYPES, type BrokerConnectionProblem, type CollectionProgress, type CollectorHeartbeat } from '../shared';

/** How often the activity heartbeats while it connects (cancellation reaches it only through heartbeats). */
const CONNECT_HEARTBEAT_MS = 1000;
/** How long an attempt whose window's end is unknown (runs started before windowEndsAt existed) tries to connect. */
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

export interface CollectorConnection {
  collector: ThreadedCollector;
  /** The heartbeat from now on: the progress, with the connection's state. */
  heartbeat: () => void;
}

/** The failure of a collector that never reached the broker during its window: the problem, with the setting. */
export function neverConnectedFailure(problem: BrokerConnectionProblem): ApplicationFailure {
  return ApplicationFailure.create({
    type: ERROR_TYPES.neverCollected,
    message: `the collector never connected to the MQTT broker during the collection window: ${problem.message}`,
    nonRetryable: true,
    details: [problem],
  });
}

/**
 * Tells the workflow each new problem (heartbeats reach it only through `describe`, and are throttled to one per 8 s),
 * and null once connected after one. Signals go one after another, never holding up the connecting.
 */
function workflowTeller(context: Context, log: CollectorOptions['log']): (problem: BrokerConnectionProblem | null) => void {
  let told: string | null = null;
  let sending: Promise<void> = Promise.resolve();
  return (problem) => {
    const key = problem === null ? null : `${problem.setting} ${problem.message}`;
    if (key === told) return;
    told = key;
    sending = sending.then(() => signalOwnWorkflow(context, log, COLLECTOR_CONNECTION_SIGNAL, problem));
  };
}

/**
 * Connects, trying until the window's end (plus `graceMs`) and heartbeating each second; the workflow's cancellation
 * (the window is over) stops the trying. A collector that never connected in this run then fails, non-retryable, with
 * its last problem; a worker shutting down leaves the next attempt to go on trying.
 */
export async function connectHeartbeating(
  context: Context,
  options: Omit<CollectorOptions, 'connectTimeoutMs' | 'onConnectionProblem'>,
  progress: CollectionProgress,
  window: { endsAt: number; graceMs: number },
): Promise<CollectorConnection> {
  const resumed = context.info.heartbeatDetails as CollectorHeartbeat | undefined;
  let problem: BrokerConnectionProblem | undefined = resumed?.connectionError;
  let connected = resumed?.connected === true;
  const heartbeat = (): void => context.heartbeat({ ...progress, connected, connectionError: problem } satisfies CollectorHeartbeat);
  const ticker = setInterval(heartbeat, CONNECT_HEARTBEAT_MS);
  const connectTimeoutMs = Number.isNaN(window.endsAt) ? DEFAULT_CONNECT_TIMEOUT_MS : Math.max(DEFAULT_CONNECT_TIMEOUT_MS, window.endsAt + window.graceMs - Date.now());
  const tell = workflowTeller(context, options.log);
  const onConnectionProblem = (now: BrokerConnectionProblem | undefined): void => {
    problem = now;
    if (now !== undefined) heartbeat();
    // Connected again after a problem: the workflow clears what it shows (the teller sends nothing twice).
    tell(now ?? null);
  };
  try {
    const collector = await ThreadedCollector.connect({ ...options, connectTimeoutMs, onConnectionProblem }, context.cancellationSignal);
    connected = true;
    problem = undefined;
    tell(null);
    return { collector, heartbeat };
  } catch (err) {
    const details = context.cancellationDetails;
    const windowOver = context.cancellationSignal.aborted ? details?.cancelRequested === true && !details.workerShutdown : Date.now() >= window.endsAt;
    if (windowOver && !connected && !(err instanceof ApplicationFailure)) {
      // No attempt failed outright: the connections went unanswered (a host that drops packets).
      throw neverConnectedFailure(problem ?? { setting: 'CLOUD_HOST', message: `CLOUD_HOST ${brokerAddress(options.url)}: no answer (is the host reachable?)`, at: new Date().toISOString(), retryable: true });
    }
    throw err;
  } finally {
    clearInterval(ticker);
  }
}
