import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvRecord } from '../../src/cli/plan-export';
import { fileOutput, writeTo } from '../../src/cli/output';
import { packageVersion } from '../../src/cli/version';
import { idInBlock, allocateIdBlock } from '../../src/domain/ids';

describe('csvRecord', () => {
  it('leaves plain fields bare and quotes fields with commas, quotes or line breaks, doubling the quotes', () => {
    expect(csvRecord(['Alpha', '42', 'A-1'])).toBe('Alpha,42,A-1\n');
    expect(csvRecord(['O\'Brien "Depot", Bay', '1,2', 'two\nlines', ''])).toBe('"O\'Brien ""Depot"", Bay","1,2","two\nlines",\n');
  });
});

describe('idInBlock', () => {
  it('gives the ids allocateIdBlock gives, one at a time', () => {
    const block = allocateIdBlock(41n, 3);
    expect([0, 1, 2].map((i) => idInBlock(41n, i))).toEqual(block);
    expect(idInBlock(null, 0)).toBe(1n);
  });

  it('refuses an id above 2^53 - 1, as the apply does', () => {
    expect(() => idInBlock(BigInt(Number.MAX_SAFE_INTEGER) - 1n, 1)).toThrow(/would pass 9007199254740991/);
  });
});

describe('fileOutput', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cps-output-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file only once the document is complete', async () => {
    const file = join(dir, 'plan.csv');
    writeFileSync(file, 'old\n');
    await writeTo(fileOutput(file), async (out) => {
      await out.write('a,b\n');
      await out.write('x'.repeat(200_000));
      // Past the chunk size, so written to the temporary file by now; the target is untouched.
      expect(readFileSync(file, 'utf8')).toBe('old\n');
      expect(readdirSync(dir)).toHaveLength(2);
    });
    expect(readFileSync(file, 'utf8')).toBe(`a,b\n${'x'.repeat(200_000)}`);
    expect(readdirSync(dir)).toEqual(['plan.csv']);
  });

  it('keeps the old file and leaves no temporary one when the export fails', async () => {
    const file = join(dir, 'plan.csv');
    writeFileSync(file, 'old\n');
    await expect(
      writeTo(fileOutput(file), async (out) => {
        await out.write('x'.repeat(200_000));
        throw new Error('database gone');
      }),
    ).rejects.toThrow('database gone');
    expect(readFileSync(file, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['plan.csv']);
  });

  it('names the path when the file cannot be written', async () => {
    const file = join(dir, 'missing', 'plan.csv');
    await expect(writeTo(fileOutput(file), (out) => out.write('a\n'))).rejects.toThrow(`--output ${file}: ENOENT`);
  });
});

describe('packageVersion', () => {
  it("is package.json's version", () => {
    expect(packageVersion()).toBe((JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version);
  });
});
