/**
 * Small test-data builders: a valid, typical value by default, any field overridable. Tests state only what
 * matters to them, e.g. `aPlanSummary({ pointsToCreate: 0 })`.
 */
import type { ApplyResult, PlanStation, PlanSummary, RejectedMessage, SyncInput, SyncResult, SyncStatus } from '../../src/shared';
import { deviceTopic } from '../../src/domain/topic';

/** The user guide's "Scenario B" station: 3 connectors reported, point 1 live, points 2 and 3 missing. */
export function aPlanStation(overrides: Partial<PlanStation> = {}): PlanStation {
  return {
    deviceId: '6r43-lnud-2u11-oa8z',
    stationId: '6r43lnud2u11oa8z',
    stationPk: '67890',
    stationName: 'Beta Station',
    expected: 3,
    livePoints: 1,
    missing: [2, 3],
    surplus: [],
    skipped: false,
    ...overrides,
  };
}

export function aRejectedMessage(overrides: Partial<RejectedMessage> = {}): RejectedMessage {
  return {
    topic: deviceTopic('acc123', 'bad-device'),
    payload: 'abc',
    reason: 'payload is not a whole number 0..16',
    ...overrides,
  };
}

/** A plan with one station that gets two points and one device without a station. */
export function aPlanSummary(overrides: Partial<PlanSummary> = {}): PlanSummary {
  return {
    fingerprint: '0123456789abcdef',
    processedDevices: 2,
    messages: 3,
    stationsInDatabase: 150,
    stationsToChange: 1,
    pointsToCreate: 2,
    surplusPoints: 0,
    skippedStations: 0,
    notFound: 1,
    rejected: 0,
    stations: [aPlanStation()],
    notFoundDeviceIds: ['zzzz-yyyy-xxxx-wwww'],
    rejectedSamples: [],
    truncated: false,
    ...overrides,
  };
}

/** A plan with nothing to write. */
export function anEmptyPlanSummary(overrides: Partial<PlanSummary> = {}): PlanSummary {
  return aPlanSummary({ stationsToChange: 0, pointsToCreate: 0, stations: [], ...overrides });
}

/** Short windows and timeouts, as a test wants them; override for the case at hand. */
export function aSyncInput(overrides: Partial<SyncInput> = {}): SyncInput {
  return {
    collectorDurationMs: 500,
    approvalTimeoutMs: 24 * 3_600_000,
    maxConnectors: 16,
    ...overrides,
  };
}

export function anApplyResult(overrides: Partial<ApplyResult> = {}): ApplyResult {
  return { created: 2, stationsChanged: 1, alreadyPresent: 0, stationsGone: 0, ...overrides };
}

export function aSyncResult(overrides: Partial<SyncResult> = {}): SyncResult {
  return {
    ...aSyncStatus({ phase: 'applied' }),
    phase: 'applied',
    created: 2,
    processedDevices: 2,
    notFound: [],
    notFoundCount: 0,
    rejected: 0,
    fingerprint: '0123456789abcdef',
    ...overrides,
  };
}

export function aSyncStatus(overrides: Partial<SyncStatus> = {}): SyncStatus {
  return {
    phase: 'awaiting-approval',
    startedAt: '2024-11-11T10:30:00.000Z',
    input: aSyncInput(),
    refusedApprovals: [],
    refusedRejections: [],
    ...overrides,
  };
}
