import { ApplicationFailure } from '@temporalio/workflow';
import { ERROR_TYPES, MAX_COLLECTORS } from '../shared';
import { MIN_WATCH_INTERVAL_MS, type WatchInput } from '../watch-shared';

/** A malformed input (a watch started by hand or by a script) fails at once, naming the field. */
export function validateWatchInput(input: unknown): WatchInput {
  const fail = (field: string, expected: string): never => {
    throw ApplicationFailure.create({ type: ERROR_TYPES.configuration, message: `input.${field}: expected ${expected}`, nonRetryable: true });
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail('', 'an object (WatchInput)');
  const value = input as Record<string, unknown>;
  const wholeNumber = (field: string, min: number, max: number, optional = false): void => {
    const n = value[field];
    if (optional && n === undefined) return;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) fail(field, `a whole number from ${min} to ${max}`);
  };
  wholeNumber('intervalMs', MIN_WATCH_INTERVAL_MS, 24 * 3_600_000);
  wholeNumber('maxConnectors', 1, 1000);
  wholeNumber('collectors', 1, MAX_COLLECTORS, true);
  wholeNumber('autoApproveMaxPoints', 1, Number.MAX_SAFE_INTEGER, true);
  wholeNumber('autoApproveMaxStations', 1, Number.MAX_SAFE_INTEGER, true);
  wholeNumber('cyclesPerRun', 1, 100_000, true);
  wholeNumber('maxSilentStations', 0, 100, true);
  wholeNumber('silenceHorizonMs', 1000, 30 * 24 * 3_600_000, true);
  if (value.account !== undefined && (typeof value.account !== 'string' || !/^[^/+#]+$/.test(value.account))) fail('account', 'one MQTT topic level, without /, + or #');
  return value as unknown as WatchInput;
}
