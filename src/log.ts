/**
 * The worker's log: the original tool's lines, worded as its user guide shows them (operators grep for them), each
 * with when, how bad and which run. `text` puts `<ISO time> <LEVEL> [<workflow id>]` before the unchanged wording;
 * `json` writes one object per line (time, level, msg, workflowId, runId, activity, attempt, and the line's
 * fields) for Loki or ELK. Temporal's own lines take the same road (temporal/runtime.ts).
 * `debug` adds the per-message and per-device lines that a large fleet does not want by default.
 */
import type { Writable } from 'node:stream';
import type { LogFormat, LogLevel } from './config';

/** What a line is about (deviceId, stationId, expected, found, topic, reason, created, …): keys of a JSON line. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * What the activity call sites use: a line, worded for people, and what it is about. The fields are written with
 * LOG_FORMAT=json only: the text line keeps the original tool's wording, which operators grep for.
 */
export interface Log {
  info(line: string, fields?: LogFields): void;
  debug(line: string, fields?: LogFields): void;
  warn(line: string, fields?: LogFields): void;
  error(line: string, fields?: LogFields): void;
  /**
   * Resolves once the lines written so far have (nearly) left the process. A producer of a great many lines awaits it
   * between batches: standard output to a pipe is asynchronous, and what the reader has not taken yet stays in memory.
   */
  drained?(): Promise<void>;
}

export type RecordLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Which run a line belongs to: known inside an activity or a workflow, absent for the worker's own lines. */
export interface LogContext {
  workflowId?: string;
  runId?: string;
  activity?: string;
  attempt?: number;
}

export interface LogRecord {
  time: Date;
  level: RecordLevel;
  msg: string;
  context?: LogContext;
  fields?: Record<string, unknown>;
  /** Written in JSON only: what every line of the worker repeats (namespace, task queue, …). */
  jsonOnly?: Record<string, unknown>;
}

const RANK: Record<RecordLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };
const LEVEL_COLUMN: Record<RecordLevel, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };

export function shouldLog(level: RecordLevel, threshold: LogLevel): boolean {
  return RANK[level] >= RANK[threshold];
}

/** A plan logs thousands of lines a millisecond apart: each millisecond's ISO text is made once. */
let lastTime = { ms: NaN, iso: '' };
function isoTime(time: Date): string {
  const ms = time.getTime();
  if (ms !== lastTime.ms) lastTime = { ms, iso: time.toISOString() };
  return lastTime.iso;
}

/** One line, without its newline, with every known secret replaced by `***`. */
export function formatRecord(record: LogRecord, format: LogFormat, redact: (line: string) => string = (line) => line): string {
  const { workflowId, runId, activity, attempt } = record.context ?? {};
  if (format === 'json') {
    const line: Record<string, unknown> = { time: isoTime(record.time), level: record.level, msg: record.msg, workflowId, runId, activity, attempt };
    // A field never overwrites the line's own keys.
    for (const [key, value] of Object.entries({ ...record.jsonOnly, ...record.fields })) if (!(key in line)) line[key] = value;
    return redact(JSON.stringify(line, jsonSafe));
  }
  const run = workflowId !== undefined ? ` [${workflowId}]` : '';
  const fields = record.fields !== undefined && Object.keys(record.fields).length > 0 ? ` ${JSON.stringify(record.fields, jsonSafe)}` : '';
  return redact(`${isoTime(record.time)} ${LEVEL_COLUMN[record.level]}${run} ${record.msg}${fields}`);
}

/** Errors and big integers as readable values instead of `{}` or a thrown TypeError. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * Replaces each secret (at least 4 characters: shorter ones would blank ordinary words) in a line, in its raw and in
 * its JSON-escaped form. The lines are written not to hold secrets; this is the net under them.
 */
export function redactor(secrets: readonly string[]): (line: string) => string {
  const forms = [...new Set(secrets.filter((s) => s.length >= 4).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (line) => line;
  // Almost no line holds a secret: a search costs a plan's million lines far less than a split and a join each.
  return (line) => forms.reduce((out, secret) => (out.includes(secret) ? out.split(secret).join('***') : out), line);
}

export interface LogSink {
  format: LogFormat;
  level: LogLevel;
  /** Secret values that must never be written. */
  secrets?: readonly string[];
  /** Errors and warnings; stderr by default. */
  writeError?: (line: string) => void;
  /** Everything else; stdout by default. */
  write?: (line: string) => void;
}

/**
 * Standard output, a write per turn of the event loop instead of a write per line: a plan of a large fleet logs a
 * hundred thousand lines in a second or two, and as many writes cost more than the plan. Lines wait at most until
 * the current turn ends (or 64 KiB gather), and are written before any line to standard error (so both streams
 * keep their order when an operator merges them) and at exit.
 */
class StdoutLines {
  private lines: string[] = [];
  private bytes = 0;
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor() {
    process.on('exit', this.flushNow);
  }

  write(line: string): void {
    this.lines.push(line);
    this.bytes += line.length + 1;
    if (this.bytes >= 64 * 1024) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    this.bytes = 0;
    process.stdout.write(text);
  }
}

/**
 * Standard output's backlog (bytes written but not yet taken by the reader) above which `stdoutDrained` waits. A
 * pipe's writes are asynchronous on Linux, so without a bound a plan's million lines, logged faster than the reader
 * reads, are held in memory: at 1,000,000 devices the close of a plan built during the window writes ~1,050,000
 * lines in a few seconds, and alone peaked at 629 MiB unbounded against 201 MiB bounded (docs/performance.md).
 */
const STDOUT_BACKLOG_BYTES = 4 * 1024 * 1024;

/** Resolves at once when at most `limit` bytes wait in `stream`, else once it has drained (or closed, or failed). */
export function backlogBelow(stream: Writable, limit: number): Promise<void> {
  if (stream.writableLength <= limit) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of ['drain', 'close', 'error'] as const) stream.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error'] as const) stream.once(event, done);
  });
}

function stdoutDrained(): Promise<void> {
  stdoutLines?.flush();
  return backlogBelow(process.stdout, STDOUT_BACKLOG_BYTES);
}

let stdoutLines: StdoutLines | undefined;
const toStdout = (line: string): void => (stdoutLines ??= new StdoutLines()).write(line);
const toStderr = (line: string): void => {
  stdoutLines?.flush();
  process.stderr.write(`${line}\n`);
};

/** Writes records: the one place where a worker line is formatted and redacted. */
export function createLogWriter(sink: LogSink): (record: LogRecord) => void {
  const redact = redactor(sink.secrets ?? []);
  const write = sink.write ?? toStdout;
  const writeError = sink.writeError ?? toStderr;
  return (record) => {
    if (!shouldLog(record.level, sink.level)) return;
    const line = formatRecord(record, sink.format, redact);
    if (RANK[record.level] >= RANK.warn) writeError(line);
    else write(line);
  };
}

export interface ConsoleLogOptions extends Partial<LogSink> {
  /** The run the current line belongs to (the worker passes the activity's context, see activities/log-context.ts). */
  context?: () => LogContext | undefined;
}

export function createConsoleLog(options: ConsoleLogOptions = {}): Log {
  const write = createLogWriter({ format: 'text', level: 'info', ...options });
  const line = (level: RecordLevel) => (msg: string, fields?: LogFields) => write({ time: new Date(), level, msg, context: options.context?.(), jsonOnly: fields });
  const drained = options.write === undefined ? stdoutDrained : () => Promise.resolve();
  return { info: line('info'), debug: line('debug'), warn: line('warn'), error: line('error'), drained };
}

export const silentLog: Log = { info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined };
