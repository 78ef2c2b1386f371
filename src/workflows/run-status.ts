/**
 * The run's status and how it is told: the status query reads it, the Web UI's Current Details and the search
 * attributes and memo (visibility.ts) follow each change, and the phase metrics count each move.
 */
import { patched, setCurrentDetails } from '@temporalio/workflow';
import type { Phase, SyncInput, SyncStatus } from '../shared';
import { currentDetails } from './details';
import { recordPhase } from './metrics';
import { visibilityPublisher } from './visibility';

/** Guards the search-attribute and memo upserts (visibility.ts), which histories recorded before them do not have. */
const VISIBILITY_PATCH = 'cp-sync-visibility';

export interface RunTracker {
  readonly status: SyncStatus;
  /** Shows the status as it is now (details, search attributes, memo); call after each change. */
  tell: () => void;
  setPhase(phase: Phase): void;
  /** Whether an operator (or the auto-approve policy) has decided. */
  decided: () => boolean;
  /** An activity's result: the retry it may have reported is over. */
  settled<T>(value: T): T;
}

/** Opens the run's status in phase `collecting` and tells it at once. */
export function trackRun(input: SyncInput): RunTracker {
  const status: SyncStatus = { phase: 'collecting', startedAt: new Date().toISOString(), input, refusedApprovals: [], refusedRejections: [] };
  // Runs started before the search attributes existed replay without their upserts (a command each).
  const publish = patched(VISIBILITY_PATCH) ? visibilityPublisher() : (): void => undefined;
  const tell = (): void => {
    setCurrentDetails(currentDetails(status));
    publish(status);
  };
  let awaitingSince: Date | undefined;
  const tracker: RunTracker = {
    status,
    tell,
    setPhase(phase) {
      if (phase === 'awaiting-approval') awaitingSince = new Date();
      recordPhase(status.phase, phase, awaitingSince, status.approvalDeadline);
      status.phase = phase;
      tell();
    },
    decided: () => status.approval !== undefined || status.rejection !== undefined,
    settled(value) {
      status.retry = undefined;
      return value;
    },
  };
  tell();
  return tracker;
}
