/**
 * The broker's own count of the messages it dropped (`$SYS/broker/publish/messages/dropped`: QoS 1 messages past a
 * subscriber's queue limit, which nobody is told about), watched during the window so that the run can show how
 * many the broker dropped meanwhile. Broker-wide: the drops of every client, not only this run's.
 *
 * A connection of its own (clean session, no reconnect): a broker that refuses it, denies `$SYS`, or publishes no
 * `$SYS` tree leaves the figures unknown and never disturbs the collection. Mosquitto publishes the counter every
 * `sys_interval` (10 s by default) when it has changed, as a retained message, so the first value is the one of
 * the last update before the window; a Mosquitto that never dropped anything has published no value at all, which
 * its `$SYS/broker/uptime` (published on every update) makes known as 0.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Log } from '../log';
import { protocolVersionOf } from './collector';

export const DROPPED_TOPIC = '$SYS/broker/publish/messages/dropped';
const VERSION_TOPIC = '$SYS/broker/version';
const UPTIME_TOPIC = '$SYS/broker/uptime';

/** The counter's first and last values seen during the window. */
export interface BrokerDrops {
  first: number;
  last: number;
}

export interface BrokerDropWatchOptions {
  url: string;
  /** CLOUD_CREDENTIALS, as for the collector; never logged. */
  connectOptions: Record<string, unknown>;
  clientId: string;
  log: Log;
}

export class BrokerDropWatch {
  private first: number | undefined;
  private last: number | undefined;
  private mosquitto = false;
  private unavailable = false;

  private constructor(
    private readonly client: MqttClient,
    private readonly log: Log,
  ) {}

  /** Starts watching in the background; never throws. */
  static start(options: BrokerDropWatchOptions): BrokerDropWatch {
    const { properties, ...configured } = options.connectOptions as IClientOptions;
    const protocolVersion = protocolVersionOf(options.connectOptions);
    const client = mqtt.connect(options.url, {
      ...configured,
      protocolVersion,
      // No session: nothing stays on the broker once this connection is gone.
      ...(protocolVersion === 5 ? { properties: { ...properties, sessionExpiryInterval: 0 } } : {}),
      clientId: options.clientId,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    const watch = new BrokerDropWatch(client, options.log);
    client.on('error', (err) => watch.giveUp(err.message));
    client.on('message', (topic, payload) => watch.receive(topic, payload.toString('utf8')));
    client.once('connect', () => {
      void watch.subscribe();
    });
    return watch;
  }

  private async subscribe(): Promise<void> {
    try {
      // The retained counter (and the version) arrive before the retained uptime, which is asked for afterwards.
      await this.client.subscribeAsync([DROPPED_TOPIC, VERSION_TOPIC], { qos: 0 });
      await this.client.subscribeAsync(UPTIME_TOPIC, { qos: 0 });
    } catch (err) {
      this.giveUp(err instanceof Error ? err.message : String(err));
      this.client.end(true);
    }
  }

  private receive(topic: string, text: string): void {
    if (topic === VERSION_TOPIC) {
      this.mosquitto = text.startsWith('mosquitto');
    } else if (topic === DROPPED_TOPIC) {
      if (/^\d{1,15}$/.test(text.trim())) this.note(Number(text.trim()));
    } else if (topic === UPTIME_TOPIC && this.first === undefined && this.mosquitto) {
      // Mosquitto publishes the counter only once it has changed since the broker started.
      this.note(0);
    }
  }

  private note(value: number): void {
    this.first ??= value;
    this.last = value;
  }

  private giveUp(reason: string): void {
    if (this.unavailable) return;
    this.unavailable = true;
    this.log.debug(`Broker drop figures ($SYS) unavailable: ${reason}`);
  }

  /** The counter's first and last values seen so far, or undefined before the first. */
  get figures(): BrokerDrops | undefined {
    return this.first === undefined || this.last === undefined ? undefined : { first: this.first, last: this.last };
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }
}
