/**
 * The MQTT topic shape of the original tool, written once: `<account>/sweet-home/<deviceId>/status-control/connectors-count`.
 * The collector subscribes with the filter, the demo, the benchmark and the tests publish on a device's topic, and
 * the parser reads a device id back out of a topic.
 */

/** Topic level 1 for every account (an MQTT single-level wildcard). */
export const ALL_ACCOUNTS = '+';

const LEVEL_2 = 'sweet-home';
const LEVELS_4_5 = ['status-control', 'connectors-count'] as const;
const SHAPE = `<account>/${LEVEL_2}/<deviceId>/${LEVELS_4_5.join('/')}`;

/** The topic one device publishes its connector count on. */
export function deviceTopic(account: string, deviceId: string): string {
  return [account, LEVEL_2, deviceId, ...LEVELS_4_5].join('/');
}

/** The subscription filter: every device of `account` (every account by default). */
export function topicFilterFor(account: string = ALL_ACCOUNTS): string {
  return deviceTopic(account, '+');
}

/** The device id of a topic of the right shape (not yet checked: domain/message.ts does that), or why it is not one. */
export function deviceIdOfTopic(topic: string): { ok: true; deviceId: string } | { ok: false; reason: string } {
  const levels = topic.split('/');
  if (levels.length !== 5 || levels[1] !== LEVEL_2 || levels[3] !== LEVELS_4_5[0] || levels[4] !== LEVELS_4_5[1]) {
    return { ok: false, reason: `topic is not ${SHAPE}` };
  }
  return { ok: true, deviceId: levels[2]! };
}
