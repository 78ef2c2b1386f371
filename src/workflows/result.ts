import type { Phase, SyncResult, SyncStatus } from '../shared';

/** The report's figures, derived from a run's status: the workflow's result, and the CLI's view of a failed run. */
export function resultOf(status: SyncStatus, phase: Phase = status.phase): SyncResult {
  const { plan } = status;
  return {
    ...status,
    phase,
    created: status.apply?.created ?? 0,
    processedDevices: plan?.processedDevices ?? 0,
    notFound: plan?.notFoundDeviceIds ?? [],
    notFoundCount: plan?.notFound ?? 0,
    rejected: plan?.rejected ?? 0,
    fingerprint: plan?.fingerprint,
  };
}
