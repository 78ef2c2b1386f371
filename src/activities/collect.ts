import { CancelledFailure, Context } from '@temporalio/activity';
import type { MqttConfig } from '../config';
import { Collector } from '../mqtt/collector';
import { ObservationStore } from '../db/observation-store';
import type { SyncDatabase } from '../db/tables';
import type { Log } from '../log';
import { topicFilterFor, type CollectionProgress } from '../shared';

export interface CollectInput {
  runKey: string;
  workflowId: string;
  account?: string;
  maxConnectors: number;
}

/** How often counts are written to the database and progress is heartbeated. */
const FLUSH_INTERVAL_MS = 1000;

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
 * window and adds to the same rows. The progress counters come back from the last heartbeat; `devices` may count
 * a device heard by two attempts twice (it is progress for people; the plan counts exactly).
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
    });
    // Recorded once subscribed: a run without this row never heard the broker, and its plan says so.
    await store.startRun(input.runKey, input.workflowId).catch(async (err: unknown) => {
      await collector.close();
      throw err;
    });

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
      await collector.close();
      await flushing.catch(() => undefined);
      await withRetries(5, flush);
      const details = context.cancellationDetails;
      if (details?.workerShutdown) {
        // Not the end of the window: the retry on another worker (or this one, restarted) goes on listening.
        deps.log.info(`Worker shutting down mid-window: stored ${progress.messages} messages so far; another attempt resumes the window`);
      } else {
        deps.log.info('Collection completed!');
        deps.log.info('Disconnected from broker');
        deps.log.info(`Collected ${progress.messages} messages from ${progress.devices} unique devices (${progress.rejected} rejected)`);
      }
      throw err;
    } finally {
      clearInterval(ticker);
      await collector.close().catch(() => undefined);
    }
  };
}
