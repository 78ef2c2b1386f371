/** The MQTT broker: CLOUD_HOST, CLOUD_CREDENTIALS and the CLOUD_TLS_* files. */
import { bothOrNeither, ConfigError, parse, readPemFile, required, value, type Env } from './variables';

export interface MqttConfig {
  url: string;
  /**
   * Parsed CLOUD_CREDENTIALS: mqtt.js connect options (username, password, clientId, …), plus `ca`/`cert`/`key`
   * read from CLOUD_TLS_*_PATH. Secret.
   */
  options: Record<string, unknown>;
}

const TLS_FILES = [
  { name: 'CLOUD_TLS_CA_PATH', option: 'ca', kind: 'certificate' },
  { name: 'CLOUD_TLS_CERT_PATH', option: 'cert', kind: 'certificate' },
  { name: 'CLOUD_TLS_KEY_PATH', option: 'key', kind: 'private key' },
] as const;

export function loadMqttConfig(env: Env): MqttConfig {
  const url = parse(
    env,
    'CLOUD_HOST',
    required('the broker URL, e.g. mqtts://broker.example.com:8883').refine((v) => /^(mqtts?|wss?|tcp|ssl):\/\/\S+$/.test(v), {
      message: 'expected the broker URL with a scheme mqtt://, mqtts://, ws://, wss://, tcp:// or ssl://',
    }),
  );
  const credentials = value(env, 'CLOUD_CREDENTIALS');
  let options: Record<string, unknown> = {};
  if (credentials !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(credentials);
    } catch {
      // The text itself is secret: name the variable, never echo it.
      throw new ConfigError('CLOUD_CREDENTIALS: expected a JSON object of MQTT connect options, e.g. {"username":"…","password":"…"} (the value is not valid JSON)');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError('CLOUD_CREDENTIALS: expected a JSON object of MQTT connect options, e.g. {"username":"…","password":"…"}');
    }
    options = parsed as Record<string, unknown>;
  }
  return { url, options: { ...options, ...loadMqttTls(env, url, options) } };
}

/** CLOUD_TLS_CA_PATH, CLOUD_TLS_CERT_PATH, CLOUD_TLS_KEY_PATH: the files' contents as mqtt.js options, verifying the broker. */
function loadMqttTls(env: Env, url: string, credentials: Record<string, unknown>): Record<string, unknown> {
  const given = TLS_FILES.filter(({ name }) => value(env, name) !== undefined);
  if (given.length === 0) return {};
  const first = given[0]!.name;
  if (!/^(mqtts|wss|ssl):\/\//.test(url)) {
    throw new ConfigError(`${first}: set, but CLOUD_HOST is not a TLS URL (expected mqtts:// or wss://, got ${url.replace(/:\/\/.*/, '://…')})`);
  }
  bothOrNeither(env, 'CLOUD_TLS_CERT_PATH', 'CLOUD_TLS_KEY_PATH');
  for (const { name, option } of given) {
    if (credentials[option] !== undefined) {
      throw new ConfigError(`${name}: expected either this file or "${option}" in CLOUD_CREDENTIALS, not both`);
    }
  }
  if (credentials.rejectUnauthorized === false) {
    throw new ConfigError(`${first}: expected the broker's certificate to be verified, but CLOUD_CREDENTIALS has "rejectUnauthorized": false`);
  }
  const tls: Record<string, unknown> = { rejectUnauthorized: true };
  for (const { name, option, kind } of given) tls[option] = readPemFile(env, name, kind);
  return tls;
}
