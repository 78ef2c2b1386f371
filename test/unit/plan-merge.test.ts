import { byStationThenDevice } from '../../src/store/window-planner';
import { compareStationKeys, mergePlan, parsePointIds, StreamOrderError, type LiveStation, type MatchedDevice, type PlanEvent, type PlanEventSink } from '../../src/domain/plan-merge';

/** The rows in batches of `size`, as db/pool's streamBatches hands them over. */
async function* from<T>(items: T[], size = 1): AsyncGenerator<T[]> {
  for (let start = 0; start < items.length; start += size) yield await Promise.resolve(items.slice(start, start + size));
}

function collect(events: PlanEvent[]): PlanEventSink {
  return { event: (event) => void events.push(event), batchDone: () => Promise.resolve() };
}

function device(deviceId: string, connectors: number, stationPk: string | null, other?: { pk: string; id: string }): MatchedDevice {
  return { deviceId, connectors, stationPk, otherStationPk: other?.pk ?? null, otherStationId: other?.id ?? null };
}

function live(stationPk: string, livePoints: string | null, stationId = `ST-${stationPk}`): LiveStation {
  return { stationPk, stationId, stationName: `Station ${stationPk}`, livePoints };
}

/** The merge's events; the same whatever the batch sizes (a row a batch, two, all at once), or the test fails. */
async function merge(devices: MatchedDevice[], stations: LiveStation[], testDeviceId?: string): Promise<PlanEvent[]> {
  const runs: PlanEvent[][] = [];
  for (const size of [1, 2, 1000]) {
    const events: PlanEvent[] = [];
    await mergePlan(from(devices, size), from(stations, size), collect(events), testDeviceId);
    runs.push(events);
  }
  expect(runs[1]).toEqual(runs[0]);
  expect(runs[2]).toEqual(runs[0]);
  return runs[0]!;
}

function facts(events: PlanEvent[]): string[] {
  return events.flatMap((e) => {
    switch (e.kind) {
      case 'device':
        return [];
      case 'station':
        return [`station ${e.station.stationPk} by ${e.station.deviceId}: live ${e.station.livePoints}, missing [${e.station.missing.join(',')}], surplus [${e.station.surplus.join(',')}]${e.station.skipped ? ' skipped' : ''}`];
      case 'notFound':
        return [`not found ${e.deviceId}`];
      case 'ambiguous':
        return [`ambiguous ${e.ambiguity.deviceId}: ${e.ambiguity.stationId} over ${e.ambiguity.otherStationId}`];
      case 'silent':
        return [`silent ${e.station.stationPk}`];
    }
  });
}

describe('compareStationKeys', () => {
  it.each([
    ['9', '10', -1],
    ['10', '9', 1],
    ['123', '123', 0],
    ['18446744073709551614', '18446744073709551615', -1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareStationKeys(a, b))).toBe(sign);
  });
});

describe('parsePointIds', () => {
  it('reads the database list, empty or null as none', () => {
    expect(parsePointIds('3,1,2')).toEqual([3, 1, 2]);
    expect(parsePointIds('')).toEqual([]);
    expect(parsePointIds(null)).toEqual([]);
  });
});

describe('mergePlan', () => {
  it('meets devices and live stations in key order: missing, surplus, silent, not found', async () => {
    const events = await merge(
      [device('A', 3, '2'), device('B', 1, '10'), device('C', 2, '11'), device('X', 2, null)],
      [live('1', null), live('2', '1,3'), live('5', '1'), live('10', '1,2,4'), live('11', '2,1'), live('12', null)],
    );
    expect(facts(events)).toEqual([
      'silent 1',
      'station 2 by A: live 2, missing [2], surplus []',
      'silent 5',
      'station 10 by B: live 3, missing [], surplus [2,4]',
      'station 11 by C: live 2, missing [], surplus []',
      'not found X',
      'silent 12',
    ]);
    expect(events.filter((e) => e.kind === 'device').map((e) => (e.kind === 'device' ? e.deviceId : ''))).toEqual(['A', 'B', 'C', 'X']);
  });

  it('a station named by both spellings keeps the higher count, and is not silent', async () => {
    const events = await merge([device('AB-1', 2, '7'), device('AB1', 4, '7')], [live('7', '1')]);
    expect(facts(events)).toEqual(['station 7 by AB1: live 1, missing [2,3,4], surplus []']);
  });

  it('equal counts: the first device (in device id order) stays', async () => {
    const events = await merge([device('AB-1', 2, '7'), device('AB1', 2, '7')], [live('7', null)]);
    expect(facts(events)).toEqual(['station 7 by AB-1: live 0, missing [1,2], surplus []']);
  });

  it('reports an ambiguous device with the station it was matched to', async () => {
    const events = await merge([device('AMB-3', 1, '3', { pk: '4', id: 'AMB3' })], [live('3', null, 'AMB-3'), live('4', null, 'AMB3')]);
    expect(facts(events)).toEqual(['ambiguous AMB-3: AMB-3 over AMB3', 'station 3 by AMB-3: live 0, missing [1], surplus []', 'silent 4']);
    expect(events.find((e) => e.kind === 'ambiguous')).toMatchObject({ stationPk: '3', otherStationPk: '4' });
  });

  it('a device whose station is gone from the live stations is not found', async () => {
    expect(facts(await merge([device('GONE', 1, '3')], [live('2', null), live('4', null)]))).toEqual(['silent 2', 'not found GONE', 'silent 4']);
  });

  it('test mode marks every station but the test device skipped', async () => {
    const events = await merge([device('T-1', 1, '1'), device('U-2', 1, '2')], [live('1', null), live('2', null)], 'T1');
    expect(facts(events)).toEqual(['station 1 by T-1: live 0, missing [1], surplus []', 'station 2 by U-2: live 0, missing [1], surplus [] skipped']);
  });

  it('no devices: every live station is silent; no stations: every device is not found', async () => {
    expect(facts(await merge([], [live('1', null), live('2', '1')]))).toEqual(['silent 1', 'silent 2']);
    expect(facts(await merge([device('A', 1, null)], []))).toEqual(['not found A']);
  });

  it('keys past 2^53 stay exact', async () => {
    const events = await merge([device('BIG', 2, '9007199254740993')], [live('9007199254740992', null), live('9007199254740993', '1')]);
    expect(facts(events)).toEqual(['silent 9007199254740992', 'station 9007199254740993 by BIG: live 1, missing [2], surplus []']);
  });

  it('refuses devices out of station order instead of planning wrongly', async () => {
    await expect(merge([device('A', 1, '10'), device('B', 1, '9')], [])).rejects.toThrow(StreamOrderError);
    await expect(merge([device('A', 1, null), device('B', 1, '9')], [])).rejects.toThrow(/out of station order/);
  });

  it("hands each batch's facts to batchDone before it reads the next batch of either stream", async () => {
    const devices = [device('A', 1, '1'), device('B', 1, '2'), device('C', 1, '3'), device('D', 1, '9')];
    const stations = [live('1', null), live('2', null), live('3', null), live('4', null), live('5', null)];
    let unwritten = 0;
    let written = 0;
    const unwrittenAtRead: number[] = [];
    async function* watched<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T[]> {
      for await (const batch of batches) {
        unwrittenAtRead.push(unwritten);
        yield batch;
      }
    }
    const sink: PlanEventSink = {
      event: (event) => void (event.kind !== 'device' && unwritten++),
      batchDone: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        written += unwritten;
        unwritten = 0;
      },
    };
    await mergePlan(watched(from(devices, 2)), watched(from(stations, 2)), sink);
    expect(unwrittenAtRead).toEqual([0, 0, 0, 0, 0]);
    // 3 stations, 2 silent ones, D not found: all written by the end.
    expect({ written, unwritten }).toEqual({ written: 6, unwritten: 0 });
  });
});

describe('byStationThenDevice (the plan built during the window sorts as the full planner’s query does)', () => {
  const d = (deviceId: string, stationPk: string | null) => ({ deviceId, connectors: 1, stationPk, otherStationPk: null, otherStationId: null });

  it('orders by station key as numbers (exact beyond 2^53), devices without a station last, then by device id in byte order', () => {
    const devices = [d('b', null), d('a', null), d('Z-1', '10'), d('A-1', '10'), d('x', '9'), d('y', '18446744073709551615'), d('w', '9007199254740993')];
    expect(devices.sort(byStationThenDevice).map((x) => x.deviceId)).toEqual(['x', 'A-1', 'Z-1', 'w', 'y', 'a', 'b']);
  });
});
