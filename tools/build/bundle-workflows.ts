/**
 * Bundles the compiled workflow code once, at build time (`npm run build`), into dist/workflow-bundle.js: the worker
 * loads it instead of running webpack at every start (seconds of CPU, and webpack's report in the log).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { repoRoot } from '../repo-root';
import { WORKFLOW_BUNDLE_FILE } from '../../src/worker';

async function main(): Promise<void> {
  const dist = join(repoRoot(), 'dist');
  const { code } = await bundleWorkflowCode({ workflowsPath: join(dist, 'workflows'), logger: new DefaultLogger('WARN') });
  writeFileSync(join(dist, WORKFLOW_BUNDLE_FILE), code);
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle-workflows: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
