import type { DatabaseConfig } from './database';
import type { MqttConfig } from './mqtt';
import type { TemporalConfig } from './temporal';

/** The secret values of the worker's configuration, which its log must never show (see log.ts redactor). */
export function secretValues(parts: { mqtt?: MqttConfig; database?: DatabaseConfig; temporal?: TemporalConfig }): string[] {
  const { mqtt, database, temporal } = parts;
  const fromCredentials = ['password', 'username', 'key', 'passphrase'].map((k) => mqtt?.options[k]).filter((v): v is string => typeof v === 'string');
  const userInfo = mqtt ? /^[a-z]+:\/\/([^@/]+)@/i.exec(mqtt.url)?.[1] : undefined;
  return [...fromCredentials, ...(userInfo !== undefined ? [userInfo, ...userInfo.split(':')] : []), database?.password ?? '', temporal?.apiKey ?? ''].filter((v) => v !== '');
}
