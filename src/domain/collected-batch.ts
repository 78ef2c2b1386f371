/**
 * What the collector hands over at each drain and the collection window writes: the highest count per device heard
 * since the last drain, the message counters, and the first rejected messages. The MQTT side fills it, the database
 * side stores it; neither owns it.
 */
import type { RejectedMessage } from '../shared';

export interface Flush {
  counts: Map<string, number>;
  messages: number;
  rejected: RejectedMessage[];
  rejectedCount: number;
}

export function emptyFlush(): Flush {
  return { counts: new Map(), messages: 0, rejected: [], rejectedCount: 0 };
}
