import { Writable } from 'node:stream';
import { backlogBelow, createConsoleLog, formatRecord, redactor, type LogRecord } from '../../src/log';
import { RuntimeLogger } from '../../src/temporal/runtime';

const time = new Date('2026-11-28T21:00:00.123Z');
const inRun: LogRecord = { time, level: 'info', msg: 'Connected to MQTT broker', context: { workflowId: 'wf-1', runId: 'run-1', activity: 'collectConnectorCounts', attempt: 2 } };

describe('formatRecord', () => {
  test('text: ISO time, level, workflow id, then the original wording unchanged', () => {
    expect(formatRecord(inRun, 'text')).toBe('2026-11-28T21:00:00.123Z INFO  [wf-1] Connected to MQTT broker');
    expect(formatRecord({ time, level: 'error', msg: 'x' }, 'text')).toBe('2026-11-28T21:00:00.123Z ERROR x');
  });

  test('text: fields after the wording; JSON-only metadata left out', () => {
    const record: LogRecord = { time, level: 'warn', msg: 'Approval refused', fields: { by: 'bob' }, jsonOnly: { namespace: 'default' } };
    expect(formatRecord(record, 'text')).toBe('2026-11-28T21:00:00.123Z WARN  Approval refused {"by":"bob"}');
  });

  test('json: one object with time, level, msg, the run, and the fields; a field never overwrites them', () => {
    const line = formatRecord({ ...inRun, fields: { msg: 'overwrite?', state: 'RUNNING', big: 10n }, jsonOnly: { namespace: 'default' } }, 'json');
    expect(JSON.parse(line)).toEqual({
      time: '2026-11-28T21:00:00.123Z',
      level: 'info',
      msg: 'Connected to MQTT broker',
      workflowId: 'wf-1',
      runId: 'run-1',
      activity: 'collectConnectorCounts',
      attempt: 2,
      namespace: 'default',
      state: 'RUNNING',
      big: '10',
    });
  });
});

describe('redactor', () => {
  test.each([
    ['text', 'password p@ss"w0rd! in a line', 'password *** in a line'],
    ['json-escaped', JSON.stringify({ msg: 'p@ss"w0rd!' }), '{"msg":"***"}'],
  ])('replaces a secret in its %s form', (_form, line, expected) => {
    expect(redactor(['p@ss"w0rd!'])(line)).toBe(expected);
  });

  test('ignores secrets too short to be told from words', () => {
    expect(redactor(['ab', ''])('about')).toBe('about');
  });
});

describe('backlogBelow (a plan that logs a great many lines waits for standard output)', () => {
  /** A stream whose reader takes each chunk only when told to. */
  function slowStream(): { stream: Writable; take: () => void } {
    const pending: (() => void)[] = [];
    const stream = new Writable({ highWaterMark: 8, write: (_chunk, _encoding, callback) => pending.push(callback) });
    return { stream, take: () => pending.shift()?.() };
  }

  it('resolves at once while the backlog is within the limit', async () => {
    const { stream } = slowStream();
    stream.write('0123456789');
    await expect(backlogBelow(stream, 10)).resolves.toBeUndefined();
  });

  it('waits above the limit until the reader has taken everything', async () => {
    const { stream, take } = slowStream();
    for (let i = 0; i < 3; i++) stream.write('0123456789');
    let drained = false;
    const waiting = backlogBelow(stream, 15).then(() => {
      drained = true;
    });
    take();
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    take();
    take();
    await waiting;
    expect(stream.writableLength).toBe(0);
  });

  it('a log with its own writer never waits', async () => {
    await expect(createConsoleLog({ write: () => undefined }).drained?.()).resolves.toBeUndefined();
  });
});

describe('createConsoleLog', () => {
  test('debug lines only at LOG_LEVEL=debug; errors on their own stream; the context of the current activity', () => {
    const out: string[] = [];
    const err: string[] = [];
    const options = { write: (l: string) => out.push(l), writeError: (l: string) => err.push(l), format: 'json' as const, context: () => ({ workflowId: 'wf-2' }) };
    const info = createConsoleLog({ ...options, level: 'info' });
    info.debug('topic :>>  a/b');
    info.info('Found 3 charging stations');
    info.error('=== Failed ===');
    createConsoleLog({ ...options, level: 'debug' }).debug('topic :>>  a/b');
    expect(out.map((l) => JSON.parse(l) as { msg: string; workflowId: string }).map((l) => `${l.workflowId} ${l.msg}`)).toEqual(['wf-2 Found 3 charging stations', 'wf-2 topic :>>  a/b']);
    expect(err.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(['error']);
  });
});

describe("an operator line's fields", () => {
  const lines = (format: 'json' | 'text'): string[] => {
    const out: string[] = [];
    const log = createConsoleLog({ write: (l) => out.push(l), writeError: (l) => out.push(l), format, level: 'info', context: () => ({ workflowId: 'wf-4' }) });
    log.info('Mismatch! Expected 3, but found 1 points', { deviceId: '6r43-lnud', stationId: '17', expected: 3, found: 1 });
    log.warn('The broker dropped 20 messages (all its clients) while this collector listened: devices may be missing', { dropped: 20 });
    return out;
  };

  test('are keys of the JSON line, beside the original wording', () => {
    expect(lines('json').map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'info', msg: 'Mismatch! Expected 3, but found 1 points', workflowId: 'wf-4', deviceId: '6r43-lnud', stationId: '17', expected: 3, found: 1 }),
      expect.objectContaining({ level: 'warn', dropped: 20 }),
    ]);
  });

  test('leave the text line as the original tool wrote it', () => {
    expect(lines('text').map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'INFO  [wf-4] Mismatch! Expected 3, but found 1 points',
      'WARN  [wf-4] The broker dropped 20 messages (all its clients) while this collector listened: devices may be missing',
    ]);
  });
});

describe('RuntimeLogger (the SDK lines)', () => {
  test('takes the run from the SDK metadata and keeps the rest as fields', () => {
    const records: LogRecord[] = [];
    new RuntimeLogger((r) => records.push(r)).warn('Approval refused', { workflowId: 'wf-3', runId: 'r-3', namespace: 'default', sdkComponent: 'workflow', by: 'eve' });
    expect(records[0]).toMatchObject({ level: 'warn', msg: 'Approval refused', context: { workflowId: 'wf-3', runId: 'r-3' }, fields: { by: 'eve' }, jsonOnly: { namespace: 'default', sdkComponent: 'workflow' } });
  });
});
