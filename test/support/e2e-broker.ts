/**
 * Probes for the session tests: whether the broker holds a client id's session, and a single publish, as a device
 * that speaks only once would. (A private broker with the settings a test needs: private-mosquitto.ts.)
 */
import mqtt, { type IConnackPacket } from 'mqtt';
import { brokerUrl } from './e2e-mqtt';
import { deviceTopic } from '../../src/domain/topic';

/**
 * Whether the broker holds a session for `clientId`: connects with that id and clean session off (MQTT 5) and reads
 * Session Present in the CONNACK. With `keep`, the session stays afterwards (expiry 300 s; no subscription is made, so
 * nothing is taken from it unless it already has messages queued); without, it is discarded on disconnect (expiry 0),
 * so the probe leaves nothing behind either way it answers.
 */
export async function sessionPresent(clientId: string, { keep = false, url = brokerUrl() } = {}): Promise<boolean> {
  const client = mqtt.connect(url, { clientId, protocolVersion: 5, clean: false, reconnectPeriod: 0, connectTimeout: 5000, properties: { sessionExpiryInterval: keep ? 300 : 0 } });
  try {
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
      client.once('close', () => reject(new Error(`probe ${clientId}: connection closed before CONNACK`)));
    });
    return connack.sessionPresent;
  } finally {
    await client.endAsync();
  }
}

/** Publishes one connector count with QoS 1 and waits for the broker's PUBACK. */
export async function publishOnce(account: string, deviceId: string, payload: string | number, url = brokerUrl()): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `cps-e2e-once-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 0 }, false);
  try {
    await client.publishAsync(deviceTopic(account, deviceId), String(payload), { qos: 1, retain: false });
  } finally {
    await client.endAsync();
  }
}
