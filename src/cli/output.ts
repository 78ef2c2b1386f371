/**
 * Where a command's document goes: stdout, or `--output FILE`. Writes are chunked and wait for the stream to drain, so a
 * document of any size passes through with bounded memory. A file is written beside its target under a temporary name
 * and renamed into place only once complete: a reader never sees half a plan, and a failed export leaves no file.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CliError, EXIT } from '../domain/exit-codes';

const CHUNK_CHARS = 64 * 1024;

export interface Output {
  /** Queues text; resolves once it is buffered or, when the stream is full, once the stream has drained. */
  write(text: string): Promise<void>;
  /** Flushes and, for a file, renames it into place. */
  commit(): Promise<void>;
  /** Drops what was written (a file's temporary copy is removed). */
  abort(): Promise<void>;
  /** What the output is, for messages: `stdout` or the file's path. */
  readonly name: string;
}

/** Joins small writes into chunks and applies the stream's backpressure. */
class ChunkedStream {
  private pending: string[] = [];
  private size = 0;
  private failure: Error | undefined;

  constructor(
    readonly stream: NodeJS.WritableStream,
    private readonly describeError: (err: Error) => Error,
  ) {
    stream.on('error', (err: Error) => {
      this.failure ??= describeError(err);
    });
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.size += text.length;
    if (this.size >= CHUNK_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.size === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await this.drained();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private async drained(): Promise<void> {
    try {
      await once(this.stream, 'drain');
    } catch (err) {
      throw this.failure ?? this.describeError(err as Error);
    }
  }
}

export function stdoutOutput(): Output {
  const out = new ChunkedStream(process.stdout, (err) => new CliError(`stdout closed before the document was written whole (${err.message})`, EXIT.failed));
  return {
    name: 'stdout',
    write: (text) => out.write(text),
    commit: () => out.flush(),
    abort: () => Promise.resolve(),
  };
}

/** `--output FILE`: every error names the path. */
export function fileOutput(path: string): Output {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const failed = (err: Error): CliError => new CliError(`--output ${path}: ${err.message}`, EXIT.failed);
  // 'wx': never follow or overwrite an existing file under the temporary name; flush: on disk before the rename.
  const stream: WriteStream = createWriteStream(temporary, { flags: 'wx', mode: 0o644, flush: true });
  const out = new ChunkedStream(stream, failed);
  const opened = new Promise<void>((resolve) => {
    stream.once('open', () => resolve());
    stream.once('error', () => resolve());
  });
  return {
    name: path,
    write: (text) => out.write(text),
    commit: async () => {
      await opened;
      await out.flush();
      // end() flushes what is buffered; 'finish' comes once it is handed to the file, 'close' once the file is closed.
      stream.end();
      try {
        await once(stream, 'close');
      } catch (err) {
        throw failed(err as Error);
      }
      if (stream.errored) throw failed(stream.errored);
      try {
        await rename(temporary, path);
      } catch (err) {
        await unlink(temporary).catch(() => undefined);
        throw failed(err as Error);
      }
    },
    abort: async () => {
      await opened;
      // A stream that failed has closed already (and will not say so again).
      if (!stream.closed) {
        const closed = once(stream, 'close').catch(() => undefined);
        stream.destroy();
        await closed;
      }
      await unlink(temporary).catch(() => undefined);
    },
  };
}

/** Writes with `write` to `output`; commits on success, aborts (no partial file) on failure. */
export async function writeTo(output: Output, write: (output: Output) => Promise<void>): Promise<void> {
  try {
    await write(output);
    await output.commit();
  } catch (err) {
    await output.abort();
    throw err;
  }
}
