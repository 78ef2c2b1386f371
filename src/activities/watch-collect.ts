/**
 * The watch's collector: the sync's collector (its own thread, persistent session, QoS 1, shared subscription for
 * `--collectors N`) without a window. Every second it writes each device's highest count and when it was heard into
 * cp_sync_watch_devices and heartbeats. It listens until the workflow cancels it (continue-as-new, `watch stop`) or
 * its worker goes away; either way it leaves the MQTT session on the broker, which queues for the next collector
 * with the same client id (the next run's, or this one's retry). `watch stop` ends the sessions afterwards
 * (endWatchSessions).
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import type { LogLevel, MqttConfig } from '../config';
import { resumedProgress } from './collect';
import { shareGroupOf } from '../mqtt/collector';
import { connectHeartbeating } from './collector-connect';
import { WatchDeviceStore } from '../store/watch-devices';
import type { SyncDatabase } from '../db/tables';
import { watchKeyOf, watchSessionKey } from '../domain/watch-keys';
import type { Log } from '../log';
import type { SyncMetrics } from '../metrics';
import { topicFilterFor } from '../shared';
import type { WatchCollectInput } from '../watch-shared';

const FLUSH_INTERVAL_MS = 1000;
/**
 * How long the broker keeps a watch's session (and queues for it) with no collector connected: long enough for a
 * worker restart, a new build's deployment or a broker restart; a watch terminated without `watch stop` leaves it
 * no longer than this.
 */
export const WATCH_SESSION_EXPIRY_S = 3600;

/** The collector's session and subscription: the same for every run of the watch. */
export function watchSubscription(input: WatchCollectInput): { sessionKey: string; topicFilter: string } {
  const filter = topicFilterFor(input.account);
  const of = input.collector?.of ?? 1;
  if (of <= 1) return { sessionKey: watchSessionKey(input.workflowId), topicFilter: filter };
  const index = input.collector?.index ?? 0;
  return { sessionKey: watchSessionKey(input.workflowId, index), topicFilter: `$share/${shareGroupOf(watchSessionKey(input.workflowId))}/${filter}` };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createWatchCollectActivity(deps: SyncDatabase & { mqtt: MqttConfig; log: Log; metrics: SyncMetrics; logLevel?: LogLevel }) {
  const store = new WatchDeviceStore(deps);

  return async function collectWatchCounts(input: WatchCollectInput): Promise<void> {
    const context = Context.current();
    const progress = resumedProgress(context);
    const watchKey = watchKeyOf(input.workflowId);
    const { sessionKey, topicFilter } = watchSubscription(input);
    // As a sync's collector connects: heartbeating, and telling the watch each problem reaching the broker (and when
    // it is over), so that `status` and the Web UI show it. No window: a collector that cannot connect is retried.
    const { collector, heartbeat } = await connectHeartbeating(
      context,
      {
        url: deps.mqtt.url,
        connectOptions: deps.mqtt.options,
        topicFilter,
        maxConnectors: input.maxConnectors,
        log: deps.log,
        debug: deps.logLevel === 'debug',
        session: { runKey: sessionKey, expirySeconds: WATCH_SESSION_EXPIRY_S },
      },
      progress,
      { endsAt: Number.NaN, graceMs: 0 },
    );

    /** Writes what arrived since the last call; a failed write is put back for the next. */
    const storeArrived = async (): Promise<void> => {
      const batch = collector.drain();
      const written = batch.counts.size === 0 ? Promise.resolve(0) : store.upsert(watchKey, batch.counts, new Date());
      const added = await written.catch((err: unknown) => {
        collector.restore(batch);
        throw err;
      });
      Object.assign(progress, { devices: progress.devices + added, messages: progress.messages + batch.messages, rejected: progress.rejected + batch.rejectedCount });
      deps.metrics.collected(batch.messages, batch.rejectedCount);
    };
    let listening = true;
    const flushing = (async () => {
      while (listening) {
        await pause(FLUSH_INTERVAL_MS);
        await storeArrived().catch((err: unknown) => deps.log.error(`Could not store the watch's counts yet (will retry): ${err instanceof Error ? err.message : String(err)}`));
        heartbeat();
      }
    })();

    try {
      await Promise.race([context.cancelled, collector.lost]);
      throw new Error('unreachable: the watch collector listens until cancelled');
    } catch (err) {
      listening = false;
      await flushing;
      // Disconnected first (the thread hands over its last counts), then stored: nothing it acknowledged is left behind.
      await collector.close({ endSession: false });
      for (let attempt = 1; ; attempt++) {
        try {
          await storeArrived();
          break;
        } catch (storeErr) {
          if (attempt >= 5) throw storeErr;
          await pause(1000 * attempt);
        }
      }
      if (err instanceof CancelledFailure) deps.log.info(`Watch collector stopped: ${progress.messages} messages, ${progress.devices} new devices so far`);
      throw err;
    } finally {
      listening = false;
      await collector.close({ endSession: false }).catch(() => undefined);
    }
  };
}
