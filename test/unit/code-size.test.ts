import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../../tools/repo-root';

/** Issue 14's measures of src/: no file above 300 lines, and no top-level folder above a fifth of the code. */
const src = join(repoRoot(__dirname), 'src');
const MAX_FILE_LINES = 300;
const MAX_GROUP_SHARE = 1 / 5;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** As `wc -l` counts them: the newlines. */
const lineCount = (path: string): number => readFileSync(path, 'utf8').split('\n').length - 1;

/** A top-level folder of src/ (`cli/`), or a top-level file as a group of its own (`shared.ts`). */
const groupOf = (file: string): string => {
  const [first, ...rest] = file.split('/');
  return rest.length > 0 ? `${first}/` : first!;
};

describe('the size of src/', () => {
  const files = sourceFiles(src).map((path) => ({ file: relative(src, path).split('\\').join('/'), lines: lineCount(path) }));
  const total = files.reduce((sum, { lines }) => sum + lines, 0);

  it('is read whole', () => {
    expect(files.map(({ file }) => file)).toEqual(expect.arrayContaining(['cli/main.ts', 'shared.ts', 'config/index.ts']));
    expect(total).toBeGreaterThan(1000);
  });

  it(`has no file above ${MAX_FILE_LINES} lines`, () => {
    expect(files.filter(({ lines }) => lines > MAX_FILE_LINES)).toEqual([]);
  });

  it('has no top-level folder holding more than a fifth of the code', () => {
    const groups = new Map<string, number>();
    for (const { file, lines } of files) groups.set(groupOf(file), (groups.get(groupOf(file)) ?? 0) + lines);
    const tooLarge = [...groups].filter(([, lines]) => lines > total * MAX_GROUP_SHARE).map(([group, lines]) => `${group} ${lines} of ${total} lines`);
    expect(tooLarge).toEqual([]);
  });
});
