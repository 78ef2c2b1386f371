import { notificationBody } from '../../src/domain/notification';
import type { NotificationEvent } from '../../src/shared';

const LINK = 'http://127.0.0.1:8233/namespaces/default/workflows/nightly-2026-11-28T02%3A00%3A00Z/run-1/history';

function anEvent(overrides: Partial<NotificationEvent> = {}): NotificationEvent {
  return {
    event: 'awaiting-approval',
    workflowId: 'nightly-2026-11-28T02:00:00Z',
    runId: 'run-1',
    plan: { fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 120, stationsToChange: 40, processedDevices: 900, notFound: 3, rejected: 1 },
    approvalDeadline: '2026-11-29T02:01:00.000Z',
    ...overrides,
  };
}

describe('notificationBody', () => {
  it('awaiting-approval: the plan, the deadline, the approve command line and the Web UI link, in text and as fields', () => {
    const body = notificationBody(anEvent({ autoApproveExceeded: '120 points to create exceed the auto-approve limit of 50' }), LINK, Date.parse('2026-11-28T02:01:00Z'));
    expect(body).toMatchObject({
      event: 'awaiting-approval',
      workflowId: 'nightly-2026-11-28T02:00:00Z',
      plan: { fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 120, stationsToChange: 40 },
      approveCommand: 'cp-sync approve nightly-2026-11-28T02:00:00Z --fingerprint a1b2c3d4e5f60718',
      webUiUrl: LINK,
    });
    expect(body.text).toContain('awaits approval until 2026-11-29T02:01:00Z (in 24 h)');
    expect(body.text).toContain('120 points to create on 40 stations');
    expect(body.text).toContain('not auto-approved: 120 points to create exceed the auto-approve limit of 50');
    expect(body.text).toContain('`cp-sync approve nightly-2026-11-28T02:00:00Z --fingerprint a1b2c3d4e5f60718`');
    expect(body.text).toContain(`Web UI: ${LINK}`);
  });

  it.each([
    [{ event: 'applied', created: 120, stationsChanged: 40, approvedBy: 'auto-approve (limit 200)' }, 'applied: 120 charging points created on 40 stations, approved by auto-approve (limit 200)'],
    [{ event: 'expired' }, 'expired: no approval arrived in time, nothing was written'],
    [{ event: 'rejected', rejectedBy: 'alice@ops', rejectionReason: 'wrong fleet' }, 'rejected by alice@ops (wrong fleet): nothing was written'],
    [{ event: 'failed', failedDuring: 'applying', error: 'Activity task failed: ER_LOCK_WAIT_TIMEOUT' }, 'failed while applying: Activity task failed: ER_LOCK_WAIT_TIMEOUT'],
  ] as const)('%o says what happened, with no approve command', (overrides, headline) => {
    const body = notificationBody(anEvent(overrides), LINK);
    expect(body.text.split('\n')[0]).toContain(`charging-points-sync nightly-2026-11-28T02:00:00Z ${headline}`);
    expect(body.approveCommand).toBeUndefined();
    expect(body.event).toBe(overrides.event);
  });

  it('says when the run failed before it had a plan', () => {
    expect(notificationBody(anEvent({ event: 'failed', plan: undefined, error: 'MQTT refused' }), LINK).text).toContain('no plan was built');
  });
});
