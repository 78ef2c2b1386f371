import { PassThrough } from 'node:stream';
import { ignoreClosedReader } from '../../src/cli/out';

const streamError = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`write ${code}`), { code });

describe('ignoreClosedReader: `cp-sync … | head` ends without a stack trace', () => {
  it('drops an EPIPE (the reader stopped reading) and a write after it, once guarded', () => {
    const stdout = new PassThrough();
    expect(() => stdout.emit('error', streamError('EPIPE'))).toThrow('write EPIPE');
    ignoreClosedReader(stdout);
    ignoreClosedReader(stdout);
    expect(stdout.listenerCount('error')).toBe(1);
    expect(() => stdout.emit('error', streamError('EPIPE'))).not.toThrow();
    expect(() => stdout.emit('error', streamError('ERR_STREAM_DESTROYED'))).not.toThrow();
  });

  it('keeps any other error of the stream an error', () => {
    const stdout = new PassThrough();
    ignoreClosedReader(stdout);
    expect(() => stdout.emit('error', streamError('ENOSPC'))).toThrow('write ENOSPC');
  });
});
