/**
 * Static check of docker-compose.yml, since no Docker engine runs on the development and CI machines:
 *   npm run build && npm run compose:check        (node dist-tools/tools/compose/check-compose.js)
 * It checks what would otherwise only fail at `docker compose up`, or silently run badly: every service has an image
 * or a build (and the Dockerfile exists); every pulled image is pinned to a version (no tag, `latest` or a variable
 * defaulting to it fails); every long-running service has a healthcheck (only a one-shot, `restart: "no"`, may go
 * without); every depends_on names a real service with `condition: service_healthy` and that service has a
 * healthcheck (or `service_completed_successfully` on a one-shot that is never restarted); a service whose
 * environment names another service as a host (`mysql`, `temporal:7233`, `mqtt://mosquitto:1883`) waits for it;
 * the worker is pointed at the stack's own services; named volumes are declared; mounted local files exist; and
 * every `${VAR}` has a default or is listed in .env.example. YAML anchors and merge keys (`<<: *x`) are resolved.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseDocument } from 'yaml';
import { repoRoot } from '../repo-root';

/** The worker's environment must point it at the stack's own services. */
export const WORKER_SERVICE = 'worker';
export const WORKER_REQUIRED_ENV = ['CLOUD_HOST', 'OCPP_MYSQL_HOST', 'TEMPORAL_ADDRESS'] as const;

export interface CheckComposeOptions {
  /**
   * Tells whether a path relative to the compose file's folder exists (Dockerfile, mounted files).
   * Without it, those file checks are skipped (the check stays pure).
   */
  fileExists?: (relativePath: string) => boolean;
}

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A variable reference found in the compose text, and whether Compose would substitute something without it. */
interface VariableUse {
  name: string;
  hasFallback: boolean;
}

/**
 * Finds the `${VAR}` / `$VAR` references of one string, as Compose interpolates them: `$$` is a literal `$`;
 * `${VAR:-x}` and `${VAR-x}` have a default, `${VAR:+x}` / `${VAR+x}` are empty when unset (also fine),
 * `${VAR:?msg}` / `${VAR?msg}` and a bare `${VAR}` need the variable. Defaults may nest further references.
 */
export function findVariables(text: string): VariableUse[] {
  const uses: VariableUse[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '$') {
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      i += 2;
      continue;
    }
    if (next === '{') {
      // Find the matching brace, allowing nested ${...} in the default.
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text[j] === '$' && text[j + 1] === '$') {
          j += 2;
          continue;
        }
        if (text[j] === '$' && text[j + 1] === '{') {
          depth += 1;
          j += 2;
          continue;
        }
        if (text[j] === '}') depth -= 1;
        j += 1;
      }
      const inner = text.slice(i + 2, depth === 0 ? j - 1 : j);
      const match = /^([A-Za-z_][A-Za-z0-9_]*)(:?[-+?])?([\s\S]*)$/.exec(inner);
      if (match?.[1] !== undefined) {
        const operator = match[2] ?? '';
        const hasFallback = operator.endsWith('-') || operator.endsWith('+');
        uses.push({ name: match[1], hasFallback });
        if (hasFallback && match[3] !== undefined) uses.push(...findVariables(match[3]));
      }
      i = j;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (bare !== null) {
      uses.push({ name: bare[0], hasFallback: false });
      i += 1 + bare[0].length;
      continue;
    }
    i += 1;
  }
  return uses;
}

/** Every string (keys included) in a parsed YAML value. */
function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, out);
  } else if (isMap(value)) {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      collectStrings(item, out);
    }
  }
  return out;
}

/** The variable names that .env.example lists (`NAME=…`, also commented out as `# NAME=…`). */
export function envExampleNames(envExampleText: string): Set<string> {
  const names = new Set<string>();
  for (const line of envExampleText.split(/\r?\n/)) {
    const match = /^\s*#?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (match?.[1] !== undefined) names.add(match[1]);
  }
  return names;
}

/** A service's environment as a name → value map (Compose accepts a map or a list of `NAME=value`). */
function environmentOf(service: YamlMap): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  const raw = service.environment;
  if (Array.isArray(raw)) {
    for (const item of raw) {
      if (typeof item !== 'string') continue;
      const eq = item.indexOf('=');
      if (eq === -1) env.set(item, undefined);
      else env.set(item.slice(0, eq), item.slice(eq + 1));
    }
  } else if (isMap(raw)) {
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value === 'string') env.set(name, value);
      else if (typeof value === 'number' || typeof value === 'boolean') env.set(name, String(value));
      else env.set(name, undefined);
    }
  }
  return env;
}

/** depends_on as name → condition (the short list form means `service_started`). */
function dependenciesOf(service: YamlMap): Map<string, string> {
  const deps = new Map<string, string>();
  const raw = service.depends_on;
  if (Array.isArray(raw)) {
    for (const item of raw) if (typeof item === 'string') deps.set(item, 'service_started');
  } else if (isMap(raw)) {
    for (const [name, spec] of Object.entries(raw)) {
      const condition = isMap(spec) && typeof spec.condition === 'string' ? spec.condition : 'service_started';
      deps.set(name, condition);
    }
  }
  return deps;
}

function hasHealthcheck(service: YamlMap): boolean {
  const check = service.healthcheck;
  if (!isMap(check) || check.disable === true) return false;
  const test = check.test;
  if (typeof test === 'string') return test.trim() !== '';
  return Array.isArray(test) && test.length > 1 && test[0] !== 'NONE';
}

/** The Dockerfile a `build:` entry uses, relative to the compose file's folder. */
function dockerfileOf(build: unknown): string | undefined {
  if (typeof build === 'string') return path.posix.join(build, 'Dockerfile');
  if (isMap(build)) {
    if (typeof build.dockerfile_inline === 'string') return undefined;
    const context = typeof build.context === 'string' ? build.context : '.';
    const dockerfile = typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile';
    return path.posix.join(context, dockerfile);
  }
  return undefined;
}

/** Named volumes and local bind sources of a service's `volumes:` (short `src:dst[:mode]` or long form). */
function volumeSourcesOf(service: YamlMap): { named: string[]; local: string[] } {
  const named: string[] = [];
  const local: string[] = [];
  const raw = service.volumes;
  if (!Array.isArray(raw)) return { named, local };
  for (const item of raw) {
    let source: string | undefined;
    let type: string | undefined;
    if (typeof item === 'string') {
      const parts = item.split(':');
      source = parts.length > 1 ? parts[0] : undefined;
    } else if (isMap(item)) {
      source = typeof item.source === 'string' ? item.source : undefined;
      type = typeof item.type === 'string' ? item.type : undefined;
    }
    if (source === undefined || source === '' || source.includes('$')) continue;
    if (source.startsWith('.') || source.startsWith('/') || source.startsWith('~') || type === 'bind') {
      if (source.startsWith('.')) local.push(source);
    } else if (type === undefined || type === 'volume') {
      named.push(source);
    }
  }
  return { named, local };
}

/**
 * Why an image reference is not pinned, or undefined when it is: a digest, or a tag other than `latest`. A
 * variable counts by its default (`${TAG:-1.9.1}`): that is what a plain `docker compose up` pulls.
 */
export function unpinnedImage(image: string): string | undefined {
  const resolved = image.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}/g, '$1');
  if (resolved.includes('$')) return 'a variable without a default decides the version';
  if (/@sha256:[0-9a-f]{64}$/.test(resolved)) return undefined;
  const lastPart = resolved.slice(resolved.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : undefined;
  if (tag === undefined || tag === '') return 'no tag: Docker pulls latest';
  if (tag === 'latest') return 'latest changes under you: name a version';
  return undefined;
}

/** Whether an environment value names service `host` as a host (`mysql`, `temporal:7233`, `mqtt://mosquitto:1883`). */
export function namesHost(value: string, host: string): boolean {
  const escaped = host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|//|@|[\\s,])${escaped}(?::\\d+)?(?:$|[/\\s,?])`).test(value);
}

interface Analysis {
  problems: string[];
  serviceCount: number;
}

function analyse(composeText: string, envExampleText: string | undefined, options: CheckComposeOptions): Analysis {
  const problems: string[] = [];
  const doc = parseDocument(composeText, { merge: true });
  if (doc.errors.length > 0) {
    return { problems: doc.errors.map((error) => `not valid YAML: ${error.message.split('\n')[0] ?? error.name}`), serviceCount: 0 };
  }
  const root: unknown = doc.toJS();
  if (!isMap(root)) return { problems: ['the file is not a YAML mapping with a `services:` section'], serviceCount: 0 };
  const services = root.services;
  if (!isMap(services) || Object.keys(services).length === 0) {
    return { problems: ['no `services:` defined'], serviceCount: 0 };
  }
  const declaredVolumes = new Set(isMap(root.volumes) ? Object.keys(root.volumes) : []);

  for (const [name, raw] of Object.entries(services)) {
    if (!isMap(raw)) {
      problems.push(`service "${name}": is not a mapping`);
      continue;
    }
    const service = raw;
    const hasImage = typeof service.image === 'string' && service.image.trim() !== '';
    const build = service.build;
    if (!hasImage && build === undefined) problems.push(`service "${name}": has neither an image nor a build`);
    if (build !== undefined && options.fileExists !== undefined) {
      const dockerfile = dockerfileOf(build);
      if (dockerfile !== undefined && !options.fileExists(dockerfile)) {
        problems.push(`service "${name}": builds with ${dockerfile}, which does not exist`);
      }
    }

    for (const [dependency, condition] of dependenciesOf(service)) {
      const target = services[dependency];
      if (target === undefined) {
        problems.push(`service "${name}": depends_on "${dependency}", which is not a service in this file`);
        continue;
      }
      if (condition === 'service_completed_successfully') {
        // A one-shot (e.g. `migrate`): it must end, so it must not be restarted after it exits.
        const restart = isMap(target) && typeof target.restart === 'string' ? target.restart : 'no';
        if (restart === 'always' || restart === 'unless-stopped') {
          problems.push(`service "${dependency}": restart: ${restart}, but service "${name}" waits for it to complete`);
        }
        continue;
      }
      if (condition !== 'service_healthy') {
        problems.push(`service "${name}": depends_on "${dependency}" must use condition: service_healthy, or service_completed_successfully for a one-shot (has ${condition})`);
      }
      if (!isMap(target) || !hasHealthcheck(target)) {
        problems.push(`service "${dependency}": has no healthcheck, but service "${name}" waits for it to be healthy`);
      }
    }

    if (!hasHealthcheck(service) && service.restart !== 'no') {
      problems.push(`service "${name}": has no healthcheck (a long-running service needs one; a one-shot says restart: "no")`);
    }
    if (hasImage && build === undefined) {
      const unpinned = unpinnedImage(service.image as string);
      if (unpinned !== undefined) problems.push(`service "${name}": image ${String(service.image)} is not pinned (${unpinned})`);
    }
    const dependencies = dependenciesOf(service);
    for (const other of Object.keys(services)) {
      if (other === name || dependencies.has(other)) continue;
      const variable = [...environmentOf(service)].find(([, value]) => value !== undefined && namesHost(value, other))?.[0];
      if (variable !== undefined) problems.push(`service "${name}": talks to service "${other}" (${variable}) but does not depend_on it`);
    }

    const volumes = volumeSourcesOf(service);
    for (const volume of volumes.named) {
      if (!declaredVolumes.has(volume)) problems.push(`service "${name}": uses volume "${volume}", which is not declared under top-level volumes:`);
    }
    if (options.fileExists !== undefined) {
      for (const source of volumes.local) {
        if (!options.fileExists(source)) problems.push(`service "${name}": mounts ${source}, which does not exist`);
      }
    }
  }

  const worker = services[WORKER_SERVICE];
  if (!isMap(worker)) {
    problems.push(`service "${WORKER_SERVICE}": is missing`);
  } else {
    const env = environmentOf(worker);
    for (const variable of WORKER_REQUIRED_ENV) {
      const value = env.get(variable);
      if (value === undefined || value.trim() === '') {
        problems.push(`service "${WORKER_SERVICE}": environment must set ${variable} (to the stack's own service)`);
      }
    }
  }

  if (envExampleText !== undefined) {
    const listed = envExampleNames(envExampleText);
    const reported = new Set<string>();
    for (const text of collectStrings(root)) {
      for (const use of findVariables(text)) {
        if (!use.hasFallback && !listed.has(use.name) && !reported.has(use.name)) {
          reported.add(use.name);
          problems.push(`variable \${${use.name}}: has no default (\${${use.name}:-…}) and is not listed in .env.example`);
        }
      }
    }
  }

  return { problems, serviceCount: Object.keys(services).length };
}

/**
 * Returns the problems of a compose file (empty: fine). Without `envExampleText`, variables are not checked;
 * without `options.fileExists`, the Dockerfile and mounted files are not looked for.
 */
export function checkCompose(composeText: string, envExampleText?: string, options: CheckComposeOptions = {}): string[] {
  return analyse(composeText, envExampleText, options).problems;
}

/** `fileExists` for a compose file in `dir`. */
export function fileExistsIn(dir: string): (relativePath: string) => boolean {
  return (relativePath) => fs.existsSync(path.resolve(dir, relativePath));
}

function main(): number {
  const root = repoRoot();
  const composePath = path.join(root, 'docker-compose.yml');
  const envExamplePath = path.join(root, '.env.example');
  if (!fs.existsSync(composePath)) {
    console.error(`docker-compose.yml: not found in ${root}`);
    return 1;
  }
  const composeText = fs.readFileSync(composePath, 'utf8');
  const envExampleText = fs.existsSync(envExamplePath) ? fs.readFileSync(envExamplePath, 'utf8') : undefined;
  const { problems, serviceCount } = analyse(composeText, envExampleText, { fileExists: fileExistsIn(root) });
  if (problems.length > 0) {
    for (const problem of problems) console.error(`docker-compose.yml: ${problem}`);
    return 1;
  }
  console.log(`docker-compose.yml: ok (${String(serviceCount)} services)`);
  if (envExampleText === undefined) console.log('docker-compose.yml: note: no .env.example, so ${VAR} references were not checked');
  return 0;
}

if (require.main === module) {
  process.exitCode = main();
}
