import { ApplyTally, stillMissing } from '../../src/domain/still-missing';

describe('stillMissing', () => {
  it('keeps the planned points that have no live point now, in plan order', () => {
    expect(stillMissing([2, 3, 5], [1, 3])).toEqual([2, 5]);
    expect(stillMissing([2, 3], [2, 3, 4])).toEqual([]);
  });

  it('keeps every planned point of a station without live points', () => {
    expect(stillMissing([1, 2], undefined)).toEqual([1, 2]);
    expect(stillMissing([1, 2], [])).toEqual([1, 2]);
  });

  it('hands back a list of its own, never the plan', () => {
    const planned = [1, 2];
    const missing = stillMissing(planned, undefined);
    missing.push(3);
    expect(planned).toEqual([1, 2]);
  });
});

describe('ApplyTally', () => {
  it('creates what is still missing and counts what it leaves out: points added meanwhile, stations deleted meanwhile', () => {
    const tally = new ApplyTally();
    expect(tally.station({ name: 'Alpha', planned: [2, 3], live: [1] })).toEqual([2, 3]);
    expect(tally.station({ name: 'Beta', planned: [1, 2], live: [2] })).toEqual([1]);
    expect(tally.station({ name: 'Gamma', planned: [1], live: [1] })).toEqual([]);
    expect(tally.station({ name: undefined, planned: [1, 2], live: undefined })).toEqual([]);
    expect(tally.result()).toEqual({ created: 3, stationsChanged: 2, alreadyPresent: 2, stationsGone: 1 });
  });

  it('is all zeros for an empty plan', () => {
    expect(new ApplyTally().result()).toEqual({ created: 0, stationsChanged: 0, alreadyPresent: 0, stationsGone: 0 });
  });
});
