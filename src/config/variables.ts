/**
 * Reading one variable: an empty value counts as absent, a bad value stops with a ConfigError naming the variable and
 * what was expected (secrets never shown), and the value schemas and PEM files the sections share.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import dotenv from 'dotenv';
import { z } from 'zod';
import { parseDuration } from '../domain/duration';
import { redactUserInfo } from '../domain/redact';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Loads `.env` from the working directory into process.env, without overriding what is already set. */
export function loadDotEnv(path?: string): void {
  dotenv.config({ path, quiet: true });
}

/** Treats an empty string like an absent variable, as the original tool did for TEST_DEVICE_ID. */
export function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function parse<T>(env: Env, name: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, fallback?: string): T {
  const raw = value(env, name) ?? fallback;
  const result = schema.safeParse(raw);
  if (!result.success) {
    const shown = name.includes('PASSWORD') || name.includes('CREDENTIALS') || name.includes('API_KEY') ? '(hidden)' : JSON.stringify(redactUserInfo(raw ?? ''));
    throw new ConfigError(`${name}: ${result.error.issues[0]?.message ?? 'invalid value'} (got ${raw === undefined ? 'nothing' : shown})`);
  }
  return result.data;
}

export const required = (what: string) => z.string({ required_error: `required, expected ${what}`, invalid_type_error: `expected ${what}` });
export const optionalString = z.string().optional();
/** Plain decimal digits only: `0x10` or `1e3` in a setting is a mistake, not a number. */
export const boundedInt = (what: string, min: number, max: number) =>
  z.string({ required_error: `expected ${what}` }).transform((raw, ctx) => {
    const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected ${what}` });
      return z.NEVER;
    }
    return n;
  });
export const port = boundedInt('a port number from 1 to 65535', 1, 65535);
export const hostAndPort = z.string().refine(
  (v) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(v);
    return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
  },
  { message: 'expected host:port, e.g. 127.0.0.1:7233 or [::1]:7233' },
);
/** An IP address and port to listen on (no host name: the exporter binds without resolving). */
export const bindAddress = z.string().refine(
  (v) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(v);
    return match !== null && isIP(match[1] ?? match[2] ?? '') !== 0 && Number(match[3]) >= 1 && Number(match[3]) <= 65535;
  },
  { message: 'expected an IP address and port to listen on, e.g. 127.0.0.1:9464, 0.0.0.0:9464 or [::]:9464' },
);
export const duration = (what: string) =>
  z.string().transform((raw, ctx) => {
    const ms = parseDuration(raw);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected ${what}, in milliseconds or with a unit (500ms, 90s, 15m, 24h)` });
      return z.NEVER;
    }
    return ms;
  });
export const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { errorMap: () => ({ message: 'expected true or false' }) }).transform((v) => ['true', '1', 'yes'].includes(v));

export type PemKind = 'certificate' | 'private key';
const PEM_MARKERS: Record<PemKind, { marker: RegExp; shown: string }> = {
  certificate: { marker: /-----BEGIN CERTIFICATE-----/, shown: '-----BEGIN CERTIFICATE-----' },
  'private key': { marker: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/, shown: '-----BEGIN PRIVATE KEY-----' },
};
const FILE_ERRORS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory', ENOTDIR: 'a parent is not a directory' };

/**
 * Reads the PEM file that variable `name` points to, at start-up, so that a wrong path stops the worker before it
 * polls. Errors name the variable and the path, never what the file holds (a key is secret).
 */
export function readPemFile(env: Env, name: string, kind: PemKind): Buffer | undefined {
  const path = value(env, name);
  if (path === undefined) return undefined;
  let contents: Buffer;
  try {
    contents = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${name}: expected a readable ${kind} file, cannot read ${JSON.stringify(path)} (${FILE_ERRORS[code] ?? code})`);
  }
  if (!PEM_MARKERS[kind].marker.test(contents.toString('latin1'))) {
    throw new ConfigError(`${name}: expected a PEM ${kind} file (${PEM_MARKERS[kind].shown}), which ${JSON.stringify(path)} is not`);
  }
  return contents;
}

export function bothOrNeither(env: Env, certName: string, keyName: string): void {
  if ((value(env, certName) === undefined) !== (value(env, keyName) === undefined)) {
    throw new ConfigError(`${certName} and ${keyName}: expected both or neither (a client certificate needs its key)`);
  }
}
