import { judgeWatchApproval, judgeWatchRejection, type WatchDecisionState } from '../../src/workflows/watch-decision';
import { awaitApproval, carryOf, initialStatus, recordCreated, supersede, SUPERSEDED_KEPT } from '../../src/workflows/watch-state';
import { cycleRunKey, watchKeyOf, watchSessionKey } from '../../src/domain/watch-keys';
import type { PendingWatchPlan } from '../../src/watch-shared';
import { aPlanSummary } from '../support/builders';

const NOW = '2026-12-06T10:00:00.000Z';
const pending = (cycle: number, fingerprint: string): PendingWatchPlan => ({ cycle, runKey: `k-c${cycle}`, plan: aPlanSummary({ fingerprint }), since: NOW, fromCycle: cycle });
const state = (overrides: Partial<WatchDecisionState> = {}): WatchDecisionState => ({ pending: pending(3, 'bbbb'), superseded: [{ fingerprint: 'aaaa', cycle: 1, by: 3 }], planning: false, stopping: false, ...overrides });

describe("the watch's approvals", () => {
  it('accept the waiting plan, with or without its fingerprint', () => {
    expect(judgeWatchApproval(state(), { fingerprint: 'bbbb', by: 'alice' }, NOW)).toEqual({ accepted: { by: 'alice', comment: undefined, at: NOW, fingerprint: 'bbbb', auto: false } });
    expect(judgeWatchApproval(state(), { by: 'alice' }, NOW)).toMatchObject({ accepted: { fingerprint: 'bbbb' } });
  });

  it('refuse a superseded plan by name, and say which plan replaced it', () => {
    expect(judgeWatchApproval(state(), { fingerprint: 'aaaa', by: 'alice' }, NOW)).toMatchObject({ refused: expect.stringMatching(/plan aaaa of cycle 1 was superseded by cycle 3's plan \(bbbb\)/) });
    expect(judgeWatchApproval(state({ pending: null }), { fingerprint: 'aaaa' }, NOW)).toMatchObject({ refused: expect.stringMatching(/superseded/) });
  });

  it('refuse an unknown fingerprint, nothing waiting, a cycle planning, or a watch stopping', () => {
    expect(judgeWatchApproval(state(), { fingerprint: 'cccc' }, NOW)).toMatchObject({ refused: expect.stringMatching(/not the waiting plan's \(bbbb\)/) });
    expect(judgeWatchApproval(state({ pending: null, superseded: [] }), {}, NOW)).toMatchObject({ refused: expect.stringMatching(/nothing awaits approval/) });
    expect(judgeWatchApproval(state({ planning: true }), {}, NOW)).toMatchObject({ refused: expect.stringMatching(/a cycle is planning now/) });
    expect(judgeWatchRejection(state({ stopping: true }), {}, NOW)).toMatchObject({ refused: 'the watch is stopping' });
    expect(judgeWatchRejection(state(), { by: 'bob', reason: 'no' }, NOW)).toEqual({ accepted: { by: 'bob', reason: 'no', at: NOW } });
    // As for a sync: a decision must say who made it, and the refusal says what to send.
    expect(judgeWatchApproval(state(), { fingerprint: 'bbbb' }, NOW)).toMatchObject({ refused: 'say who approves: send {"fingerprint":"bbbb","by":"<your name>"}' });
    expect(judgeWatchRejection(state(), { reason: 'no' }, NOW)).toMatchObject({ refused: expect.stringMatching(/^say who rejects: send \{"by":"<your name>"/) });
  });
});

describe("the watch's state", () => {
  it('shows the waiting plan as a sync shows its plan, and supersedes it keeping a bounded list', () => {
    const status = initialStatus({ intervalMs: 30_000, maxConnectors: 16 }, undefined, new Date(NOW));
    expect(status).toMatchObject({ kind: 'watch', phase: 'watching', runs: 1, cycles: 0, pending: null });
    awaitApproval(status, pending(1, 'f1'));
    expect(status).toMatchObject({ phase: 'awaiting-approval', plan: { fingerprint: 'f1' } });
    for (let cycle = 2; cycle < SUPERSEDED_KEPT + 5; cycle++) {
      supersede(status, cycle);
      awaitApproval(status, pending(cycle, `f${cycle}`));
    }
    expect(status.superseded).toHaveLength(SUPERSEDED_KEPT);
    expect(status.superseded.at(-1)).toEqual({ fingerprint: `f${SUPERSEDED_KEPT + 3}`, cycle: SUPERSEDED_KEPT + 3, by: SUPERSEDED_KEPT + 4 });
  });

  it('carries totals and the waiting plan to the next run, and counts points created per day', () => {
    const status = initialStatus({ intervalMs: 30_000, maxConnectors: 16 }, undefined, new Date(NOW));
    recordCreated(status, { created: 4, stationsChanged: 2, alreadyPresent: 0, stationsGone: 0 }, new Date(NOW));
    recordCreated(status, { created: 3, stationsChanged: 1, alreadyPresent: 0, stationsGone: 0 }, new Date('2026-12-07T00:00:01Z'));
    expect(status).toMatchObject({ createdTotal: 7, createdToday: 3, createdDay: '2026-12-07' });
    awaitApproval(status, pending(5, 'f5'));
    const next = initialStatus(status.input, carryOf(status), new Date());
    expect(next).toMatchObject({ runs: 2, createdTotal: 7, phase: 'awaiting-approval', pending: { cycle: 5 }, plan: { fingerprint: 'f5' } });
  });
});

describe('watch keys', () => {
  it('derive stable, short keys from the workflow id', () => {
    const long = 'w'.repeat(255);
    expect(watchKeyOf(long)).toBe(watchKeyOf(long));
    expect(cycleRunKey(long, 123_456_789).length).toBeLessThanOrEqual(64);
    expect(watchSessionKey('a')).not.toBe(watchSessionKey('a', 1));
  });
});
