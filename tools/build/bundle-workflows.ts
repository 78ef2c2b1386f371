/**
 * Bundles the compiled workflow code once, at build time (`npm run build`), into dist/workflow-bundle.js: the worker
 * loads it instead of running webpack at every start (seconds of CPU, and webpack's report in the log). Skipped when
 * nothing it could include changed since the last bundle (the compiled product and the SDK version, hashed), so that
 * repeated builds (each e2e file builds) cost no webpack run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { repoRoot } from '../repo-root';
import { WORKFLOW_BUNDLE_FILE } from '../../src/worker';

function javascriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return javascriptFiles(path);
    return entry.name.endsWith('.js') && entry.name !== WORKFLOW_BUNDLE_FILE ? [path] : [];
  });
}

function inputsHash(root: string, dist: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(root, 'package-lock.json')));
  for (const file of javascriptFiles(dist).sort()) hash.update(relative(dist, file)).update(readFileSync(file));
  return hash.digest('hex');
}

async function main(): Promise<void> {
  const root = repoRoot();
  const dist = join(root, 'dist');
  const bundle = join(dist, WORKFLOW_BUNDLE_FILE);
  const stamp = `${bundle}.sha256`;
  const hash = inputsHash(root, dist);
  if (existsSync(bundle) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  const { code } = await bundleWorkflowCode({ workflowsPath: join(dist, 'workflows'), logger: new DefaultLogger('WARN') });
  writeFileSync(bundle, code);
  writeFileSync(stamp, hash);
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle-workflows: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
