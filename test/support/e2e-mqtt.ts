/**
 * The stations' side of the end-to-end harness: a real MQTT client that publishes connector counts on the real
 * broker, over and over (not retained) until stopped, so that the collection window hears every message whatever
 * the moment it subscribed.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { deviceTopic } from '../../src/domain/topic';

/** The local stack's Mosquitto (scripts/stack-up.sh always uses 1883). */
export function brokerUrl(): string {
  return 'mqtt://127.0.0.1:1883';
}

/** A broker to publish to: its URL and connect options (e.g. TLS: ca, cert, key). */
export interface Broker {
  url: string;
  options?: IClientOptions;
}

export interface Report {
  deviceId: string;
  /** The payload as sent; several reports of one device are all sent on each round, in order. */
  payload: string;
}

/** `report('DEV-1', 3)` or `report('DEV-1', 'abc')`. */
export function report(deviceId: string, payload: string | number): Report {
  return { deviceId, payload: String(payload) };
}

export class Publisher {
  private timer: NodeJS.Timeout | undefined;
  private rounds = 0;

  private constructor(
    private readonly client: MqttClient,
    readonly account: string,
    /** Extra messages on raw topics (e.g. of another shape), sent on each round as well. */
    private readonly reports: Report[],
    private readonly raw: { topic: string; payload: string }[],
  ) {}

  /** Connects (to the local stack's broker unless `broker` says otherwise) and publishes every `intervalMs` until `stop()`. */
  static async start(
    account: string,
    reports: Report[],
    options: { intervalMs?: number; raw?: { topic: string; payload: string }[]; broker?: Broker } = {},
  ): Promise<Publisher> {
    const broker = options.broker ?? { url: brokerUrl() };
    const client = await mqtt.connectAsync(broker.url, {
      ...broker.options,
      clientId: `cps-e2e-pub-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 500,
    });
    const publisher = new Publisher(client, account, reports, options.raw ?? []);
    publisher.round();
    publisher.timer = setInterval(() => publisher.round(), options.intervalMs ?? 200);
    return publisher;
  }

  private round(): void {
    this.rounds++;
    const messages = [...this.reports.map((r) => ({ topic: deviceTopic(this.account, r.deviceId), payload: r.payload })), ...this.raw];
    for (const { topic, payload } of messages) {
      // QoS 1, not retained: a subscriber hears only what is sent while it listens.
      this.client.publish(topic, payload, { qos: 1, retain: false }, () => undefined);
    }
  }

  /** How many rounds were sent so far. */
  get sent(): number {
    return this.rounds;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.client.endAsync();
  }
}
