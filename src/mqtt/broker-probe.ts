/**
 * One connection to the MQTT broker and straight away a clean disconnect, with a client id of its own and no session:
 * the worker's check at start and `cp-sync worker --check`. A broker that cannot be reached or refuses the
 * credentials fails it with the setting to check (mqtt/broker-problem.ts).
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions } from 'mqtt';
import type { MqttConfig } from '../config';
import { ConnectionSettingError } from '../domain/connection-error';
import { brokerAddress, brokerConnectionProblem } from './broker-problem';
import { protocolVersionOf, sessionClientId } from './collector';

/** How long the probe waits for the broker's CONNACK. */
export const BROKER_PROBE_TIMEOUT_MS = 5000;

/** Resolves with one line for people once the broker accepted a connection; rejects with a ConnectionSettingError. */
export function probeBroker(config: MqttConfig, timeoutMs = BROKER_PROBE_TIMEOUT_MS): Promise<string> {
  const configured = config.options as IClientOptions;
  const options: IClientOptions = {
    ...configured,
    // The configured clientId's prefix, as the collectors use it (broker ACLs on client-id prefixes still hold).
    clientId: sessionClientId(`probe:${randomBytes(8).toString('hex')}`, configured.clientId),
    protocolVersion: protocolVersionOf(config.options),
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
  };
  const where = brokerAddress(config.url);
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(config.url, options);
    const finish = (outcome: () => void): void => {
      clearTimeout(timer);
      client.removeAllListeners();
      // A late error from the closing socket must not crash the process.
      client.on('error', () => undefined);
      client.end(true, outcome);
    };
    const timer = setTimeout(
      () => finish(() => reject(new ConnectionSettingError('CLOUD_HOST', `CLOUD_HOST ${where}: no answer within ${Math.round(timeoutMs / 1000)} s (is the host reachable?)`))),
      timeoutMs,
    );
    client.once('connect', () => finish(() => resolve(`MQTT broker ${where} accepts our connection (CLOUD_HOST, CLOUD_CREDENTIALS)`)));
    client.once('error', (err) => {
      const problem = brokerConnectionProblem(err, config.url, config.options);
      finish(() => reject(new ConnectionSettingError(problem.setting, problem.message)));
    });
    client.once('close', () => finish(() => reject(new ConnectionSettingError('CLOUD_HOST', `CLOUD_HOST ${where}: the connection closed before the broker answered (is it an MQTT port?)`))));
  });
}
