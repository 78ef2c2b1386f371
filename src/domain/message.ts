/**
 * Reading one MQTT message: a device's topic (domain/topic.ts) with the count as payload. Everything that is not
 * exactly that is rejected with a reason and never reaches the database.
 */
import { deviceIdOfTopic } from './topic';

export interface ConnectorCount {
  deviceId: string;
  connectors: number;
}

export type ParsedMessage = { ok: true; value: ConnectorCount } | { ok: false; reason: string };

/** Device ids are stored and compared as text; the cap keeps hostile topics out of the tool's tables. */
export const MAX_DEVICE_ID_LENGTH = 128;

export function parseTopic(topic: string): { ok: true; deviceId: string } | { ok: false; reason: string } {
  const shaped = deviceIdOfTopic(topic);
  if (!shaped.ok) return shaped;
  const { deviceId } = shaped;
  if (deviceId === '') return { ok: false, reason: 'device id (topic level 3) is empty' };
  if (deviceId.length > MAX_DEVICE_ID_LENGTH) return { ok: false, reason: `device id is longer than ${MAX_DEVICE_ID_LENGTH} characters` };
  // Printable ASCII only: ids are echoed to terminals and logs.
  if (!/^[\x21-\x7e]+$/.test(deviceId)) return { ok: false, reason: 'device id has characters other than printable ASCII' };
  return { ok: true, deviceId };
}

/** A whole number 0..maxConnectors, written in plain decimal digits (surrounding whitespace allowed). */
export function parseConnectorCount(payload: string, maxConnectors: number): { ok: true; count: number } | { ok: false; reason: string } {
  const text = payload.trim();
  if (text === '') return { ok: false, reason: 'payload is empty' };
  if (!/^\d+$/.test(text)) return { ok: false, reason: `payload is not a whole number 0..${maxConnectors}` };
  const count = Number(text);
  if (count > maxConnectors) return { ok: false, reason: `count ${text.length > 12 ? text.slice(0, 12) + '…' : text} is above MAX_CONNECTORS (${maxConnectors})` };
  return { ok: true, count };
}

export function parseMessage(topic: string, payload: string, maxConnectors: number): ParsedMessage {
  const parsedTopic = parseTopic(topic);
  if (!parsedTopic.ok) return parsedTopic;
  const parsedCount = parseConnectorCount(payload, maxConnectors);
  if (!parsedCount.ok) return parsedCount;
  return { ok: true, value: { deviceId: parsedTopic.deviceId, connectors: parsedCount.count } };
}

/** Keeps a device's highest count, as the original did across its messages. */
export function keepHighest(counts: Map<string, number>, { deviceId, connectors }: ConnectorCount): void {
  const seen = counts.get(deviceId);
  if (seen === undefined || connectors > seen) counts.set(deviceId, connectors);
}

/** Shortens text from the outside world before it is stored or shown. */
export function excerpt(text: string, max = 200): string {
  // C0, DEL and C1 controls: U+009B alone starts a terminal escape sequence.
  // eslint-disable-next-line no-control-regex
  const printable = text.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
  return printable.length > max ? `${printable.slice(0, max)}…` : printable;
}
