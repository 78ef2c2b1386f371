import {
  isTestDevice,
  missingPointIds,
  PlanFingerprint,
  surplusPointIds,
  undashed,
  type FingerprintedStation,
} from '../../src/domain/plan';

describe('undashed', () => {
  it.each([
    ['6r43-lnud-2u11-oa8z', '6r43lnud2u11oa8z'],
    ['abcd', 'abcd'],
    ['a--b-', 'ab'],
    ['-', ''],
  ])('%s → %s', (deviceId, expected) => {
    expect(undashed(deviceId)).toBe(expected);
  });
});

describe('isTestDevice', () => {
  it.each([
    ['the same id with dashes', 'ab12-cd34', 'ab12-cd34', true],
    ['the same id without dashes', 'ab12cd34', 'ab12cd34', true],
    ['dashes on the device only', 'ab12-cd34', 'ab12cd34', true],
    ['dashes on the test id only', 'ab12cd34', 'ab12-cd34', true],
    ['dashes in other places on each side', 'ab1-2cd34', 'ab12cd-34', true],
    ['another device', 'ab12-cd34', 'ab12-cd35', false],
    ['a prefix of the test id', 'ab12', 'ab12-cd34', false],
    ['an empty test id', 'ab12-cd34', '', false],
    ['no test id', 'ab12-cd34', undefined, false],
  ])('%s: isTestDevice(%j, %j) is %s', (_case, deviceId, testDeviceId, expected) => {
    expect(isTestDevice(deviceId, testDeviceId)).toBe(expected);
  });
});

describe('missingPointIds', () => {
  it.each([
    ['points 1 and 3 with a count of 3', 3, [1, 3], [2]],
    ['point 1 with a count of 3', 3, [1], [2, 3]],
    ['no points with a count of 3', 3, [], [1, 2, 3]],
    ['every point present', 2, [1, 2], []],
    ['a count of 0', 0, [], []],
    ['a count of 0 with live points', 0, [1, 2], []],
    ['duplicated live points', 3, [1, 1, 3, 3], [2]],
    ['live points only above the count', 2, [5, 7], [1, 2]],
    ['live points in any order', 4, [4, 2], [1, 3]],
  ])('%s: expected %i, live %j → %j', (_case, expected, live, missing) => {
    expect(missingPointIds(expected, live)).toEqual(missing);
  });

  it('accepts any iterable of live points', () => {
    function* live(): Generator<number> {
      yield 2;
      yield 3;
    }
    expect(missingPointIds(3, live())).toEqual([1]);
  });
});

describe('surplusPointIds', () => {
  it.each([
    ['points above the count', 2, [1, 2, 3, 5], [3, 5]],
    ['unsorted and duplicated', 2, [5, 3, 5, 3], [3, 5]],
    ['sorted as numbers, not as text', 1, [10, 9, 2], [2, 9, 10]],
    ['none above the count', 3, [1, 2, 3], []],
    ['gaps below the count', 4, [1, 3], []],
    ['a count of 0', 0, [2, 1], [1, 2]],
    ['no live points', 3, [], []],
  ])('%s: expected %i, live %j → %j', (_case, expected, live, surplus) => {
    expect(surplusPointIds(expected, live)).toEqual(surplus);
  });
});

describe('PlanFingerprint', () => {
  const station = (stationPk: string, missing: number[], skipped = false): FingerprintedStation => ({ stationPk, missing, skipped });
  function fingerprint(stations: FingerprintedStation[]): string {
    const fp = new PlanFingerprint();
    for (const s of stations) fp.add(s);
    return fp.digest();
  }
  const base = [station('100', [2]), station('200', [1, 3])];

  it('is 16 hex digits', () => {
    expect(fingerprint(base)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is the same for two plans with the same writes', () => {
    expect(fingerprint([station('100', [2]), station('200', [1, 3])])).toBe(fingerprint(base));
  });

  it('ignores a skipped station (test mode)', () => {
    expect(fingerprint([base[0]!, station('150', [1, 2], true), base[1]!])).toBe(fingerprint(base));
  });

  it('ignores a station with nothing missing', () => {
    expect(fingerprint([base[0]!, station('150', []), base[1]!])).toBe(fingerprint(base));
  });

  it('changes when a station misses other points', () => {
    expect(fingerprint([station('100', [3]), station('200', [1, 3])])).not.toBe(fingerprint(base));
  });

  it('changes when a station misses one point more', () => {
    expect(fingerprint([station('100', [2]), station('200', [1, 2, 3])])).not.toBe(fingerprint(base));
  });

  it('changes when the points go to another station', () => {
    expect(fingerprint([station('101', [2]), station('200', [1, 3])])).not.toBe(fingerprint(base));
  });

  it('changes when a station is added', () => {
    expect(fingerprint([...base, station('300', [1])])).not.toBe(fingerprint(base));
  });

  it('tells a plan with writes from an empty one', () => {
    expect(fingerprint([station('100', [1])])).not.toBe(fingerprint([]));
  });

  it('does not mix station and point ids up', () => {
    expect(fingerprint([station('12', [3])])).not.toBe(fingerprint([station('1', [23])]));
  });
});
