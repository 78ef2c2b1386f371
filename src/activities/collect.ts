import { CancelledFailure, Context } from '@temporalio/activity';
import type { MqttConfig } from '../config';
import { BrokerDropWatch, type BrokerDrops } from '../mqtt/broker-drops';
import { sessionClientId, shareGroupOf } from '../mqtt/collector';
import { connectHeartbeating } from './collector-connect';
import { startWindowPrePlan } from './window-pre-plan';
import { ObservationStore } from '../store/observation-store';
import type { SyncDatabase } from '../db/tables';
import type { Log } from '../log';
import type { SyncMetrics } from '../metrics';
import type { LogLevel } from '../config';
import { topicFilterFor, type CollectionOutcome, type CollectionProgress } from '../shared';

export interface CollectInput {
  runKey: string;
  workflowId: string;
  account?: string;
  maxConnectors: number;
  /**
   * When the window's timer fires (ISO time, from the workflow). A retry that starts later does not listen; an
   * attempt still listening this long after it (plus WINDOW_GRACE_MS) stops by itself. Absent in runs started
   * before it existed.
   */
  windowEndsAt?: string;
  /**
   * One of several collectors of the run (`--collectors N`, N > 1): each subscribes to the run's MQTT shared
   * subscription with a session of its own, and the broker splits the stream between them. Absent: the one
   * collector, with a plain subscription.
   */
  collector?: { index: number; of: number };
}

/** One collector's share of the run: its MQTT session key, what it subscribes to, and how it names itself. */
function collectorOf(input: CollectInput): { sessionKey: string; topicFilter: string; label: string } {
  const filter = topicFilterFor(input.account);
  if (input.collector === undefined || input.collector.of <= 1) return { sessionKey: input.runKey, topicFilter: filter, label: '' };
  const { index, of } = input.collector;
  return {
    sessionKey: index === 0 ? input.runKey : `${input.runKey}#${index}`,
    topicFilter: `$share/${shareGroupOf(input.runKey)}/${filter}`,
    label: ` (collector ${index + 1} of ${of})`,
  };
}

/** How often counts are written to the database and progress is heartbeated. */
const FLUSH_INTERVAL_MS = 1000;
/**
 * How long the broker keeps the run's session beyond the window: enough for a lost collector to be noticed
 * (heartbeat timeout, 10 s) and retried (backoff up to 15 s) on a worker that is up.
 */
const SESSION_EXPIRY_MARGIN_S = 60;
/**
 * How long after the window's end an attempt waits for the workflow's cancellation before it stops by itself. The
 * cancellation normally arrives within a second or two; it comes much later when the workflow task that handles
 * the timer went to a worker that has just died (Temporal waits for that worker's sticky queue to time out).
 */
const WINDOW_GRACE_MS = 5000;

/** Seconds the session must outlive a connection lost now: the rest of the window plus the margin. */
function sessionExpirySeconds(windowEndsAt: number, startToCloseTimeoutMs: number): number {
  const remainingMs = Number.isNaN(windowEndsAt) ? startToCloseTimeoutMs : windowEndsAt - Date.now();
  return Math.ceil(Math.max(0, remainingMs) / 1000) + SESSION_EXPIRY_MARGIN_S;
}

async function withRetries<T>(attempts: number, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

/**
 * Listens until the workflow's window timer cancels it. Counts reach the database every second (highest count
 * wins, so rewriting is harmless): when a worker dies mid-window, the retry on another worker resumes the same
 * window and adds to the same rows, and the same MQTT session (one client id per run), in which the broker kept
 * the messages published meanwhile (QoS 1 redeliveries are harmless for the same reason). The progress counters
 * come back from the last heartbeat; `devices` counts the devices this collector stored first (all collectors of a run
 * add up to the run's devices), and may miss those an attempt that died stored after its last heartbeat (it is
 * progress for people; the plan counts exactly). Beside it, the broker's dropped-messages counter ($SYS) is recorded.
 */
/** The counters an earlier attempt heartbeated (a retry goes on from them), or zeros for a first attempt. */
export function resumedProgress(context: Context): CollectionProgress {
  const resumed = context.info.heartbeatDetails as Partial<CollectionProgress> | undefined;
  return { messages: resumed?.messages ?? 0, devices: resumed?.devices ?? 0, rejected: resumed?.rejected ?? 0 };
}

export function createCollectActivity(deps: SyncDatabase & { mqtt: MqttConfig; log: Log; metrics: SyncMetrics; logLevel?: LogLevel; planDuringWindow?: boolean }) {
  const planDuringWindow = deps.planDuringWindow === true;
  const store = new ObservationStore(deps, { markForWindowPlan: planDuringWindow });

  return async function collectConnectorCounts(input: CollectInput): Promise<CollectionOutcome> {
    const context = Context.current();
    const progress = resumedProgress(context);
    const windowEndsAt = input.windowEndsAt !== undefined ? Date.parse(input.windowEndsAt) : NaN;
    if (context.info.attempt > 1 && Date.now() >= windowEndsAt) {
      // The collector was lost and the window closed before this retry: listening now would stretch the window.
      // (The run's MQTT session expires by itself, SESSION_EXPIRY_MARGIN_S after the window.)
      deps.log.info(
        `The collection window closed before attempt ${context.info.attempt} started (the collector was lost): ` +
          `the ${progress.messages} messages stored until then are used`,
      );
      return { ...progress, windowClosedBeforeRetry: true };
    }
    if (context.info.heartbeatDetails !== undefined) deps.log.info(`Resuming the collection window (attempt ${context.info.attempt}): ${progress.messages} messages so far`);

    const share = collectorOf(input);
    // The socket is read in a thread of its own: neither the flushes below nor anything else this worker does can
    // hold up the intake. Until it is connected, each failed attempt is heartbeated (naming the setting to check).
    const { collector, heartbeat } = await connectHeartbeating(
      context,
      {
        url: deps.mqtt.url,
        connectOptions: deps.mqtt.options,
        topicFilter: share.topicFilter,
        maxConnectors: input.maxConnectors,
        log: deps.log,
        debug: deps.logLevel === 'debug',
        session: { runKey: share.sessionKey, expirySeconds: sessionExpirySeconds(windowEndsAt, context.info.startToCloseTimeoutMs) },
      },
      progress,
      { endsAt: windowEndsAt, graceMs: WINDOW_GRACE_MS },
    );
    // Recorded once subscribed: a run without this row never heard the broker, and its plan says so.
    await store.startRun(input.runKey, input.workflowId).catch(async (err: unknown) => {
      await collector.close({ endSession: false });
      throw err;
    });
    // Broker-wide figures, and the plan built during the window (PLAN_DURING_WINDOW): one collector of the run does them.
    const prePlan = planDuringWindow && (input.collector?.index ?? 0) === 0 ? startWindowPrePlan(deps, input.runKey) : undefined;
    const drops = (input.collector?.index ?? 0) === 0 ? BrokerDropWatch.start({
      url: deps.mqtt.url,
      connectOptions: deps.mqtt.options,
      clientId: `${sessionClientId(input.runKey, deps.mqtt.options.clientId)}-sys`,
      log: deps.log,
    }) : undefined;
    let dropsRecorded: BrokerDrops | undefined;
    let dropsFailed = false;
    // Never fails the window: the figures are for people, the counts are what matter.
    const recordDrops = async (): Promise<void> => {
      const figures = drops?.figures;
      if (!figures || (figures.first === dropsRecorded?.first && figures.last === dropsRecorded.last)) return;
      try {
        await store.recordBrokerDrops(input.runKey, figures);
        dropsRecorded = figures;
      } catch (err) {
        if (!dropsFailed) deps.log.error(`Could not store the broker's dropped-messages figures (will retry): ${err instanceof Error ? err.message : String(err)}`);
        dropsFailed = true;
      }
    };

    // Flushes run one after another, never overlapping; a failed write is put back and tried on the next tick.
    let flushing: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      flushing = flushing.then(async () => {
        const batch = collector.drain();
        try {
          await store.flush(input.runKey, batch, (added) => (progress.devices += added));
        } catch (err) {
          collector.restore(batch);
          throw err;
        }
        deps.metrics.collected(batch.messages, batch.rejectedCount);
        progress.messages += batch.messages;
        progress.rejected += batch.rejectedCount;
        await recordDrops();
        heartbeat();
      });
      return flushing;
    };
    const ticker = setInterval(() => {
      flush().catch((err: Error) => {
        flushing = Promise.resolve();
        deps.log.error(`Could not store collected counts yet (will retry): ${err.message}`);
        heartbeat();
      });
    }, FLUSH_INTERVAL_MS);

    // Stores the last counts and disconnects, once the window is over (or the worker is shutting down). Only the end
    // of the window ends the run's MQTT session; otherwise the next attempt resumes it.
    const stopListening = async (endSession: boolean): Promise<void> => {
      const planning = prePlan?.stop();
      clearInterval(ticker);
      await collector.close({ endSession });
      await drops?.close();
      await flushing.catch(() => undefined);
      await withRetries(5, flush);
      await planning;
    };
    const windowOver = (): void => {
      deps.log.info('Collection completed!');
      deps.log.info('Disconnected from broker');
      deps.log.info(`Collected ${progress.messages} messages from ${progress.devices} unique devices (${progress.rejected} rejected)${share.label}`, { ...progress });
      const figures = drops?.figures;
      if (figures && figures.last > figures.first) {
        deps.metrics.brokerDropped(figures.last - figures.first);
        deps.log.warn(`The broker dropped ${figures.last - figures.first} messages (all its clients) while this collector listened: devices may be missing`, {
          dropped: figures.last - figures.first,
        });
      }
    };
    let deadline: NodeJS.Timeout | undefined;
    const pastTheWindow = new Promise<void>((resolve) => {
      if (!Number.isNaN(windowEndsAt)) deadline = setTimeout(resolve, Math.max(0, windowEndsAt + WINDOW_GRACE_MS - Date.now()));
    });

    try {
      await Promise.race([context.cancelled, pastTheWindow, collector.lost]);
      // The window is over and no cancellation came (see WINDOW_GRACE_MS): stop by ourselves.
      await stopListening(true);
      deps.log.info(`The window ended ${WINDOW_GRACE_MS / 1000} s ago and the workflow has not stopped the collection yet: stopping it here`);
      windowOver();
      return progress;
    } catch (err) {
      if (!(err instanceof CancelledFailure)) {
        // The collector's thread died: store what it handed over (the retry resumes the run's session for the rest).
        await stopListening(false).catch(() => undefined);
        throw err;
      }
      const details = context.cancellationDetails;
      // Only the workflow's timer ends the window (a cancel request). A worker shutting down, or an attempt given
      // up by the server (timed out, not found), leaves the session to the next attempt.
      await stopListening(details?.cancelRequested === true && !details.workerShutdown);
      if (details?.workerShutdown) {
        // Not the end of the window: the retry on another worker (or this one, restarted) goes on listening.
        deps.log.info(`Worker shutting down mid-window: stored ${progress.messages} messages so far; another attempt resumes the window`);
      } else {
        windowOver();
      }
      throw err;
    } finally {
      clearTimeout(deadline);
      clearInterval(ticker);
      await collector.close({ endSession: false }).catch(() => undefined);
      await drops?.close();
      await prePlan?.stop();
    }
  };
}
