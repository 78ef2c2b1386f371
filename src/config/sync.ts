/** What a sync runs with: the defaults of a new sync (read where it is started) and the webhook the worker notifies. */
import { MAX_COLLECTORS, type SyncInput } from '../shared';
import { DEFAULT_MAX_SILENT_STATIONS } from '../domain/silence';
import { bool, boundedInt, ConfigError, duration, optionalString, parse, value, type Env } from './variables';

/**
 * NOTIFY_WEBHOOK_URL, read by the worker only: the URL may embed a token, so it never enters workflow input or
 * history, and a bad value is described without being echoed.
 */
export function loadNotifyWebhookUrl(env: Env): string | undefined {
  const url = value(env, 'NOTIFY_WEBHOOK_URL');
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !['http:', 'https:'].includes(parsed.protocol)) {
    throw new ConfigError('NOTIFY_WEBHOOK_URL: expected an http:// or https:// URL, e.g. a Slack or Mattermost incoming webhook (the value is not shown: it may carry a token)');
  }
  return url;
}

/**
 * Defaults for a new sync, read where the sync is started (the CLI): the SyncInput fields the environment sets,
 * `collectors` always given (1: one collector, with a plain subscription).
 */
export type SyncDefaults = Pick<SyncInput, 'collectorDurationMs' | 'approvalTimeoutMs' | 'maxConnectors' | 'testDeviceId'> & Required<Pick<SyncInput, 'collectors' | 'maxSilentStations'>>;

export function loadSyncDefaults(env: Env): SyncDefaults {
  return {
    collectorDurationMs: parse(env, 'COLLECTOR_DURATION', duration('a positive duration'), '60000'),
    approvalTimeoutMs: parse(env, 'APPROVAL_TIMEOUT', duration('a positive duration'), '24h'),
    maxConnectors: parse(env, 'MAX_CONNECTORS', boundedInt('a whole number of connectors from 1 to 1000', 1, 1000), '16'),
    testDeviceId: parse(env, 'TEST_DEVICE_ID', optionalString),
    collectors: parse(env, 'COLLECTORS', boundedInt(`a whole number of collectors from 1 to ${MAX_COLLECTORS}`, 1, MAX_COLLECTORS), '1'),
    maxSilentStations: parse(env, 'MAX_SILENT_STATIONS', boundedInt('a percentage of live stations from 0 to 100', 0, 100), String(DEFAULT_MAX_SILENT_STATIONS)),
  };
}

/**
 * PLAN_DURING_WINDOW, read by the worker: whether a windowed sync's plan is built while its window is open
 * (store/window-planner.ts). Off by default: it writes every device a second time during the window, and pays off only
 * on a fleet mostly in sync, with CPU and database time to spare, whose ocpp-db is not written during the window
 * (docs/performance.md).
 */
export function loadPlanDuringWindow(env: Env): boolean {
  return parse(env, 'PLAN_DURING_WINDOW', bool, 'false');
}
