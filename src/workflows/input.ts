import { ApplicationFailure } from '@temporalio/workflow';
import { ERROR_TYPES, MAX_COLLECTORS, type SyncInput } from '../shared';

/**
 * A sync can be started from anywhere (`temporal workflow start`, a script), not only from cp-sync: a malformed
 * input fails the run at once, naming the field, before anything listens or writes.
 */
export function validateSyncInput(input: unknown): SyncInput {
  const fail = (field: string, expected: string): never => {
    throw ApplicationFailure.create({ type: ERROR_TYPES.configuration, message: `input.${field}: expected ${expected}`, nonRetryable: true });
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail('', 'an object (SyncInput)');
  const value = input as Record<string, unknown>;
  const positiveInt = (field: string, max = Number.MAX_SAFE_INTEGER): void => {
    const n = value[field];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0 || n > max) fail(field, `a whole number from 1 to ${max}`);
  };
  const optional = (field: string, type: 'string' | 'boolean'): void => {
    if (value[field] !== undefined && typeof value[field] !== type) fail(field, `a ${type} or nothing`);
  };
  positiveInt('collectorDurationMs');
  positiveInt('approvalTimeoutMs');
  positiveInt('maxConnectors', 1000);
  for (const limit of ['autoApproveMaxPoints', 'autoApproveMaxStations']) {
    if (value[limit] !== undefined) positiveInt(limit);
  }
  if (value.collectors !== undefined) positiveInt('collectors', MAX_COLLECTORS);
  const silent = value.maxSilentStations;
  if (silent !== undefined && (typeof silent !== 'number' || !Number.isFinite(silent) || silent < 0 || silent > 100)) fail('maxSilentStations', 'a percentage from 0 to 100');
  optional('testDeviceId', 'string');
  optional('account', 'string');
  optional('dryRun', 'boolean');
  optional('autoApprove', 'boolean');
  if (typeof value.account === 'string' && !/^[^/+#]+$/.test(value.account)) fail('account', 'one MQTT topic level, without /, + or #');
  if (value.dryRun === true && value.autoApprove === true) fail('dryRun', 'not both dryRun and autoApprove');
  const limited = value.autoApproveMaxPoints !== undefined || value.autoApproveMaxStations !== undefined;
  if (limited && value.dryRun === true) fail('dryRun', 'not both dryRun and an auto-approve limit');
  if (limited && value.autoApprove === true) fail('autoApprove', 'not both autoApprove (no limit) and an auto-approve limit');
  return value as unknown as SyncInput;
}
