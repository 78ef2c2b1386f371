/**
 * The MQTT side of the collection window: connect, subscribe (QoS 1), and keep each device's highest count in
 * a buffer that the caller drains into the database. Malformed messages are counted and sampled, never kept.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { ApplicationFailure } from '@temporalio/common';
import { excerpt, keepHighest, parseMessage } from '../domain/message';
import { redactUserInfo } from '../domain/redact';
import { explainTlsFailure, tlsDetail, tlsFailureOf } from '../domain/tls';
import type { Log } from '../log';
import { ERROR_TYPES, type RejectedMessage } from '../shared';
import type { Flush } from '../db/observation-store';

export interface CollectorOptions {
  url: string;
  /** CLOUD_CREDENTIALS: handed to mqtt.js as they are; never logged. */
  connectOptions: Record<string, unknown>;
  topicFilter: string;
  maxConnectors: number;
  log: Log;
  /** How long to keep trying to reach the broker before giving up (and letting Temporal retry). */
  connectTimeoutMs?: number;
}

/** Rejects kept in memory between two drains; the rest are only counted. */
const REJECTION_SAMPLES_PER_DRAIN = 100;
/** Distinct rejects remembered per window, so a device repeating a bad payload is logged and sampled once. */
const DISTINCT_REJECTIONS_REMEMBERED = 10_000;

export class Collector {
  private counts = new Map<string, number>();
  private messages = 0;
  private rejected: RejectedMessage[] = [];
  private rejectedCount = 0;
  private readonly devicesSeen = new Set<string>();
  private readonly rejectionsSeen = new Set<string>();

  private constructor(
    private readonly client: MqttClient,
    private readonly options: CollectorOptions,
  ) {}

  static async connect(options: CollectorOptions): Promise<Collector> {
    const { log } = options;
    const client = mqtt.connect(options.url, {
      clientId: `cp-sync-${Math.random().toString(16).slice(2, 10)}`,
      ...(options.connectOptions as IClientOptions),
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      resubscribe: true,
    });
    const collector = new Collector(client, options);
    // Listen for errors from the start: an 'error' event without a listener would crash the worker.
    client.on('error', (err) => log.error(`MQTT error: ${err.message}`));
    await collector.waitForConnect(options.connectTimeoutMs ?? 30_000);
    log.info('Connected to MQTT broker');
    client.on('message', (topic, payload) => collector.receive(topic, payload));
    client.on('reconnect', () => log.info('Reconnecting to MQTT broker…'));
    try {
      await client.subscribeAsync(options.topicFilter, { qos: 1 });
    } catch (err) {
      await client.endAsync(true);
      throw err;
    }
    log.info('Subscribed to connectors-count');
    return collector;
  }

  private waitForConnect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.client.off('connect', onConnect);
        this.client.off('error', onError);
      };
      const fail = (err: Error): void => {
        done();
        this.client.end(true);
        reject(err);
      };
      const onConnect = (): void => {
        done();
        resolve();
      };
      const onError = (err: Error & { code?: number | string }): void => {
        // A CONNACK refusal (bad credentials, not authorised, bad client id) will not change on retry.
        if (typeof err.code === 'number') {
          fail(ApplicationFailure.create({ type: ERROR_TYPES.mqttRefused, message: `MQTT broker refused the connection: ${err.message}`, nonRetryable: true }));
          return;
        }
        // A certificate the other side does not accept will not be accepted on retry either.
        const tls = tlsFailureOf(err);
        if (tls !== undefined) {
          const message = explainTlsFailure(tls, tlsDetail(err), {
            peer: 'the MQTT broker',
            caVariable: 'CLOUD_TLS_CA_PATH',
            certVariable: 'CLOUD_TLS_CERT_PATH',
            keyVariable: 'CLOUD_TLS_KEY_PATH',
            hostVariable: 'CLOUD_HOST',
            hasClientCertificate: this.options.connectOptions.cert !== undefined,
          });
          fail(ApplicationFailure.create({ type: ERROR_TYPES.tls, message, nonRetryable: true }));
        }
        // Network errors: mqtt.js keeps reconnecting until the timeout.
      };
      const timer = setTimeout(() => fail(new Error(`MQTT broker ${redactUserInfo(this.options.url)} did not accept a connection within ${timeoutMs} ms`)), timeoutMs);
      this.client.on('connect', onConnect);
      this.client.on('error', onError);
    });
  }

  private receive(topic: string, payload: Buffer): void {
    const text = payload.toString('utf8');
    this.options.log.debug(`topic :>>  ${topic}`);
    this.options.log.debug(`message :>>  ${excerpt(text)}`);
    this.messages++;
    const parsed = parseMessage(topic, text, this.options.maxConnectors);
    if (parsed.ok) {
      keepHighest(this.counts, parsed.value);
      this.devicesSeen.add(parsed.value.deviceId);
      return;
    }
    this.rejectedCount++;
    const sample: RejectedMessage = { topic: excerpt(topic, 500), payload: excerpt(text, 500), reason: parsed.reason };
    const key = `${sample.topic}\0${sample.payload}\0${sample.reason}`;
    if (this.rejectionsSeen.has(key) || this.rejectionsSeen.size >= DISTINCT_REJECTIONS_REMEMBERED) return;
    this.rejectionsSeen.add(key);
    if (this.rejected.length < REJECTION_SAMPLES_PER_DRAIN) {
      this.rejected.push(sample);
      this.options.log.info(`Rejected message on ${excerpt(topic)}: ${parsed.reason}`);
    }
  }

  /** Hands over everything received since the last drain. */
  drain(): Flush {
    const batch: Flush = { counts: this.counts, messages: this.messages, rejected: this.rejected, rejectedCount: this.rejectedCount };
    this.counts = new Map();
    this.messages = 0;
    this.rejected = [];
    this.rejectedCount = 0;
    return batch;
  }

  /** Puts back a batch whose write failed, so the next drain carries it again. */
  restore(batch: Flush): void {
    for (const [deviceId, connectors] of batch.counts) keepHighest(this.counts, { deviceId, connectors });
    this.messages += batch.messages;
    this.rejectedCount += batch.rejectedCount;
    this.rejected.unshift(...batch.rejected);
  }

  /** Distinct devices this collector has seen (this attempt only). */
  get devices(): number {
    return this.devicesSeen.size;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
