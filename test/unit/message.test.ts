import { excerpt, keepHighest, MAX_DEVICE_ID_LENGTH, parseConnectorCount, parseMessage, parseTopic } from '../../src/domain/message';

const MAX = 16;
const topicFor = (deviceId: string): string => `acc123/sweet-home/${deviceId}/status-control/connectors-count`;

describe('parseTopic', () => {
  it.each([
    ['acc123/sweet-home/6r43-lnud-2u11-oa8z/status-control/connectors-count', '6r43-lnud-2u11-oa8z'],
    ['acc456/sweet-home/ab12cd34/status-control/connectors-count', 'ab12cd34'],
    ['a/sweet-home/X/status-control/connectors-count', 'X'],
    ['acc/sweet-home/dev_1.2:3~!/status-control/connectors-count', 'dev_1.2:3~!'],
    [topicFor('d'.repeat(MAX_DEVICE_ID_LENGTH)), 'd'.repeat(MAX_DEVICE_ID_LENGTH)],
  ])('reads %s as device %s (topic level 3)', (topic, deviceId) => {
    expect(parseTopic(topic)).toEqual({ ok: true, deviceId });
  });

  const SHAPE = /topic is not <account>\/sweet-home\/<deviceId>\/status-control\/connectors-count/;
  it.each([
    ['4 levels', 'acc/sweet-home/dev/status-control'],
    ['6 levels', 'acc/sweet-home/dev/status-control/connectors-count/extra'],
    ['a device id with a slash (6 levels)', 'acc/sweet-home/dev/ice/status-control/connectors-count'],
    ['a trailing slash', 'acc/sweet-home/dev/status-control/connectors-count/'],
    ['a wrong level 2', 'acc/sweet-away/dev/status-control/connectors-count'],
    ['level 2 in another case', 'acc/Sweet-Home/dev/status-control/connectors-count'],
    ['a wrong level 4', 'acc/sweet-home/dev/status/connectors-count'],
    ['a wrong level 5', 'acc/sweet-home/dev/status-control/connectors-counts'],
    ['the levels swapped', 'acc/sweet-home/dev/connectors-count/status-control'],
    ['no levels at all', 'connectors-count'],
    ['an empty topic', ''],
  ])('rejects %s as the wrong shape', (_case, topic) => {
    const parsed = parseTopic(topic);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(SHAPE);
  });

  it.each([
    ['an empty device id', topicFor(''), /device id \(topic level 3\) is empty/],
    ['a device id one character too long', topicFor('d'.repeat(MAX_DEVICE_ID_LENGTH + 1)), /longer than 128 characters/],
    ['a non-ASCII device id', topicFor('dévice'), /printable ASCII/],
    ['an Arabic-Indic device id', topicFor('١٢٣'), /printable ASCII/],
    ['an emoji', topicFor('dev😀'), /printable ASCII/],
    ['a space', topicFor('dev ice'), /printable ASCII/],
    ['a tab', topicFor('dev\tice'), /printable ASCII/],
    ['an escape sequence', topicFor('\x1b[31mred'), /printable ASCII/],
    ['a NUL', topicFor('dev\x00'), /printable ASCII/],
    ['a DEL', topicFor('dev\x7f'), /printable ASCII/],
  ])('rejects %s with a reason', (_case, topic, reason) => {
    const parsed = parseTopic(topic);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('parseConnectorCount', () => {
  it.each([
    ['2', 2],
    [' 3 ', 3],
    ['\t4\r\n', 4],
    ['0', 0],
    ['16', 16],
    ['007', 7],
  ])('accepts %j as %i with MAX_CONNECTORS 16', (payload, count) => {
    expect(parseConnectorCount(payload, MAX)).toEqual({ ok: true, count });
  });

  it.each([
    ['17', /count 17 is above MAX_CONNECTORS \(16\)/],
    ['99999999999999999999', /is above MAX_CONNECTORS \(16\)/],
    ['-1', /not a whole number 0\.\.16/],
    ['+2', /not a whole number 0\.\.16/],
    ['2.5', /not a whole number 0\.\.16/],
    ['2.0', /not a whole number 0\.\.16/],
    ['abc', /not a whole number 0\.\.16/],
    ['2 3', /not a whole number 0\.\.16/],
    ['1e3', /not a whole number 0\.\.16/],
    ['0x10', /not a whole number 0\.\.16/],
    ['Infinity', /not a whole number 0\.\.16/],
    ['NaN', /not a whole number 0\.\.16/],
    ['١', /not a whole number 0\.\.16/],
    ['２', /not a whole number 0\.\.16/],
    ['', /payload is empty/],
    ['   ', /payload is empty/],
  ])('rejects %j with a reason', (payload, reason) => {
    const parsed = parseConnectorCount(payload, MAX);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('takes the limit from its argument', () => {
    expect(parseConnectorCount('4', 4)).toEqual({ ok: true, count: 4 });
    expect(parseConnectorCount('5', 4).ok).toBe(false);
  });

  it('keeps the reason short for a huge number', () => {
    const parsed = parseConnectorCount('9'.repeat(10_000), MAX);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason.length).toBeLessThan(100);
  });
});

describe('parseMessage', () => {
  it('returns the device id and the count of a valid message', () => {
    expect(parseMessage(topicFor('ab12-cd34'), '4', MAX)).toEqual({ ok: true, value: { deviceId: 'ab12-cd34', connectors: 4 } });
  });

  it('rejects a topic of another shape, whatever the payload', () => {
    const parsed = parseMessage('acc/sweet-home/dev/status-control', '2', MAX);
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/topic is not/) });
  });

  it('rejects a bad payload on a good topic', () => {
    const parsed = parseMessage(topicFor('ab12'), '2.5', MAX);
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/not a whole number/) });
  });

  it('applies its maxConnectors to the payload', () => {
    expect(parseMessage(topicFor('ab12'), '9', 8)).toEqual({ ok: false, reason: expect.stringMatching(/above MAX_CONNECTORS \(8\)/) });
  });
});

describe('keepHighest', () => {
  function highest(messages: [string, number][]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [deviceId, connectors] of messages) keepHighest(counts, { deviceId, connectors });
    return counts;
  }

  it.each([
    ['rising', [2, 3], 3],
    ['falling', [3, 2], 3],
    ['up and down', [2, 4, 1], 4],
    ['repeated', [2, 2, 2], 2],
    ['zero only', [0], 0],
    ['zero after a count', [3, 0], 3],
  ])('keeps the highest of a device seen %s', (_case, counts, expected) => {
    expect(highest(counts.map((c): [string, number] => ['dev', c])).get('dev')).toBe(expected);
  });

  it('keeps each device apart', () => {
    const counts = highest([
      ['6r43-lnud-2u11-oa8z', 2],
      ['ab12-cd34-ef56-gh78', 4],
      ['6r43-lnud-2u11-oa8z', 3],
      ['ab12-cd34-ef56-gh78', 1],
    ]);
    expect([...counts.entries()]).toEqual([
      ['6r43-lnud-2u11-oa8z', 3],
      ['ab12-cd34-ef56-gh78', 4],
    ]);
  });
});

describe('excerpt', () => {
  it.each([
    ['an escape sequence', '\x1b[31mred', '?[31mred'],
    ['a newline and a carriage return', 'a\r\nb', 'a??b'],
    ['a tab', 'a\tb', 'a?b'],
    ['a NUL', 'a\x00b', 'a?b'],
    ['a DEL', 'a\x7fb', 'a?b'],
  ])('replaces %s', (_case, text, expected) => {
    expect(excerpt(text)).toBe(expected);
  });

  // U+009B is CSI: terminals that honour C1 controls read `\u009b31m` as "red".
  it.each([
    ['a C1 CSI', 'a\u009b31mb', 'a?31mb'],
    ['a C1 NEL', 'a\u0085b', 'a?b'],
  ])('replaces %s (a C1 control)', (_case, text, expected) => {
    expect(excerpt(text)).toBe(expected);
  });

  it('leaves printable text, including non-ASCII, as it is', () => {
    expect(excerpt('Beta Station — 2 connectors ✓')).toBe('Beta Station — 2 connectors ✓');
  });

  it('keeps text of exactly the limit whole', () => {
    expect(excerpt('x'.repeat(200))).toBe('x'.repeat(200));
  });

  it('cuts text above the limit (200 by default) and marks the cut', () => {
    expect(excerpt('x'.repeat(201))).toBe(`${'x'.repeat(200)}…`);
  });

  it('cuts at the limit it is given', () => {
    expect(excerpt('abcdefgh', 3)).toBe('abc…');
  });

  it('replaces control characters before cutting', () => {
    expect(excerpt('\n'.repeat(10), 4)).toBe('????…');
  });
});
