import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/** The layers above the run's store (store/), as import paths from a sibling folder of src/. */
const ABOVE_STORE = 'cli|client|workflows|activities|worker|worker-health';
/** The layers above the I/O ones (db/, mqtt/, temporal/). */
const ABOVE_IO = `store|${ABOVE_STORE}`;

/** Nothing in src/ imports the development tools or the tests (they are built apart, and never shipped). */
const NO_TOOLS_OR_TESTS = { regex: '^\\.{1,2}/(.*/)?(tools|test)(/|$)', message: 'src/ never imports tools/ or test/.' };

/**
 * One layer's import rule. ESLint keeps only the last no-restricted-imports setting that matches a file, so every
 * layer's setting carries the rule that holds for all of src/ as well.
 */
function layer(files, patterns, paths = []) {
  return { files, rules: { 'no-restricted-imports': ['error', { paths, patterns: [NO_TOOLS_OR_TESTS, ...patterns] }] } };
}

export default tseslint.config(
  { ignores: ['dist/', 'dist-tools/', 'node_modules/', '.venv/', '.stack/', 'coverage/', 'jest.config.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      eqeqeq: ['error', 'smart'],
    },
  },
  // The layers (docs/development.md):
  //   cli → client / worker → workflows → activities → store → mqtt / db / temporal → config / log → domain / shared.
  // Nothing imports upwards, and nothing in src/ imports the development tools or the tests.
  layer(['src/**/*.ts'], []),
  layer(['src/shared.ts', 'src/watch-shared.ts', 'src/metrics.ts'], [{ regex: '^\\.\\./|^\\./(?!shared$|domain/)', message: 'shared, watch-shared and metrics sit at the bottom: they import only domain/ and shared.' }]),
  layer(['src/config/**/*.ts'], [{ regex: '^\\.\\./(?!shared$|domain/)', message: 'config/ sits at the bottom: it imports only its own modules, domain/ and shared.' }]),
  layer(['src/log.ts'], [{ regex: '^\\.\\./|^\\./(?!shared$|domain/|config$)', message: 'The log imports only config, domain/ and shared.' }]),
  layer(['src/domain/**/*.ts'], [{ regex: '^\\.\\./(?!shared$|domain/)', message: 'domain/ decides from its inputs: it imports only domain/ and shared (no I/O, no config, no log).' }]),
  layer(['src/db/**/*.ts'], [{ regex: `^\\.\\./(mqtt|${ABOVE_IO})(/|$)`, message: 'db/ does I/O for the layers above it and imports none of them (nor mqtt/: shared types live in domain/).' }]),
  layer(['src/mqtt/**/*.ts'], [{ regex: `^\\.\\./(db|${ABOVE_IO})(/|$)`, message: 'mqtt/ does I/O for the layers above it and imports none of them (nor db/: shared types live in domain/).' }]),
  layer(['src/temporal/**/*.ts'], [{ regex: `^\\.\\./(db|mqtt|${ABOVE_IO})(/|$)`, message: 'temporal/ connects to the server for the layers above it and imports none of them.' }]),
  layer(['src/store/**/*.ts'], [{ regex: `^\\.\\./(mqtt|${ABOVE_STORE})(/|$)`, message: "store/ keeps the run's tables for the activities and the CLI and imports none of the layers above it (nor mqtt/)." }]),
  layer(['src/activities/**/*.ts'], [{ regex: '^\\.\\./(cli|client|workflows|worker|worker-health)(/|$)', message: 'Activities are called by the workflow and the worker: they import neither, nor the CLI or its client.' }]),
  layer(['src/client/**/*.ts'], [{ regex: '^\\.\\./(cli|worker|worker-health|activities|store|db|mqtt)(/|$)', message: "client/ talks to Temporal for the CLI: it imports neither the CLI nor the worker, and does no I/O of the worker's." }]),
  // The workflow sandbox is deterministic: no Node built-ins, no I/O libraries.
  layer(
    ['src/workflows/**/*.ts'],
    [
      { group: ['../activities', '../activities/*', '../store/*', '../db/*', '../mqtt/*', '../cli/*'], allowTypeImports: true, message: 'Workflows import activities as types only.' },
      { regex: '^\\.\\./(cli|client|worker|worker-health)(/|$)', message: 'Workflows import neither the CLI, its client nor the worker.' },
    ],
    [...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'mqtt', 'mysql2', 'mysql2/promise', '@temporalio/activity', '@temporalio/client', '@temporalio/worker'].map((name) => ({
      name,
      message: 'Workflow code runs in the deterministic sandbox: no Node built-ins, I/O or non-workflow SDK packages.',
    })),
  ),
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
