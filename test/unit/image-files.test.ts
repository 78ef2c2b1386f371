import * as fs from 'fs';
import * as path from 'path';
import { devPackages, dockerignore, imageFiles, parseDockerfile, productImageProblems } from '../../tools/compose/image-files';

const root = path.resolve(__dirname, '..', '..');
const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const ignore = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8');
const dev = devPackages(root);

describe('the product image (the Dockerfile\'s default target)', () => {
  const files = imageFiles(dockerfile, ignore, root);

  test('holds the compiled product, its workflow bundle and production dependencies only', () => {
    expect(productImageProblems(files, dev)).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['/app/package.json', '/app/dist/cli/main.js', '/app/dist/worker.js', '/app/dist/workflow-bundle.js', '/app/node_modules/mqtt/', '/app/node_modules/mysql2/', '/app/node_modules/@temporalio/worker/']));
    expect(files.filter((f) => !f.startsWith('/app/dist/') && !f.startsWith('/app/node_modules/'))).toEqual(['/app/package-lock.json', '/app/package.json']);
  });

  test('has no dev dependency (yaml, typescript, jest, the SDK\'s test server)', () => {
    for (const pkg of ['yaml', 'typescript', 'jest', '@temporalio/testing', 'eslint']) expect(files).not.toContain(`/app/node_modules/${pkg}/`);
  });

  test('runs as a non-root user, with a HEALTHCHECK, on a pinned even-numbered (LTS) Node', () => {
    const product = parseDockerfile(dockerfile).at(-1)!;
    expect(product.user).toBe('node');
    expect(product.healthcheck).toBe(true);
    const base = parseDockerfile(dockerfile).find((stage) => stage.name === product.base)?.base ?? product.base;
    expect(base).toMatch(/^node:(\d+)\.\d+\.\d+-/);
    const major = Number(/^node:(\d+)/.exec(base)![1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
  });
});

describe('the tools target (the demo profile)', () => {
  test('adds the demo tools and the ocpp-db schema they seed', () => {
    const files = imageFiles(dockerfile, ignore, root, 'tools');
    expect(files).toEqual(expect.arrayContaining(['/app/dist-tools/tools/demo/simulator.js', '/app/dist-tools/tools/demo/seed-demo.js', '/app/sql/ocpp-schema.sql', '/app/dist/cli/main.js']));
  });
});

describe('what would slip a tool into the product image is caught', () => {
  const product = 'FROM node:24.11.1-bookworm-slim AS product\nWORKDIR /app\nCOPY --from=build /app/dist ./dist\n';
  const withBuild = (productStage: string): string => dockerfile.slice(0, dockerfile.indexOf('FROM ${NODE_IMAGE} AS runtime')) + productStage;

  test.each([
    ['copying the whole context', `${product}COPY . .\n`, /\/app\/tools\/demo\/simulator\.ts: a tool/],
    ['copying dist-tools', `${product}COPY --from=build /app/dist-tools ./dist-tools\n`, /dist-tools\/tools\/demo\/simulator\.js: a tool/],
    ['the demo schema', `${product}COPY sql ./sql\n`, /\/app\/sql\/ocpp-schema\.sql: a tool/],
    ['node_modules before the prune', product.replace('COPY --from=build /app/dist ./dist', 'COPY package.json package-lock.json ./\nRUN npm ci'), /node_modules\/yaml\/: a dev dependency/],
  ])('%s', (_case, productStage, problem) => {
    expect(productImageProblems(imageFiles(withBuild(productStage), ignore, root), dev)).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });

  test('a RUN command the model does not know fails instead of being ignored', () => {
    expect(() => imageFiles(withBuild(`${product}RUN curl -o x https://example.com\n`), ignore, root)).toThrow(/does not know RUN curl/);
  });

  test('a COPY of something .dockerignore excludes fails', () => {
    expect(() => imageFiles(withBuild(`${product}COPY test ./test\n`), ignore, root)).toThrow(/COPY test: nothing to copy/);
  });
});

describe('dockerignore', () => {
  test.each<[string, string, boolean]>([
    ['node_modules', 'node_modules/yaml/index.js', true],
    ['.env.*\n!.env.example', '.env.example', false],
    ['.env.*\n!.env.example', '.env.production', true],
    ['*.log', 'npm-debug.log', true],
    ['*.log', 'logs/x.log', false],
    ['**/*.log', 'logs/x.log', true],
    ['/dist', 'dist/cli/main.js', true],
    ['dist', 'src/dist.ts', false],
  ])('%j: %s ignored %s', (patterns, file, expected) => {
    expect(dockerignore(patterns)(file)).toBe(expected);
  });
});
