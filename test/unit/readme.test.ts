import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The README is the user's manual and docs/ holds the rest: these keep the two honest. The README stays short, links
 * every document in docs/, every relative link of either lands on a file and a heading that exist (sections move
 * between them), and the configuration table lists exactly the variables of .env.example.
 */
const root = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(path, 'utf8');
const readmePath = join(root, 'README.md');
const docsDir = join(root, 'docs');
const docPaths = readdirSync(docsDir)
  .filter((name) => name.endsWith('.md'))
  .map((name) => join(docsDir, name));

/** The lines outside fenced code blocks, so that a `# comment` in a shell example is not taken for a heading. */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6} (.+)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*_]/g, (mark) => (mark === '_' ? '_' : ''));
    const slug = text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The relative links of a document (web addresses left out), as written. */
function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const line of proseLines(markdown)) {
    for (const [, link = ''] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!/^[a-z]+:/i.test(link)) links.push(link);
    }
  }
  return links;
}

/** A link's file (empty: the same document) and its anchor, if any. */
function splitLink(link: string): { file: string; anchor?: string } {
  const hash = link.indexOf('#');
  return hash < 0 ? { file: link } : { file: link.slice(0, hash), anchor: link.slice(hash + 1) };
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const end = markdown.indexOf('\n## ', start + heading.length + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

describe('the README and docs/', () => {
  const readme = read(readmePath);

  it('keep the README a manual of at most 450 lines that tells how to run the tests', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(450);
    expect(section(readme, '## The two commands')).toMatch(/npm test +# runs the tests/);
  });

  it('link every document in docs/ from the README', () => {
    const linked = new Set(relativeLinks(readme).map((link) => resolve(root, splitLink(link).file)));
    expect(docPaths.filter((path) => !linked.has(path)).map((path) => relative(root, path))).toEqual([]);
  });

  it.each([readmePath, ...docPaths].map((path) => [relative(root, path), path]))('%s: every relative link lands on a file and heading that exist', (_, path) => {
    const broken = relativeLinks(read(path)).filter((link) => {
      const { file, anchor } = splitLink(link);
      const target = file === '' ? path : resolve(dirname(path), file);
      if (!existsSync(target)) return true;
      return anchor !== undefined && !headingAnchors(read(target)).has(anchor);
    });
    expect(broken).toEqual([]);
  });

  it('list exactly the variables of .env.example in the README configuration table', () => {
    const example = read(join(root, '.env.example'))
      .split('\n')
      .map((line) => /^#? ?([A-Z][A-Z0-9_]+)=/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    const documented = section(readme, '## Configuration')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]));
    expect(example.length).toBeGreaterThan(20);
    expect([...documented].sort()).toEqual([...new Set(example)].sort());
  });
});

describe('headingAnchors', () => {
  it("makes GitHub's anchors: code marks and punctuation dropped, repeats numbered", () => {
    const anchors = headingAnchors("## The tool's tables\n### `cp-sync status <workflowId>`\n```bash\n# not a heading\n```\n## Upgrading from 0.1\n## Notes\n## Notes\n");
    expect([...anchors]).toEqual(['the-tools-tables', 'cp-sync-status-workflowid', 'upgrading-from-01', 'notes', 'notes-1']);
  });
});
