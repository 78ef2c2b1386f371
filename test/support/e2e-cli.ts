/**
 * Runs the built operator CLI (`node dist/cli/main.js`, the package's `cp-sync` bin) as an operator would: a child
 * process with only the environment given, in an empty working directory (so that no developer's .env leaks in).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { E2e } from './e2e';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface CliRun {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  /** The process's peak resident set size, for runs measured with runMeasured. */
  peakRssKiB?: number;
}

/** GNU time's report, appended to stderr by runMeasured and taken off again. */
const PEAK_RSS_LINE = /\n?cp-sync-peak-rss-kib=(\d+)\n?$/;

/** The newest modification time of a .ts file under `dir`. */
function newestSource(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .reduce((newest, file) => Math.max(newest, statSync(join(dir, file)).mtimeMs), 0);
}

/**
 * `npm run -s build` when dist/ is missing or older than src/ or tools/, so that dist/ is the code under test.
 * (`npm test` has just built it: eight test files each building again cost minutes and timed out on a busy machine.)
 */
export async function buildCli(): Promise<void> {
  const tools = join(ROOT, 'dist-tools', 'tools', 'repo-root.js');
  const fresh = (output: string, sources: string): boolean => existsSync(output) && statSync(output).mtimeMs > newestSource(join(ROOT, sources));
  if (fresh(CLI, 'src') && fresh(tools, 'tools')) return;
  try {
    await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 300_000 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`npm run -s build failed; the CLI tests need dist/:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

export class CliRunner {
  /** Every run so far, for assertions over all the output (e.g. that no secret ever shows). */
  readonly runs: CliRun[] = [];
  private readonly cwd = mkdtempSync(join(tmpdir(), 'cps-e2e-cli-'));

  constructor(private readonly env: () => Record<string, string | undefined>) {}

  /**
   * Runs `cp-sync <args>`; `env` is added to (or, with undefined, removed from) the runner's environment.
   * `interruptWhen`: Ctrl-C (SIGINT) once stderr so far satisfies it, as an operator at the terminal would.
   */
  run(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000, interruptWhen?: (stderr: string) => boolean): Promise<CliRun> {
    return this.spawnRun(process.execPath, [CLI, ...args], args, env, timeoutMs, interruptWhen);
  }

  /** Like run, under GNU time (/usr/bin/time): the run's peakRssKiB is the process's maximum resident set size. */
  async runMeasured(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<CliRun & { peakRssKiB: number }> {
    const run = await this.spawnRun('/usr/bin/time', ['-f', 'cp-sync-peak-rss-kib=%M', process.execPath, CLI, ...args], args, env, timeoutMs);
    const match = PEAK_RSS_LINE.exec(run.stderr);
    if (!match) throw new Error(`/usr/bin/time reported no peak RSS:\n${describeRun(run)}`);
    run.stderr = run.stderr.replace(PEAK_RSS_LINE, '');
    run.peakRssKiB = Number(match[1]);
    return run as CliRun & { peakRssKiB: number };
  }

  private spawnRun(
    command: string,
    argv: string[],
    args: string[],
    env: Record<string, string | undefined>,
    timeoutMs: number,
    interruptWhen?: (stderr: string) => boolean,
  ): Promise<CliRun> {
    const merged = { ...this.env(), ...env };
    const childEnv = Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined));
    return new Promise((resolveRun, reject) => {
      const child = spawn(command, argv, { cwd: this.cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      let interrupted = false;
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (interruptWhen && !interrupted && interruptWhen(stderr)) {
          interrupted = true;
          child.kill('SIGINT');
        }
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`cp-sync ${args.join(' ')} did not end within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const run: CliRun = { args, code, stdout, stderr };
        this.runs.push(run);
        resolveRun(run);
      });
    });
  }

  /** Runs a read command with --json and parses its stdout, which must be exactly one JSON document. */
  async json<T = Record<string, unknown>>(args: string[], env?: Record<string, string | undefined>): Promise<{ run: CliRun; value: T }> {
    const run = await this.run([...args, '--json'], env);
    let value: T;
    try {
      value = JSON.parse(run.stdout) as T;
    } catch {
      throw new Error(`cp-sync ${args.join(' ')} --json printed no single JSON document (exit ${run.code}):\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    }
    return { run, value };
  }

  /** All the output of every run, for searching. */
  allOutput(): string {
    return this.runs.map((r) => `${r.stdout}\n${r.stderr}`).join('\n');
  }

  dispose(): void {
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

/**
 * The set-up of a file that runs the CLI: dist/ is built if stale (beforeAll), the OCPP tables are emptied before each
 * test and the runner's working directory is removed afterwards. The runner's environment is PATH and the worker's
 * (secrets included: the CLI must never print them), then `env()` (read at each run). Call it where the file's own
 * hooks should run around it (jest runs each kind in the order registered).
 */
export function useCliRunner(e2e: Pick<E2e, 'db' | 'env'>, env: () => Record<string, string | undefined> = () => ({})): CliRunner {
  const cli = new CliRunner(() => ({ PATH: process.env.PATH, ...e2e.env, ...env() }));
  beforeAll(async () => {
    await buildCli();
  }, 120_000);
  afterAll(() => cli.dispose());
  beforeEach(async () => {
    await e2e.db.clearOcppTables();
  });
  return cli;
}

/** A readable description of a run, for failure messages. */
export function describeRun(run: CliRun): string {
  return `cp-sync ${run.args.join(' ')} → exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
}

/** Fails with the whole run (args, exit, stdout, stderr) when the exit status is not `code`. */
export function expectExit(run: CliRun, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}\n${describeRun(run)}`);
}

export interface WorkerProcess {
  output: () => string;
  /** SIGTERM: the worker finishes the tasks in hand and exits. */
  stop: () => Promise<number | null>;
  /** SIGKILL: the worker dies at once, as in a crash. */
  kill: () => Promise<number | null>;
  /** SIGSTOP: the worker freezes with its connections open, as a hung or partitioned host (kill() ends it). */
  freeze: () => void;
}

/** Starts `cp-sync worker` as its own process and resolves once it listens; `stop()` ends it with SIGTERM. */
export async function startWorkerProcess(env: Record<string, string | undefined>): Promise<WorkerProcess> {
  const childEnv = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const child = spawn(process.execPath, [CLI, 'worker'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Worker listening on task queue')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`cp-sync worker did not start:\n${output}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  return {
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      return exited;
    },
    freeze: () => {
      child.kill('SIGSTOP');
    },
  };
}
