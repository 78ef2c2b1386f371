/**
 * Ends a persistent MQTT session that no connection holds any more (`cp-sync watch stop`: the collectors have
 * disconnected and left their sessions to a next run). A connection with the session's client id and a clean start
 * makes the broker discard the session and what it queued for it; MQTT 5 also asks for no expiry.
 */
import mqtt, { type IClientOptions } from 'mqtt';
import { protocolVersionOf, sessionClientId } from './collector';

/** A broker that does not answer within this is left alone: an MQTT 5 session then expires by itself. */
const END_TIMEOUT_MS = 5000;

export async function endPersistentSession(url: string, connectOptions: Record<string, unknown>, sessionKey: string): Promise<void> {
  const configured = connectOptions as IClientOptions;
  const protocolVersion = protocolVersionOf(connectOptions);
  const client = await mqtt.connectAsync(
    url,
    {
      ...configured,
      clientId: sessionClientId(sessionKey, configured.clientId),
      protocolVersion,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: END_TIMEOUT_MS,
      ...(protocolVersion === 5 ? { properties: { ...configured.properties, sessionExpiryInterval: 0 } } : {}),
    },
    false,
  );
  await client.endAsync();
}
