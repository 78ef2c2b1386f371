/**
 * The watch's silence guard against MariaDB (issue 15): WatchDeviceStore.silence() and oldestHeard() on a real
 * database filled through the store's own statements (upsert, claim, markStations), with exact counts; and a watch
 * with --max-silent-stations and a short silence horizon that holds a plan within its auto-approve limits for a
 * person because too many live stations are silent.
 */
import { WatchDeviceStore } from '../../src/store/watch-devices';
import { approveUpdate } from '../../src/workflows/definitions';
import { Publisher, report, useE2e } from '../support/e2e';
import { pointsWithin, startListeningWatch, watchStatusWhen } from '../support/e2e-watch';
import { waitFor } from '../support/wait';

const e2e = useE2e('watchsil');

beforeEach(async () => {
  await e2e.db.clearOcppTables();
});

/** Whole seconds (DATETIME), `seconds` before `from`. */
function before(from: Date, seconds: number): Date {
  return new Date(from.getTime() - seconds * 1000);
}

function store(): WatchDeviceStore {
  return new WatchDeviceStore({ pool: e2e.db.pool, tables: e2e.db.tables });
}

describe('WatchDeviceStore on MariaDB', () => {
  test('silence(): live stations, and those no planned device of this watch with a station named since `since`', async () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const since = before(now, 3600);
    // Six live stations, two deleted ones.
    for (const id of ['SIL-1', 'SIL-2', 'SIL-3', 'SIL-4', 'SIL-5', 'SIL-6']) await e2e.db.station({ station_id: id });
    for (const id of ['SIL-D1', 'SIL-D2']) await e2e.db.station({ station_id: id, deleted: before(now, 86_400) });
    const devices = store();
    const key = 'watch-silence-test-a';
    const other = 'watch-silence-test-b';

    await devices.upsert(key, new Map([['SIL-1', 2]]), before(now, 600)); // after since: heard
    await devices.upsert(key, new Map([['SIL-2', 2]]), before(now, 7200)); // before since: silent
    await devices.upsert(key, new Map([['SIL-3', 1]]), since); // exactly at since: heard
    await devices.upsert(key, new Map([['NO-STATION', 1]]), now); // names no station: not counted
    await devices.upsert(key, new Map([['SIL-D1', 1]]), now); // names a deleted station: not counted
    await devices.upsert(other, new Map([['SIL-5', 1]]), now); // another watch's device: not this watch's
    expect(await devices.claim(key, 1)).toEqual({ claimed: 5, newDevices: 5 });
    expect(await devices.claim(other, 1)).toEqual({ claimed: 1, newDevices: 1 });
    // What the planner records: the devices that found no live station.
    await devices.markStations(key, ['NO-STATION', 'SIL-D1'], ['SIL-1', 'SIL-2', 'SIL-3']);
    await devices.markStations(other, [], ['SIL-5']);
    // Heard now but not planned yet (no cycle claimed it): not counted.
    await devices.upsert(key, new Map([['SIL-4', 1]]), now);

    expect(await devices.silence(key, since)).toEqual({ liveStations: 6, silentStations: 4 });
    expect(await devices.silence(other, since)).toEqual({ liveStations: 6, silentStations: 5 });
    // A later horizon: SIL-3 (heard at the old `since`) falls out, then SIL-1 (ten minutes ago).
    expect(await devices.silence(key, before(now, 900))).toEqual({ liveStations: 6, silentStations: 5 });
    expect(await devices.silence(key, before(now, 60))).toEqual({ liveStations: 6, silentStations: 6 });

    // SIL-4 planned, SIL-2 heard again: both count now.
    expect((await devices.claim(key, 2)).claimed).toBe(1);
    await devices.markStations(key, [], ['SIL-4']);
    await devices.upsert(key, new Map([['SIL-2', 2]]), now);
    expect(await devices.silence(key, since)).toEqual({ liveStations: 6, silentStations: 2 });

    // A station deleted after its device was planned: one live station less; its device still counts as heard (the
    // guard's share is a lower bound, docs/watch.md), never below zero.
    await e2e.db.pool.query(`UPDATE charging_stations SET deleted = ? WHERE station_id = 'SIL-1'`, [now]);
    expect(await devices.silence(key, since)).toEqual({ liveStations: 5, silentStations: 1 });

    // An empty fleet.
    await e2e.db.clearOcppTables();
    expect(await devices.silence(key, since)).toEqual({ liveStations: 0, silentStations: 0 });
  });

  test('oldestHeard(): the earliest last message of the devices with a station claimed from a cycle on', async () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const devices = store();
    const key = 'watch-oldest-test-a';
    await devices.upsert(key, new Map([['OLD-1', 1]]), before(now, 300));
    await devices.upsert(key, new Map([['OLD-NS', 1]]), before(now, 900)); // older, but without a station
    await devices.upsert(key, new Map([['OLD-2', 1]]), before(now, 120));
    await devices.upsert('watch-oldest-test-b', new Map([['OLD-X', 1]]), before(now, 3000));
    await devices.claim('watch-oldest-test-b', 1);
    expect(await devices.claim(key, 1)).toEqual({ claimed: 3, newDevices: 3 });
    await devices.markStations(key, ['OLD-NS'], ['OLD-1', 'OLD-2']);
    await devices.upsert(key, new Map([['OLD-3', 1]]), before(now, 60));
    expect(await devices.claim(key, 2)).toEqual({ claimed: 1, newDevices: 1 });

    expect(await devices.oldestHeard(key, 1)).toEqual(before(now, 300));
    expect(await devices.oldestHeard(key, 2)).toEqual(before(now, 60));
    expect(await devices.oldestHeard(key, 3)).toBeUndefined();
    // Heard again since: its last message, never earlier.
    await devices.upsert(key, new Map([['OLD-1', 1]]), before(now, 30));
    expect(await devices.oldestHeard(key, 1)).toEqual(before(now, 120));
    // OLD-3 turns out to have no station: cycle 2 has none left to time.
    await devices.markStations(key, ['OLD-3'], []);
    expect(await devices.oldestHeard(key, 2)).toBeUndefined();
  });
});

test('a watch with --max-silent-stations and a short horizon holds a plan within its limits when too many stations are silent', async () => {
  const account = e2e.account();
  const speaking = await e2e.db.station({ station_id: 'WSIL-0001', name: 'Speaks' });
  for (const id of ['WSIL-0002', 'WSIL-0003', 'WSIL-0004']) await e2e.db.station({ station_id: id, name: 'Silent' });
  const startedMs = Date.now();
  const handle = await startListeningWatch(e2e, { intervalMs: 2000, account, maxSilentStations: 50, silenceHorizonMs: 3000 });
  // Not heard yet is not silence: the guard applies once the watch has listened for the horizon.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedMs + 3500 - Date.now())));

  const publisher = await Publisher.start(account, [report(speaking.station_id, 1)], { intervalMs: 300 });
  try {
    const held = await watchStatusWhen(handle, 'the plan held for a person', (s) => s.phase === 'awaiting-approval');
    // One point, far within the limit of 100: held only because 3 of the 4 live stations are silent.
    expect(held.pending?.plan).toMatchObject({ pointsToCreate: 1, stationsToChange: 1 });
    expect(held.autoApproveExceeded).toBe('3 of 4 live stations (75 %) sent nothing, more than the 50 % of --max-silent-stations/MAX_SILENT_STATIONS; a person must approve');
    expect(held.createdTotal).toBe(0);
    expect(await e2e.db.livePointIds(speaking)).toEqual([]);

    // Approved as Update (a cycle planning at that moment refuses it, saying to try again).
    const fingerprint = held.pending!.plan.fingerprint;
    await waitFor(
      'the approval taken',
      () =>
        handle.executeUpdate(approveUpdate, { args: [{ fingerprint, by: 'alice@ops' }] }).then(
          () => true,
          (err: unknown) => {
            if (/try again in a moment/.test(String((err as { cause?: Error }).cause?.message))) return false;
            throw err;
          },
        ),
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    await pointsWithin(e2e, [speaking], { [speaking.station_id]: [1] }, 30_000);
  } finally {
    await publisher.stop();
  }
}, 120_000);
