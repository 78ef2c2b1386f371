/**
 * The MQTT side of the collection window: connect, subscribe (QoS 1), and keep each device's highest count in
 * a buffer that the caller drains into the database. Malformed messages are counted and sampled, never kept.
 *
 * The connection is the run's persistent session: one client id per run (sessionClientId), clean session off, so
 * that the broker queues the QoS 1 messages published while the run's collector is down (its worker died) and
 * hands them to the retried collector when it reconnects with the same id. MQTT 5 by default, with a session
 * expiry that outlasts the window by a little: a session abandoned by a crash expires by itself. When the window
 * closes the session is ended (close with endSession), so that the broker keeps nothing afterwards.
 */
import { createHash } from 'node:crypto';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { ApplicationFailure } from '@temporalio/common';
import { excerpt, keepHighest, parseMessage } from '../domain/message';
import { redactUserInfo } from '../domain/redact';
import type { Log } from '../log';
import { ERROR_TYPES, type BrokerConnectionProblem, type RejectedMessage } from '../shared';
import { brokerConnectionProblem } from './broker-problem';
import type { Flush } from '../domain/collected-batch';

export interface CollectorOptions {
  url: string;
  /** CLOUD_CREDENTIALS: handed to mqtt.js as they are; never logged. */
  connectOptions: Record<string, unknown>;
  topicFilter: string;
  maxConnectors: number;
  log: Log;
  /** LOG_LEVEL=debug: a line per message (built only then: at fleet scale they cost more than the counting). */
  debug?: boolean;
  /** How long to keep trying to reach the broker before giving up (and letting Temporal retry). */
  connectTimeoutMs?: number;
  /**
   * Told each failed connection attempt (naming the setting: `CLOUD_HOST 127.0.0.1:1999: connection refused
   * (ECONNREFUSED)`), and undefined once connected again. Not cloned into the collector's thread: the thread sets its own.
   */
  onConnectionProblem?: (problem: BrokerConnectionProblem | undefined) => void;
  /** The run's persistent session. */
  session: {
    /** The run's key: the same run (any attempt, any worker) gets the same client id. */
    runKey: string;
    /** MQTT 5 session expiry: how long the broker keeps the session (and queues for it) once the connection is gone. */
    expirySeconds: number;
  };
}

/** The client id's prefix when CLOUD_CREDENTIALS gives no clientId. */
const DEFAULT_CLIENT_ID_PREFIX = 'cp-sync';

/**
 * The client id of a run's session: `<prefix>-<15 hex digits of SHA-256(run key)>`, the prefix being the clientId of
 * CLOUD_CREDENTIALS (so that broker ACLs on client-id prefixes still hold) or `cp-sync`. With the default prefix it
 * is 23 characters, the length every MQTT 3.1.1 broker must accept.
 */
export function sessionClientId(runKey: string, configuredClientId?: unknown): string {
  const prefix = typeof configuredClientId === 'string' && configuredClientId.trim() !== '' ? configuredClientId.trim() : DEFAULT_CLIENT_ID_PREFIX;
  return `${prefix}-${createHash('sha256').update(runKey).digest('hex').slice(0, 15)}`;
}

/**
 * The run's MQTT shared-subscription group (`$share/<group>/<filter>`): the same for all of a run's collectors, so
 * that the broker hands each message to one of them; different per run, so that two syncs each hear everything.
 */
export function shareGroupOf(runKey: string): string {
  return `cp-sync-${createHash('sha256').update(`share:${runKey}`).digest('hex').slice(0, 15)}`;
}

/** MQTT 5 unless CLOUD_CREDENTIALS says otherwise (`"protocolVersion": 4` for an MQTT 3.1.1-only broker). */
export function protocolVersionOf(connectOptions: Record<string, unknown>): 3 | 4 | 5 {
  const configured = Number(connectOptions.protocolVersion);
  return configured === 3 || configured === 4 ? configured : 5;
}

/** How long ending a session that is not connected may take (a fresh clean connection, then DISCONNECT). */
const END_SESSION_TIMEOUT_MS = 5000;

/** Rejects kept in memory between two drains; the rest are only counted. */
const REJECTION_SAMPLES_PER_DRAIN = 100;
/** Distinct rejects remembered per window, so a device repeating a bad payload is logged and sampled once. */
const DISTINCT_REJECTIONS_REMEMBERED = 10_000;

export class Collector {
  private counts = new Map<string, number>();
  private messages = 0;
  private rejected: RejectedMessage[] = [];
  private rejectedCount = 0;
  private readonly rejectionsSeen = new Set<string>();
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly client: MqttClient,
    private readonly options: CollectorOptions,
    /** The options the client connected with, for ending the session on a fresh connection. */
    private readonly clientOptions: IClientOptions,
  ) {}

  static async connect(options: CollectorOptions): Promise<Collector> {
    const { log } = options;
    const configured = options.connectOptions as IClientOptions;
    const protocolVersion = protocolVersionOf(options.connectOptions);
    const clientOptions: IClientOptions = {
      ...configured,
      clientId: sessionClientId(options.session.runKey, configured.clientId),
      protocolVersion,
      clean: false,
      ...(protocolVersion === 5 ? { properties: { ...configured.properties, sessionExpiryInterval: options.session.expirySeconds } } : {}),
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      resubscribe: true,
    };
    const client = mqtt.connect(options.url, clientOptions);
    const collector = new Collector(client, options, clientOptions);
    // Listen for errors from the start: an 'error' event without a listener would crash the worker.
    client.on('error', (err) => {
      log.error(`MQTT error: ${err.message}`);
      options.onConnectionProblem?.(brokerConnectionProblem(err, options.url, options.connectOptions));
    });
    client.on('connect', () => options.onConnectionProblem?.(undefined));
    // Listen for messages from the start too: a resumed session delivers what the broker queued right after the
    // CONNACK, before the subscription below.
    client.on('message', (topic, payload) => collector.receive(topic, payload));
    const connack = await collector.waitForConnect(options.connectTimeoutMs ?? 30_000);
    log.info('Connected to MQTT broker');
    if (connack.sessionPresent) log.info("Resumed this run's MQTT session: messages the broker queued while no collector listened are delivered now");
    client.on('reconnect', () => log.info('Reconnecting to MQTT broker…'));
    try {
      await client.subscribeAsync(options.topicFilter, { qos: 1 });
    } catch (err) {
      await client.endAsync(true);
      throw err;
    }
    log.info(options.topicFilter.startsWith('$share/') ? `Subscribed to connectors-count (shared subscription ${options.topicFilter})` : 'Subscribed to connectors-count');
    return collector;
  }

  private waitForConnect(timeoutMs: number): Promise<IConnackPacket> {
    return new Promise((resolve, reject) => {
      let lastProblem: BrokerConnectionProblem | undefined;
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
      const onConnect = (connack: IConnackPacket): void => {
        done();
        resolve(connack);
      };
      const onError = (err: Error & { code?: number | string }): void => {
        // A CONNACK refusal (bad credentials, not authorised, bad client id) or a certificate the other side does
        // not accept will not change on retry; network errors and a busy server may (mqtt.js keeps reconnecting).
        const problem = brokerConnectionProblem(err, this.options.url, this.options.connectOptions);
        lastProblem = problem;
        if (problem.retryable) return;
        fail(ApplicationFailure.create({ type: problem.tls ? ERROR_TYPES.tls : ERROR_TYPES.mqttRefused, message: problem.message, nonRetryable: true }));
      };
      const timer = setTimeout(() => {
        const tried = `the MQTT broker did not accept a connection within ${Math.round(timeoutMs / 1000)} s`;
        fail(new Error(lastProblem !== undefined ? `${lastProblem.message} (${tried})` : `CLOUD_HOST ${redactUserInfo(this.options.url)}: ${tried}`));
      }, timeoutMs);
      this.client.on('connect', onConnect);
      this.client.on('error', onError);
    });
  }

  private receive(topic: string, payload: Buffer): void {
    const text = payload.toString('utf8');
    if (this.options.debug) {
      this.options.log.debug(`topic :>>  ${topic}`);
      this.options.log.debug(`message :>>  ${excerpt(text)}`);
    }
    this.messages++;
    const parsed = parseMessage(topic, text, this.options.maxConnectors);
    if (parsed.ok) {
      keepHighest(this.counts, parsed.value);
      return;
    }
    this.rejectedCount++;
    const sample: RejectedMessage = { topic: excerpt(topic, 500), payload: excerpt(text, 500), reason: parsed.reason };
    const key = `${sample.topic}\0${sample.payload}\0${sample.reason}`;
    if (this.rejectionsSeen.has(key) || this.rejectionsSeen.size >= DISTINCT_REJECTIONS_REMEMBERED) return;
    this.rejectionsSeen.add(key);
    if (this.rejected.length < REJECTION_SAMPLES_PER_DRAIN) {
      this.rejected.push(sample);
      this.options.log.info(`Rejected message on ${excerpt(topic)}: ${parsed.reason}`, { topic: sample.topic, reason: parsed.reason });
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

  /**
   * Disconnects (once; later calls wait for the first). With `endSession`, the broker discards the run's session:
   * MQTT 5 DISCONNECT with a session expiry of 0, or, for MQTT 3.1.1 or a connection that is down at that moment,
   * a fresh clean connection with the same client id. Without it (a worker shutting down mid-window) the session
   * stays, and the broker queues for the next attempt. Ending the session never throws: a session that could not
   * be ended expires by itself (MQTT 5).
   */
  close({ endSession }: { endSession: boolean }): Promise<void> {
    this.closed ??= this.disconnect(endSession);
    return this.closed;
  }

  private async disconnect(endSession: boolean): Promise<void> {
    if (endSession && this.clientOptions.protocolVersion === 5 && this.client.connected) {
      await this.client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
      return;
    }
    await this.client.endAsync();
    if (endSession) await this.discardSession();
  }

  private async discardSession(): Promise<void> {
    const { properties, ...rest } = this.clientOptions;
    const options: IClientOptions = {
      ...rest,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: END_SESSION_TIMEOUT_MS,
      ...(this.clientOptions.protocolVersion === 5 ? { properties: { ...properties, sessionExpiryInterval: 0 } } : {}),
    };
    try {
      const client = await mqtt.connectAsync(this.options.url, options, false);
      await client.endAsync();
    } catch (err) {
      this.options.log.error(`Could not end this run's MQTT session (${err instanceof Error ? err.message : String(err)}); ${
        this.clientOptions.protocolVersion === 5 ? 'it expires by itself' : 'the broker keeps it until its own session expiry'
      }`);
    }
  }
}
