/**
 * What each target of the Dockerfile would contain, computed without Docker (none runs on the development and CI
 * machines): the build context honouring .dockerignore, each stage's COPY instructions, and a model of the few RUN
 * commands the Dockerfile uses (npm ci, npm run build, npm prune --omit=dev). An unknown RUN command is an error,
 * so a Dockerfile change cannot slip past the model. `productImageProblems` says what must never ship.
 *   node dist-tools/tools/compose/image-files.js [--target tools]     prints the list
 */
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from '../repo-root';

export interface CopyInstruction {
  from?: string;
  sources: string[];
  dest: string;
}

export interface Stage {
  name?: string;
  base: string;
  workdir: string;
  user?: string;
  healthcheck: boolean;
  steps: ({ kind: 'copy'; copy: CopyInstruction; workdir: string } | { kind: 'run'; command: string; workdir: string })[];
}

/** The Dockerfile's stages in order (line continuations joined, comments dropped, ARG defaults substituted in FROM). */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const body = line.slice(keyword.length).trim();
    const stage = stages[stages.length - 1];
    switch (keyword.toUpperCase()) {
      case 'ARG': {
        const [name, value] = body.split('=', 2);
        if (stage === undefined && name !== undefined && value !== undefined) args.set(name, value);
        break;
      }
      case 'FROM': {
        const base = (rest[0] ?? '').replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => args.get(name) ?? '');
        const as = rest.findIndex((word) => word.toUpperCase() === 'AS');
        // A stage built on an earlier one starts from its working directory (imageFiles: and its files).
        const parent = stages.find((earlier) => earlier.name === base);
        stages.push({ base, name: as >= 0 ? rest[as + 1] : undefined, workdir: parent?.workdir ?? '/', user: parent?.user, healthcheck: parent?.healthcheck ?? false, steps: [] });
        break;
      }
      case 'WORKDIR':
        if (stage) stage.workdir = path.posix.resolve(stage.workdir, body);
        break;
      case 'USER':
        if (stage) stage.user = body;
        break;
      case 'HEALTHCHECK':
        if (stage) stage.healthcheck = !/^NONE$/i.test(body);
        break;
      case 'RUN':
        stage?.steps.push({ kind: 'run', command: body, workdir: stage.workdir });
        break;
      case 'COPY':
      case 'ADD': {
        const words = rest.filter((word) => !word.startsWith('--') || word.startsWith('--from='));
        const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((word) => !word.startsWith('--from='));
        stage?.steps.push({ kind: 'copy', copy: { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] ?? '.' }, workdir: stage.workdir });
        break;
      }
      default:
        break;
    }
  }
  return stages;
}

/** .dockerignore as Docker reads it: patterns relative to the context, `**`, `*`, `?`, `!` to re-include, last match wins. */
export function dockerignore(text: string): (relativePath: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = path.posix.normalize((negated ? line.slice(1) : line).replace(/^\/+/, ''));
      const regex = pattern
        .split('/')
        .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/');
      return { negated, regex: new RegExp(`^${regex}(/.*)?$`) };
    });
  return (relativePath) => {
    let ignored = false;
    for (const rule of rules) if (rule.regex.test(relativePath)) ignored = !rule.negated;
    return ignored;
  };
}

/** The files of the build context (paths relative to it), without what .dockerignore excludes. */
export function contextFiles(root: string, ignored: (relativePath: string) => boolean): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
      // A directory ignored as a whole is not entered (node_modules, .git); .dockerignore's `!` lines here re-include files only.
      if (entry.isDirectory()) {
        if (!ignored(relative)) walk(relative);
      } else if (!ignored(relative)) {
        files.push(relative);
      }
    }
  };
  walk('');
  return files.sort();
}

/** Package directories of package-lock.json (`node_modules/x`, nested too), with whether they are dev-only. */
function lockPackages(root: string): { dir: string; dev: boolean }[] {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([dir]) => dir.startsWith('node_modules/'))
    .map(([dir, info]) => ({ dir, dev: info.dev === true }));
}

/** What `tsc` writes for the TypeScript sources under `prefixes`, into `outDir` relative to `rootDir`. */
function compiled(files: string[], prefixes: string[], rootDir: string, outDir: string): string[] {
  return files
    .filter((file) => prefixes.some((prefix) => file.startsWith(prefix)) && file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .flatMap((file) => {
      const out = path.posix.join(outDir, path.posix.relative(rootDir, file).replace(/\.ts$/, '.js'));
      return [out, `${out}.map`];
    });
}

type FileSystem = Set<string>;

/** Applies a RUN command the model knows to a stage's files; throws on any other. */
function run(command: string, workdir: string, files: FileSystem, root: string): void {
  const inWorkdir = (p: string): string => path.posix.join(workdir, p);
  const relativeFiles = [...files].filter((f) => f.startsWith(`${workdir}/`)).map((f) => f.slice(workdir.length + 1));
  for (const part of command.split('&&').map((c) => c.trim())) {
    if (/^npm ci\b/.test(part)) {
      if (!files.has(inWorkdir('package-lock.json'))) throw new Error(`RUN ${part}: no package-lock.json in ${workdir}`);
      const omitDev = /--omit=dev\b/.test(part);
      for (const pkg of lockPackages(root)) if (!(omitDev && pkg.dev)) files.add(inWorkdir(`${pkg.dir}/`));
    } else if (/^npm prune --omit=dev\b/.test(part)) {
      for (const pkg of lockPackages(root)) if (pkg.dev) files.delete(inWorkdir(`${pkg.dir}/`));
    } else if (part === 'npm run build') {
      // package.json's build: tsc -p tsconfig.build.json (src → dist), tsc -p tools/tsconfig.json (tools and the src
      // they import → dist-tools), then the workflow bundle into dist/.
      for (const out of compiled(relativeFiles, ['src/'], 'src', 'dist')) files.add(inWorkdir(out));
      for (const out of compiled(relativeFiles, ['src/', 'tools/'], '.', 'dist-tools')) files.add(inWorkdir(out));
      files.add(inWorkdir('dist/workflow-bundle.js'));
      files.add(inWorkdir('dist/workflow-bundle.js.sha256'));
    } else {
      throw new Error(`the image model does not know RUN ${part}: teach tools/compose/image-files.ts what it writes`);
    }
  }
}

/** Every file (and, ending in `/`, every installed package) that `target` (default: the last stage) would contain. */
export function imageFiles(dockerfileText: string, dockerignoreText: string, root: string, target?: string): string[] {
  const stages = parseDockerfile(dockerfileText);
  const context = contextFiles(root, dockerignore(dockerignoreText));
  const built = new Map<string, FileSystem>();
  let last: FileSystem = new Set();
  for (const stage of stages) {
    const files: FileSystem = new Set(built.get(stage.base) ?? []);
    for (const step of stage.steps) {
      if (step.kind === 'run') {
        run(step.command, step.workdir, files, root);
        continue;
      }
      const { from, sources, dest } = step.copy;
      const destination = path.posix.resolve(step.workdir, dest);
      const origin = from === undefined ? new Set(context.map((f) => `/${f}`)) : built.get(from);
      if (origin === undefined) throw new Error(`COPY --from=${from}: no such stage before it`);
      for (const source of sources) {
        const base = path.posix.resolve(from === undefined ? '/' : step.workdir, source);
        const matches = [...origin].filter((f) => f === base || f.startsWith(`${base === '/' ? '' : base}/`));
        if (matches.length === 0) throw new Error(`COPY ${source}: nothing to copy${from === undefined ? ' (missing, or excluded by .dockerignore)' : ` in stage ${from}`}`);
        for (const file of matches) {
          const single = sources.length === 1 && file === base && !dest.endsWith('/');
          files.add(single ? destination : path.posix.join(destination, file === base ? path.posix.basename(file) : file.slice(base.length + (base === '/' ? 0 : 1))));
        }
      }
    }
    if (stage.name !== undefined) built.set(stage.name, files);
    last = files;
    if (target !== undefined && stage.name === target) return [...files].sort();
  }
  if (target !== undefined) throw new Error(`no stage named ${target}`);
  return [...last].sort();
}

/** Tools, tests, sources, dev dependencies and the demo schema: none of them belongs in the product image. */
export function productImageProblems(files: string[], devPackages: string[]): string[] {
  const problems: string[] = [];
  const tool = /(^|\/)(dist-tools|tools|test|sql|scripts|\.git)\/|simulator|seed-demo|demo-fleet|ocpp-schema|benchmark|check-compose|record-history|bundle-workflows|image-files|\.ts$/;
  for (const file of files) {
    if (file.includes('/node_modules/')) continue;
    if (tool.test(file)) problems.push(`${file}: a tool, test or source file in the product image`);
  }
  // Package paths as package-lock.json has them (node_modules/a/node_modules/b), from the first node_modules on.
  const dev = new Set(devPackages.map((dir) => `${dir}/`));
  for (const file of files) {
    const start = file.indexOf('node_modules/');
    if (start >= 0 && dev.has(file.slice(start))) problems.push(`${file}: a dev dependency in the product image`);
  }
  return problems;
}

/** The dev-only package directories of package-lock.json. */
export function devPackages(root: string): string[] {
  return lockPackages(root)
    .filter((pkg) => pkg.dev)
    .map((pkg) => pkg.dir);
}

function main(argv: string[]): number {
  const root = repoRoot();
  const targetIndex = argv.indexOf('--target');
  const target = targetIndex >= 0 ? argv[targetIndex + 1] : undefined;
  const files = imageFiles(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8'), fs.readFileSync(path.join(root, '.dockerignore'), 'utf8'), root, target);
  process.stdout.write(`${files.join('\n')}\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
