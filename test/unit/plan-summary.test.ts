import { PlanFingerprint } from '../../src/domain/plan';
import { brokerDropsDuring, isKeptStation, PlanSummaryBuilder, type PlanStart } from '../../src/domain/plan-summary';
import { PLAN_SAMPLE_LIMIT } from '../../src/shared';
import { aPlanStation, aRejectedMessage } from '../support/builders';

const start = (overrides: Partial<PlanStart> = {}): PlanStart => ({
  counters: { messages: 12, rejected: 1, brokerDroppedStart: null, brokerDroppedEnd: null },
  stationsInDatabase: 40,
  rejectedSamples: [aRejectedMessage()],
  testDeviceId: undefined,
  ...overrides,
});

describe('brokerDropsDuring', () => {
  it('is the rise of the broker counter over the window, exact beyond 2^53 on both ends', () => {
    expect(brokerDropsDuring('10', '15')).toBe(5);
    expect(brokerDropsDuring('18446744073709551610', '18446744073709551615')).toBe(5);
  });

  it('is unknown when the broker did not publish it, or restarted (the counter went down)', () => {
    expect(brokerDropsDuring(null, '15')).toBeUndefined();
    expect(brokerDropsDuring('10', null)).toBeUndefined();
    expect(brokerDropsDuring('15', '10')).toBeUndefined();
  });
});

describe('PlanSummaryBuilder', () => {
  it('starts from the run: its counters, the live stations, the rejected samples, every count at zero', () => {
    const summary = new PlanSummaryBuilder(start({ counters: { messages: 12, rejected: 1, brokerDroppedStart: '3', brokerDroppedEnd: '7' }, testDeviceId: 'DEV-1' })).finish();
    expect(summary).toMatchObject({
      testDeviceId: 'DEV-1',
      messages: 12,
      rejected: 1,
      stationsInDatabase: 40,
      brokerDroppedMessages: 4,
      processedDevices: 0,
      stationsToChange: 0,
      pointsToCreate: 0,
      rejectedSamples: [aRejectedMessage()],
      truncated: false,
    });
    expect(summary.fingerprint).toBe(new PlanFingerprint().digest());
  });

  it('counts stations to change, skipped ones (test mode) and surplus points, and keeps only stations with something to show', () => {
    const builder = new PlanSummaryBuilder(start());
    expect(builder.station(aPlanStation({ stationPk: '1', missing: [2, 3] }))).toBe(true);
    expect(builder.station(aPlanStation({ stationPk: '2', missing: [1], skipped: true }))).toBe(true);
    expect(builder.station(aPlanStation({ stationPk: '3', missing: [], surplus: [4, 5] }))).toBe(true);
    expect(builder.station(aPlanStation({ stationPk: '4', missing: [], surplus: [] }))).toBe(false);
    const summary = builder.finish();
    expect(summary).toMatchObject({ stationsToChange: 1, pointsToCreate: 2, skippedStations: 1, surplusPoints: 2 });
    expect(summary.stations.map((s) => s.stationPk)).toEqual(['1', '2', '3']);
  });

  it('fingerprints what the plan writes, as PlanFingerprint does', () => {
    const stations = [aPlanStation({ stationPk: '1', missing: [2] }), aPlanStation({ stationPk: '2', missing: [1], skipped: true })];
    const builder = new PlanSummaryBuilder(start());
    const expected = new PlanFingerprint();
    for (const station of stations) {
      builder.station(station);
      expected.add(station);
    }
    expect(builder.finish().fingerprint).toBe(expected.digest());
  });

  it('counts every device, device without a station, ambiguity and silent station', () => {
    const builder = new PlanSummaryBuilder(start());
    expect([builder.device(), builder.device(), builder.device()]).toEqual([1, 2, 3]);
    builder.notFound('GHOST-1');
    builder.ambiguous({ deviceId: 'A-1', stationId: 'A-1', otherStationId: 'A1' });
    builder.silent({ stationPk: '9', stationId: 'S-9', stationName: 'Quiet' });
    expect(builder.finish()).toMatchObject({
      processedDevices: 3,
      notFound: 1,
      notFoundDeviceIds: ['GHOST-1'],
      ambiguousDevices: 1,
      ambiguities: [{ deviceId: 'A-1', stationId: 'A-1', otherStationId: 'A1' }],
      silentStations: 1,
      silentStationSamples: [{ stationPk: '9', stationId: 'S-9', stationName: 'Quiet' }],
      truncated: false,
    });
  });

  it('caps every list at PLAN_SAMPLE_LIMIT and says so, while the counts stay exact', () => {
    const builder = new PlanSummaryBuilder(start());
    for (let i = 0; i <= PLAN_SAMPLE_LIMIT; i++) builder.notFound(`GHOST-${i}`);
    const summary = builder.finish();
    expect(summary.notFound).toBe(PLAN_SAMPLE_LIMIT + 1);
    expect(summary.notFoundDeviceIds).toHaveLength(PLAN_SAMPLE_LIMIT);
    expect(summary.truncated).toBe(true);
  });

  it('cuts the rejected samples to PLAN_SAMPLE_LIMIT when the run stored more', () => {
    const samples = Array.from({ length: PLAN_SAMPLE_LIMIT + 1 }, (_, i) => aRejectedMessage({ payload: String(i) }));
    const summary = new PlanSummaryBuilder(start({ rejectedSamples: samples })).finish();
    expect(summary.rejectedSamples).toHaveLength(PLAN_SAMPLE_LIMIT);
    expect(summary.truncated).toBe(true);
  });
});

describe('isKeptStation', () => {
  it('keeps a station with points to create or surplus points to report', () => {
    expect(isKeptStation({ missing: [1], surplus: [] })).toBe(true);
    expect(isKeptStation({ missing: [], surplus: [3] })).toBe(true);
    expect(isKeptStation({ missing: [], surplus: [] })).toBe(false);
  });
});

describe('PlanSummaryBuilder, from a plan built during the window (store/window-plan.ts)', () => {
  const silent = (i: number) => ({ stationPk: String(i), stationId: `S-${i}`, stationName: `Silent ${i}` });

  it('counts the devices and the silent stations at once, as one at a time would', () => {
    const atOnce = new PlanSummaryBuilder(start());
    atOnce.devices(3);
    atOnce.silentStations(2, [silent(1), silent(2)]);
    const oneByOne = new PlanSummaryBuilder(start());
    for (let i = 0; i < 3; i++) oneByOne.device();
    oneByOne.silent(silent(1));
    oneByOne.silent(silent(2));
    expect(atOnce.finish()).toEqual(oneByOne.finish());
  });

  it('keeps the first silent stations up to the cap, and says the list is cut when there are more', () => {
    const first = Array.from({ length: PLAN_SAMPLE_LIMIT + 1 }, (_, i) => silent(i + 1));
    const cut = new PlanSummaryBuilder(start());
    cut.silentStations(PLAN_SAMPLE_LIMIT + 50, first);
    expect(cut.finish()).toMatchObject({ silentStations: PLAN_SAMPLE_LIMIT + 50, silentStationSamples: first.slice(0, PLAN_SAMPLE_LIMIT), truncated: true });
    const whole = new PlanSummaryBuilder(start());
    whole.silentStations(PLAN_SAMPLE_LIMIT, first.slice(0, PLAN_SAMPLE_LIMIT));
    expect(whole.finish()).toMatchObject({ silentStations: PLAN_SAMPLE_LIMIT, truncated: false });
  });
});
