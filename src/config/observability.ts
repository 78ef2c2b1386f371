/** The worker's log (LOG_LEVEL, LOG_FORMAT) and its metrics endpoint (METRICS_BIND_ADDRESS). */
import { z } from 'zod';
import { bindAddress, parse, value, type Env } from './variables';

export type LogLevel = 'info' | 'debug';
export type LogFormat = 'text' | 'json';

export function loadLogLevel(env: Env): LogLevel {
  return parse(env, 'LOG_LEVEL', z.enum(['info', 'debug'], { errorMap: () => ({ message: 'expected info or debug' }) }), 'info');
}

export function loadLogFormat(env: Env): LogFormat {
  return parse(env, 'LOG_FORMAT', z.enum(['text', 'json'], { errorMap: () => ({ message: 'expected text or json' }) }), 'text');
}

export interface ObservabilityConfig {
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** METRICS_BIND_ADDRESS: where the worker serves Prometheus metrics (`/metrics`); absent: no endpoint. */
  metricsBindAddress?: string;
}

export function loadObservabilityConfig(env: Env): ObservabilityConfig {
  return {
    logLevel: loadLogLevel(env),
    logFormat: loadLogFormat(env),
    metricsBindAddress: value(env, 'METRICS_BIND_ADDRESS') === undefined ? undefined : parse(env, 'METRICS_BIND_ADDRESS', bindAddress),
  };
}
