import { CancelledFailure, Context } from '@temporalio/activity';
import type { MqttConfig } from '../config';
import { BrokerDropWatch, type BrokerDrops } from '../mqtt/broker-drops';
import { Collector, sessionClientId } from '../mqtt/collector';
import { ObservationStore } from '../db/observation-store';
import type { SyncDatabase } from '../db/tables';
import type { Log } from '../log';
import { topicFilterFor, type CollectionProgress } from '../shared';

export interface CollectInput {
  runKey: string;
  workflowId: string;
  account?: string;
  maxConnectors: number;
  /** When the window's timer fires (epoch ms); absent in runs started by an earlier version. */
  windowEndsAt?: number;
}

/** How often counts are written to the database and progress is heartbeated. */
const FLUSH_INTERVAL_MS = 1000;
/**
 * How long the broker keeps the run's session beyond the window: enough for a lost collector to be noticed
 * (heartbeat timeout, 10 s) and retried (backoff up to 15 s) on a worker that is up.
 */
const SESSION_EXPIRY_MARGIN_S = 60;

/** Seconds the session must outlive a connection lost now: the rest of the window plus the margin. */
function sessionExpirySeconds(windowEndsAt: number | undefined, startToCloseTimeoutMs: number): number {
  const remainingMs = windowEndsAt !== undefined ? windowEndsAt - Date.now() : startToCloseTimeoutMs;
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
 * come back from the last heartbeat; `devices` may count a device heard by two attempts twice (it is progress for
 * people; the plan counts exactly). Beside it, the broker's dropped-messages counter ($SYS) is recorded.
 */
export function createCollectActivity(deps: SyncDatabase & { mqtt: MqttConfig; log: Log }) {
  const store = new ObservationStore(deps);

  return async function collectConnectorCounts(input: CollectInput): Promise<CollectionProgress> {
    const context = Context.current();
    const resumed = context.info.heartbeatDetails as CollectionProgress | undefined;
    const progress: CollectionProgress = { messages: resumed?.messages ?? 0, devices: resumed?.devices ?? 0, rejected: resumed?.rejected ?? 0 };
    const devicesBefore = progress.devices;
    if (resumed) deps.log.info(`Resuming the collection window (attempt ${context.info.attempt}): ${progress.messages} messages so far`);

    const collector = await Collector.connect({
      url: deps.mqtt.url,
      connectOptions: deps.mqtt.options,
      topicFilter: topicFilterFor(input.account),
      maxConnectors: input.maxConnectors,
      log: deps.log,
      session: { runKey: input.runKey, expirySeconds: sessionExpirySeconds(input.windowEndsAt, context.info.startToCloseTimeoutMs) },
    });
    // Recorded once subscribed: a run without this row never heard the broker, and its plan says so.
    await store.startRun(input.runKey, input.workflowId).catch(async (err: unknown) => {
      await collector.close({ endSession: false });
      throw err;
    });
    const drops = BrokerDropWatch.start({
      url: deps.mqtt.url,
      connectOptions: deps.mqtt.options,
      clientId: `${sessionClientId(input.runKey, deps.mqtt.options.clientId)}-sys`,
      log: deps.log,
    });
    let dropsRecorded: BrokerDrops | undefined;
    let dropsFailed = false;
    // Never fails the window: the figures are for people, the counts are what matter.
    const recordDrops = async (): Promise<void> => {
      const figures = drops.figures;
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
          await store.flush(input.runKey, batch);
        } catch (err) {
          collector.restore(batch);
          throw err;
        }
        progress.messages += batch.messages;
        progress.rejected += batch.rejectedCount;
        progress.devices = devicesBefore + collector.devices;
        await recordDrops();
        context.heartbeat(progress);
      });
      return flushing;
    };
    const ticker = setInterval(() => {
      flush().catch((err: Error) => {
        flushing = Promise.resolve();
        deps.log.error(`Could not store collected counts yet (will retry): ${err.message}`);
        context.heartbeat(progress);
      });
    }, FLUSH_INTERVAL_MS);

    try {
      await context.cancelled;
      return progress; // not reached: `cancelled` only ever rejects
    } catch (err) {
      if (!(err instanceof CancelledFailure)) throw err;
      clearInterval(ticker);
      const details = context.cancellationDetails;
      // Only the workflow's timer ends the window (a cancel request). A worker shutting down, or an attempt given
      // up by the server (timed out, not found), leaves the session to the next attempt.
      const windowClosed = details?.cancelRequested === true && !details.workerShutdown;
      await collector.close({ endSession: windowClosed });
      await drops.close();
      await flushing.catch(() => undefined);
      await withRetries(5, flush);
      if (details?.workerShutdown) {
        // Not the end of the window: the retry on another worker (or this one, restarted) goes on listening.
        deps.log.info(`Worker shutting down mid-window: stored ${progress.messages} messages so far; another attempt resumes the window`);
      } else {
        deps.log.info('Collection completed!');
        deps.log.info('Disconnected from broker');
        deps.log.info(`Collected ${progress.messages} messages from ${progress.devices} unique devices (${progress.rejected} rejected)`);
        const figures = drops.figures;
        if (figures && figures.last > figures.first) {
          deps.log.info(`The broker dropped ${figures.last - figures.first} messages (all its clients) while this collector listened: devices may be missing`);
        }
      }
      throw err;
    } finally {
      clearInterval(ticker);
      await collector.close({ endSession: false }).catch(() => undefined);
      await drops.close();
    }
  };
}
