import { formatPlan, formatProgress, formatReport, formatStatus } from '../../src/cli/format';
import { aPlanStation, aPlanSummary, aRejectedMessage, aSyncResult, aSyncStatus } from '../support/builders';

describe('formatReport', () => {
  it('prints the user guide\'s "With Stations Not Found" example line for line', () => {
    const result = aSyncResult({
      phase: 'applied',
      created: 5,
      processedDevices: 10,
      notFound: ['zzzz-yyyy-xxxx-wwww', 'aaaa-bbbb-cccc-dddd', 'test-device-id-999'],
      notFoundCount: 3,
    });
    expect(formatReport(result)).toEqual([
      '=== Success ===',
      '✓ Transaction committed successfully',
      'Total charging points created: 5',
      'Processed 10 unique devices',
      '',
      '=== Stations Not Found by deviceId from cloud topic (3) ===',
      'zzzz-yyyy-xxxx-wwww',
      'aaaa-bbbb-cccc-dddd',
      'test-device-id-999',
    ]);
  });

  it('prints the user guide\'s "Success" example, with no not-found section when every device has a station', () => {
    expect(formatReport(aSyncResult({ phase: 'applied', created: 5, processedDevices: 3, notFound: [], notFoundCount: 0 }))).toEqual([
      '=== Success ===',
      '✓ Transaction committed successfully',
      'Total charging points created: 5',
      'Processed 3 unique devices',
    ]);
  });

  it('names who approved an applied plan, after the user guide\'s lines', () => {
    const approval = { by: 'alice@ops', at: '2026-11-28T06:02:00.000Z', fingerprint: 'a1b2c3d4e5f60718', auto: false, comment: 'nightly check' };
    expect(formatReport(aSyncResult({ phase: 'applied', created: 5, processedDevices: 3, notFound: [], notFoundCount: 0, approval })).slice(0, 4)).toEqual([
      '=== Success ===',
      '✓ Transaction committed successfully',
      'Total charging points created: 5',
      'Approved by alice@ops at 2026-11-28T06:02:00.000Z (nightly check)',
    ]);
  });

  it('prints the user guide\'s "Failure" example for a failed apply', () => {
    const result = aSyncResult({ phase: 'failed', created: 0, processedDevices: 3, failedDuring: 'applying', error: "Duplicate entry '1234' for key 'PRIMARY'" });
    expect(formatReport(result)).toEqual([
      '=== Failed ===',
      "✗ Transaction rolled back due to error: Duplicate entry '1234' for key 'PRIMARY'",
      'No charging points were created',
      'Processed 3 unique devices',
    ]);
  });

  it('names the phase of a failure before the apply instead of a rollback', () => {
    const lines = formatReport(aSyncResult({ phase: 'failed', created: 0, failedDuring: 'collecting', error: 'Not authorized' }));
    expect(lines.slice(0, 3)).toEqual(['=== Failed ===', '✗ Sync failed while collecting: Not authorized', 'No charging points were created']);
  });

  it('tells how many not-found devices the list leaves out', () => {
    const notFound = Array.from({ length: 200 }, (_, i) => `dev-${i}`);
    const lines = formatReport(aSyncResult({ notFound, notFoundCount: 250 }));
    expect(lines).toContain('=== Stations Not Found by deviceId from cloud topic (250) ===');
    expect(lines.at(-1)).toBe('… and 50 more (cp_sync_not_found holds them all)');
  });

  it.each([
    ['nothing-to-do', '=== Success ===', 'Total charging points created: 0'],
    ['dry-run', '=== Dry run ===', 'Total charging points created: 0'],
    ['rejected', '=== Rejected ===', 'No charging points were created'],
    ['expired', '=== Expired ===', 'No charging points were created'],
  ] as const)('prints %s with its heading and that nothing was created', (phase, heading, nothing) => {
    const lines = formatReport(aSyncResult({ phase, created: 0, processedDevices: 4 }));
    expect(lines[0]).toBe(heading);
    expect(lines[2]).toBe(nothing);
    expect(lines[3]).toBe('Processed 4 unique devices');
  });

  it("shows a dry run's plan as `plan` does: its headline and its table, not a count of nothing created", () => {
    const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 4, stationsToChange: 2 });
    const lines = formatReport(aSyncResult({ phase: 'dry-run', created: 0, plan }), { workflowId: 'wf-dry' });
    expect(lines.slice(0, 3)).toEqual(['=== Dry run ===', 'Plan built; nothing was written', 'Plan a1b2c3d4e5f60718: 4 points to create on 2 stations']);
    expect(lines).toEqual(expect.arrayContaining(formatPlan(plan, 'wf-dry')));
    expect(lines).not.toContain('Total charging points created: 0');
  });

  it('names the plan of a dry run in one line where it was shown already (run)', () => {
    const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 4, stationsToChange: 2 });
    expect(formatReport(aSyncResult({ phase: 'dry-run', created: 0, plan, processedDevices: 4 }), { planShown: true }).slice(0, 4)).toEqual([
      '=== Dry run ===',
      'Plan built; nothing was written',
      'Plan a1b2c3d4e5f60718: 4 points to create on 2 stations',
      'Processed 4 unique devices',
    ]);
  });

  it('says who rejected the plan and why', () => {
    const lines = formatReport(aSyncResult({ phase: 'rejected', created: 0, rejection: { by: 'alice', reason: 'wrong fleet', at: '2024-11-11T10:30:00.000Z' } }));
    expect(lines[1]).toBe('Plan rejected by alice: wrong fleet');
  });
});

describe('formatPlan', () => {
  const plan = aPlanSummary({
    fingerprint: 'a1b2c3d4e5f60718',
    pointsToCreate: 3,
    stationsToChange: 2,
    surplusPoints: 2,
    skippedStations: 1,
    stations: [
      aPlanStation({ stationName: 'Beta Station', stationPk: '67890', deviceId: '6r43-lnud-2u11-oa8z', expected: 3, livePoints: 1, missing: [2, 3] }),
      aPlanStation({ stationName: 'Delta Station', stationPk: '22222', deviceId: 'dddd-0000', expected: 3, livePoints: 2, missing: [2], surplus: [] }),
      aPlanStation({ stationName: 'Epsilon Station', stationPk: '33333', deviceId: 'eeee-0000', expected: 2, livePoints: 4, missing: [], surplus: [3, 4] }),
      aPlanStation({ stationName: 'Gamma Station', stationPk: '11111', deviceId: '1234-5678', expected: 2, livePoints: 1, missing: [2], skipped: true }),
    ],
    notFound: 2,
    notFoundDeviceIds: ['zzzz-yyyy-xxxx-wwww', 'aaaa-bbbb-cccc-dddd'],
    rejected: 1,
    rejectedSamples: [aRejectedMessage({ payload: '2.5' })],
  });
  const lines = formatPlan(plan);
  const rowOf = (name: string): string => {
    const row = lines.find((l) => l.includes(name));
    if (row === undefined) throw new Error(`no line for ${name} in:\n${lines.join('\n')}`);
    return row;
  };
  /** A table row's cells (the table separates columns by two spaces or more). */
  const cellsOf = (name: string): string[] => rowOf(name).trim().split(/\s{2,}/);

  it('opens with the fingerprint and the counts', () => {
    expect(lines[0]).toBe('Plan a1b2c3d4e5f60718: 3 points to create on 2 stations');
    expect(lines[1]).toContain('2 devices without a station');
    expect(lines[1]).toContain('2 surplus points (kept)');
    expect(lines[1]).toContain('1 stations skipped (test mode)');
  });

  it('has a table header with the columns to create and surplus', () => {
    expect(rowOf('STATION').trim().split(/\s+/)).toEqual(['STATION', 'ID', 'DEVICE', 'EXPECTED', 'LIVE', 'CREATE', 'SURPLUS', 'NOTE']);
  });

  it('shows a station with its id, device, counts and the points to create', () => {
    expect(cellsOf('Beta Station')).toEqual(['Beta Station', '67890', '6r43-lnud-2u11-oa8z', '3', '1', '2,3', '-']);
  });

  it('shows surplus points', () => {
    expect(cellsOf('Epsilon Station')).toEqual(['Epsilon Station', '33333', 'eeee-0000', '2', '4', '-', '3,4']);
  });

  it('shows a skipped station as creating nothing, with the points it would have', () => {
    expect(cellsOf('Gamma Station')).toEqual(['Gamma Station', '11111', '1234-5678', '2', '1', '-', '-', 'skipped (test mode): 2']);
  });

  it('lists the devices without a station', () => {
    const at = lines.indexOf('Devices without a station (2):');
    expect(lines.slice(at + 1, at + 3)).toEqual(['  zzzz-yyyy-xxxx-wwww', '  aaaa-bbbb-cccc-dddd']);
  });

  it('lists rejected messages with their reasons', () => {
    const at = lines.indexOf('Rejected messages (1):');
    expect(lines[at + 1]).toBe('  acc123/sweet-home/bad-device/status-control/connectors-count "2.5": payload is not a whole number 0..16');
  });

  it('says how many entries a cut list leaves out, and how to get them all', () => {
    const cut = formatPlan(
      aPlanSummary({ stationsToChange: 250, surplusPoints: 7, notFound: 1000, ambiguousDevices: 3, ambiguities: [{ deviceId: 'AB-1', stationId: 'AB-1', otherStationId: 'AB1' }], truncated: true }),
      'sync-1',
    );
    expect(cut).toContain('  … and 249 more stations with missing points and 7 more surplus points: cp-sync plan sync-1 --format csv (or json, sql; --output FILE) lists them all');
    expect(cut).toContain('  … and 999 more: cp-sync plan sync-1 --format csv (or json, sql; --output FILE) lists them all');
    expect(cut).toContain('  … and 2 more: cp-sync plan sync-1 --format json lists them all');
    expect(lines.join('\n')).not.toMatch(/more/);
  });

  it('has no table for a plan without stations', () => {
    expect(formatPlan(aPlanSummary({ stations: [], notFoundDeviceIds: [], notFound: 0 }))).toHaveLength(2);
  });
});

describe('formatPlan: what the window did not hear, and ambiguous devices', () => {
  const silent = Array.from({ length: 12 }, (_, i) => ({ stationPk: String(100 + i), stationId: `SIL-${i}`, stationName: `Silent ${i}` }));

  it('counts silent stations and broker drops in the headline, lists the first 10 silent stations and where the rest are', () => {
    const lines = formatPlan(aPlanSummary({ silentStations: 12, silentStationSamples: silent, brokerDroppedMessages: 7, ambiguousDevices: 0, ambiguities: [] }));
    expect(lines[2]).toBe('  12 live stations sent nothing during the window · the broker dropped 7 messages (all its clients) during the window');
    const start = lines.indexOf('Silent stations (12): live in the database, no message during the window');
    expect(lines.slice(start + 1, start + 12)).toEqual([...silent.slice(0, 10).map((s) => `  ${s.stationId} (${s.stationName}, id ${s.stationPk})`), '  … and 2 more: cp-sync plan <workflowId> --format json lists them all']);
  });

  it('names each ambiguous device, the station used and the one not used', () => {
    const lines = formatPlan(aPlanSummary({ ambiguousDevices: 1, ambiguities: [{ deviceId: 'AB-1', stationId: 'AB-1', otherStationId: 'AB1' }] }));
    expect(lines).toContain('  AB-1: station AB-1 (used), not AB1');
  });

  it('shows none of it for a plan made before these facts existed', () => {
    expect(formatPlan(aPlanSummary()).join('\n')).not.toMatch(/silent|dropped|ambiguous/i);
  });
});

describe('formatStatus', () => {
  const retry = { activity: 'applyMissingPoints', attempt: 3, maximumAttempts: 20, lastFailure: 'lock wait timeout (ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded)' };

  it('shows a retry waiting for its backoff: the failed attempt, the reason and when the next one is due', () => {
    const lines = formatStatus('sync-1', aSyncStatus({ phase: 'applying', retry: { ...retry, nextAttemptAt: '2026-11-28T18:40:12.000Z', state: 'scheduled' } }));
    expect(lines).toContain(
      '  retrying: applyMissingPoints attempt 2 of 20 failed (lock wait timeout (ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded)); attempt 3 due at 2026-11-28T18:40:12.000Z',
    );
  });

  it('shows a retry whose next attempt runs', () => {
    const lines = formatStatus('sync-1', aSyncStatus({ phase: 'applying', retry: { ...retry, state: 'started' } }));
    expect(lines).toContain('  retrying: applyMissingPoints attempt 2 of 20 failed (lock wait timeout (ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded)); attempt 3 is running');
  });

  it('has no retry line without a retry', () => {
    expect(formatStatus('sync-1', aSyncStatus({ phase: 'applying' })).join('\n')).not.toContain('retrying');
  });
});

describe('formatStatus: notifications and the auto-approve limit', () => {
  const at = '2026-11-28T18:40:12.000Z';

  it('says that a notification failed, and why, while the run went on', () => {
    const status = aSyncStatus({
      phase: 'applied',
      notifications: [
        { event: 'awaiting-approval', state: 'sent', at },
        { event: 'applied', state: 'failed', error: 'the webhook answered HTTP 500', at },
      ],
    });
    expect(formatStatus('sync-1', status)).toContain('  notification: failed (applied: the webhook answered HTTP 500)');
  });

  it('says nothing when every notification was sent, or notifications are off', () => {
    const sent = aSyncStatus({ notifications: [{ event: 'applied', state: 'sent', at }] });
    const off = aSyncStatus({ notifications: [{ event: 'applied', state: 'off', at }] });
    expect(formatStatus('sync-1', sent).join('\n')).not.toContain('notification');
    expect(formatStatus('sync-1', off).join('\n')).not.toContain('notification');
  });

  it('says why a plan waits despite an auto-approve limit', () => {
    const status = aSyncStatus({ phase: 'awaiting-approval', autoApproveExceeded: '120 points to create exceed the auto-approve limit of 50' });
    expect(formatStatus('sync-1', status)).toContain('  not auto-approved: 120 points to create exceed the auto-approve limit of 50');
  });
});

describe('formatStatus: decisions and deadlines for people', () => {
  it('shows refused rejections as it shows refused approvals', () => {
    const refused = { by: 'bob@ops', at: '2026-11-28T18:31:05.000Z', reason: 'the plan was approved by alice@ops' };
    const lines = formatStatus('sync-1', aSyncStatus({ phase: 'applying', refusedApprovals: [{ ...refused, by: 'carol@ops' }], refusedRejections: [refused] }));
    expect(lines).toContain('  refused approval from carol@ops at 2026-11-28T18:31:05.000Z: the plan was approved by alice@ops');
    expect(lines).toContain('  refused rejection from bob@ops at 2026-11-28T18:31:05.000Z: the plan was approved by alice@ops');
  });

  it('writes the approval deadline with the time left', () => {
    const deadline = new Date(Date.now() + 86_400_000 - 30_000).toISOString();
    const lines = formatStatus('sync-1', aSyncStatus({ phase: 'awaiting-approval', approvalDeadline: deadline }));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}waiting for approval until \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z \(in 23 h 59 min\): cp-sync plan sync-1/));
  });
});

describe('formatProgress', () => {
  it('writes the window in people\'s units', () => {
    expect(formatProgress({ messages: 50, devices: 9, rejected: 5 }, 5400, 8000)).toBe('Collecting 5 s of 8 s: 50 messages, 9 devices, 5 rejected');
    expect(formatProgress(undefined, 0, 90_000)).toBe('Collecting 0 s of 1 min 30 s: connecting…');
  });

  it("names the broker's problem and its setting while the collector cannot connect", () => {
    expect(formatProgress({ messages: 0, devices: 0, rejected: 0 }, 2000, 8000, { message: 'CLOUD_HOST 127.0.0.1:1999: connection refused (ECONNREFUSED)' })).toBe(
      'Collecting 2 s of 8 s: 0 messages, 0 devices, 0 rejected · cannot reach the MQTT broker: CLOUD_HOST 127.0.0.1:1999: connection refused (ECONNREFUSED)',
    );
  });
});

describe('formatStatus tells the run from its own record', () => {
  it('opens an ended run with its outcome line and shows the plan headline', () => {
    const lines = formatStatus('sync-1', aSyncStatus({ phase: 'failed', failedDuring: 'applying', error: 'ER_LOCK_WAIT_TIMEOUT', plan: aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' }) }));
    expect(lines[1]).toBe('  outcome: failed during applying: ER_LOCK_WAIT_TIMEOUT');
    expect(lines.some((l) => l.startsWith('  Plan a1b2c3d4e5f60718: '))).toBe(true);
  });

  it('tells the error of a failed or terminated run once, in its outcome line', () => {
    const failed = formatStatus('sync-1', aSyncStatus({ phase: 'failed', failedDuring: 'collecting', error: 'CLOUD_HOST h:1: connection refused (ECONNREFUSED)' }));
    expect(failed.filter((l) => l.includes('connection refused'))).toEqual(['  outcome: failed during collecting: CLOUD_HOST h:1: connection refused (ECONNREFUSED)']);
    const terminated = formatStatus('sync-1', aSyncStatus({ phase: 'terminated', error: 'stuck run' }));
    expect(terminated.filter((l) => l.includes('stuck run'))).toEqual(['  outcome: terminated: stuck run']);
  });

  it("shows a collecting run's broker problem from the status (signalled) before the heartbeat's", () => {
    const status = aSyncStatus({ phase: 'collecting', connectionError: { setting: 'CLOUD_HOST', message: 'CLOUD_HOST h:1: connection refused', at: 't', retryable: true } });
    expect(formatStatus('sync-1', status).join('\n')).toContain('cannot reach the MQTT broker: CLOUD_HOST h:1: connection refused');
  });
});
