/**
 * `--collectors 2`: two collector activities on the MQTT shared subscription of the run split the stream (each
 * hears a part, neither hears it all), their counts merge exactly (highest count wins), and the plan and the rows
 * written are those of one collector hearing everything.
 */
import { report, useE2e, type StationRow } from '../support/e2e';

const e2e = useE2e('shared');

/** `Collected N messages from M unique devices … (collector i of 2)`: what each collector heard. */
function collectedPerCollector(lines: string[]): Map<string, { messages: number; devices: number }> {
  const heard = new Map<string, { messages: number; devices: number }>();
  for (const line of lines) {
    const match = /^Collected (\d+) messages from (\d+) unique devices \(\d+ rejected\) \(collector (\d+) of 2\)$/.exec(line);
    if (match) heard.set(match[3]!, { messages: Number(match[1]), devices: Number(match[2]) });
  }
  return heard;
}

test('two collectors split the stream, and the plan and the rows are exact', async () => {
  const { db } = e2e;
  const stations: StationRow[] = [];
  for (let i = 0; i < 30; i++) {
    const station = await db.station({ station_id: `SHR-${String(i).padStart(4, '0')}`, name: `Shared ${i}` });
    if (i % 3 === 0) await db.point(station, 1);
    stations.push(station);
  }
  // Every device reports 2 then 3 on each round: whichever collector hears which, the highest (3) must win.
  const reports = stations.flatMap((s) => [report(s.station_id, 2), report(s.station_id, 3)]);
  const account = e2e.account();
  const handle = await e2e.collect(account, reports, { collectors: 2, autoApprove: true, collectorDurationMs: 4000 });
  const status = await e2e.waitForPhase(handle, 'applied', 60_000);

  expect(status.plan).toMatchObject({ processedDevices: 30, notFound: 0, stationsToChange: 30, pointsToCreate: 30 * 3 - 10 });
  expect(status.apply).toMatchObject({ created: 80, stationsChanged: 30 });
  for (const station of stations) expect(await db.livePointIds(station)).toEqual([1, 2, 3]);

  const heard = collectedPerCollector(e2e.infoLines());
  expect([...heard.keys()].sort()).toEqual(['1', '2']);
  const [first, second] = [heard.get('1')!, heard.get('2')!];
  expect(first.messages).toBeGreaterThan(0);
  expect(second.messages).toBeGreaterThan(0);
  // The broker hands each message to one of them: together they heard what the run counted, no message twice.
  expect(first.messages + second.messages).toBe(status.plan!.messages);
  // Each counts the devices it stored first: together, every device once.
  expect(first.devices + second.devices).toBe(30);
  expect(e2e.infoLines().filter((l) => l.startsWith('Subscribed to connectors-count (shared subscription $share/'))).toHaveLength(2);
}, 90_000);

test('one collector (the default) keeps the plain subscription', async () => {
  const station = await e2e.db.station({ station_id: 'PLAIN-0001', name: 'Plain' });
  const handle = await e2e.collect(e2e.account(), [report(station.station_id, 1)], { dryRun: true });
  await e2e.waitForPhase(handle, 'dry-run');
  expect(e2e.infoLines()).toContain('Subscribed to connectors-count');
  expect(e2e.infoLines().some((l) => l.includes('$share/'))).toBe(false);
}, 60_000);
