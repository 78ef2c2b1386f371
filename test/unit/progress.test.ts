import { google, temporal } from '@temporalio/proto';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { retryFromDescription } from '../../src/client/progress';

type Pending = temporal.api.workflow.v1.IPendingActivityInfo;
const { PendingActivityState } = temporal.api.enums.v1;

function described(...pendingActivities: Pending[]): Pick<WorkflowExecutionDescription, 'raw'> {
  return { raw: { pendingActivities } };
}

describe('retryFromDescription: the retry in progress, from describe().raw.pendingActivities', () => {
  it('reads attempt, maximum, last failure, when the next attempt is due and the state', () => {
    const retry = retryFromDescription(
      described({
        activityType: { name: 'applyMissingPoints' },
        attempt: 3,
        maximumAttempts: 20,
        lastFailure: { message: 'lock wait timeout (ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded)' },
        nextAttemptScheduleTime: google.protobuf.Timestamp.fromObject({ seconds: 1795890000, nanos: 250_000_000 }),
        state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
      }),
    );
    expect(retry).toEqual({
      activity: 'applyMissingPoints',
      attempt: 3,
      maximumAttempts: 20,
      lastFailure: 'lock wait timeout (ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded)',
      nextAttemptAt: new Date(1795890000250).toISOString(),
      state: 'scheduled',
    });
  });

  it('names a lost worker (heartbeat timeout) when the failure has no message', () => {
    const retry = retryFromDescription(
      described({ activityType: { name: 'applyMissingPoints' }, attempt: 2, maximumAttempts: 20, lastFailure: { timeoutFailureInfo: {} }, state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED }),
    );
    expect(retry).toMatchObject({ attempt: 2, lastFailure: 'timed out (worker lost?)', state: 'started', nextAttemptAt: undefined });
  });

  it('is undefined for a first attempt that has not failed, and without pending activities', () => {
    expect(retryFromDescription(described({ activityType: { name: 'diffStations' }, attempt: 1, state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED }))).toBeUndefined();
    expect(retryFromDescription(described())).toBeUndefined();
  });
});
