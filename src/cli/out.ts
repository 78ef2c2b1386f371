/**
 * Where the CLI's short answers go: one JSON document, or lines for people. A command that prints JSON keeps stdout
 * for it alone, so its lines for people go to stderr (`sayer`). Long documents (plan exports) go through output.ts.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(lines: readonly string[], stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(`${lines.join('\n')}\n`);
}

/** Lines for people: stdout, or stderr when stdout carries JSON. */
export type Say = (lines: readonly string[]) => void;

export function sayer(json: boolean | undefined): Say {
  return (lines) => printLines(lines, json ? process.stderr : process.stdout);
}

/** A note beside the output (warnings, schema check notes): always stderr. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * A reader that stopped reading (`cp-sync prune --dry-run | head`) is no error of the command: what it still writes
 * is dropped, and it ends with its own exit status, not a stack trace of EPIPE. Any other stream error stays one.
 */
const guarded = new WeakSet<NodeJS.WritableStream>();

export function ignoreClosedReader(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}
