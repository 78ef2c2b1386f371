import * as fs from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { checkCompose, envExampleNames, fileExistsIn, findVariables, namesHost, unpinnedImage } from '../../tools/compose/check-compose';

const root = path.resolve(__dirname, '..', '..');
const composeText = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const envExamplePath = path.join(root, '.env.example');
const envExampleText = fs.existsSync(envExamplePath) ? fs.readFileSync(envExamplePath, 'utf8') : undefined;

interface Compose { services: Record<string, Record<string, unknown>>; [key: string]: unknown }

/** The real compose file (anchors and merge keys resolved, as Compose does), changed by `mutate`, as YAML text again. */
function broken(mutate: (compose: Compose) => void): string {
  const compose = parse(composeText, { merge: true }) as Compose;
  mutate(compose);
  return stringify(compose);
}

function remove(object: unknown, key: string): void {
  Reflect.deleteProperty(object as object, key);
}

function service(compose: Compose, name: string): Record<string, unknown> {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

describe('checkCompose', () => {
  it('finds no problem in the real docker-compose.yml', () => {
    expect(checkCompose(composeText, envExampleText, { fileExists: fileExistsIn(root) })).toEqual([]);
  });

  it('has the services of the stack, the worker waiting for the other three and for migrate to complete', () => {
    const compose = parse(composeText, { merge: true }) as Compose;
    expect(Object.keys(compose.services).sort()).toEqual(['demo-migrate', 'demo-seed', 'demo-simulator', 'demo-sync', 'demo-worker', 'migrate', 'mosquitto', 'mysql', 'temporal', 'worker']);
    for (const name of ['demo-migrate', 'demo-seed', 'demo-simulator', 'demo-sync', 'demo-worker']) expect(service(compose, name).profiles).toEqual(['demo']);
    expect(service(compose, 'worker').healthcheck).toMatchObject({ test: ['CMD', 'node', 'dist/cli/main.js', 'worker', '--check'] });
    expect(service(compose, 'worker').depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      mysql: { condition: 'service_healthy' },
      mosquitto: { condition: 'service_healthy' },
      temporal: { condition: 'service_healthy' },
    });
    expect(service(compose, 'migrate')).toMatchObject({ command: ['node', 'dist/cli/main.js', 'migrate'], restart: 'no' });
  });

  it('accepts service_completed_successfully only on a one-shot that is never restarted', () => {
    const text = broken((compose) => (service(compose, 'migrate').restart = 'unless-stopped'));
    expect(checkCompose(text, envExampleText)).toEqual(expect.arrayContaining([expect.stringMatching(/service "migrate": restart: unless-stopped, but service "worker" waits for it to complete/)]));
  });

  const env = (c: Compose): Record<string, unknown> => service(c, 'worker').environment as Record<string, unknown>;
  const dependsOn = (c: Compose): Record<string, unknown> => service(c, 'worker').depends_on as Record<string, unknown>;

  it.each<[string, (compose: Compose) => void, string, RegExp]>([
    [
      'a dependency without a healthcheck',
      (c) => {
        remove(service(c, 'mysql'), 'healthcheck');
      },
      'mysql',
      /healthcheck/,
    ],
    [
      'a disabled healthcheck',
      (c) => {
        service(c, 'temporal').healthcheck = { disable: true };
      },
      'temporal',
      /healthcheck/,
    ],
    [
      'depends_on an unknown service',
      (c) => {
        dependsOn(c).redis = { condition: 'service_healthy' };
      },
      'worker',
      /"redis", which is not a service/,
    ],
    [
      'depends_on in the short list form',
      (c) => {
        service(c, 'worker').depends_on = ['mysql'];
      },
      'worker',
      /service_healthy/,
    ],
    [
      'depends_on with condition service_started',
      (c) => {
        dependsOn(c).mosquitto = { condition: 'service_started' };
      },
      'worker',
      /service_healthy/,
    ],
    [
      'the worker without CLOUD_HOST',
      (c) => {
        remove(env(c), 'CLOUD_HOST');
      },
      'worker',
      /CLOUD_HOST/,
    ],
    [
      'the worker without OCPP_MYSQL_HOST',
      (c) => {
        remove(env(c), 'OCPP_MYSQL_HOST');
      },
      'worker',
      /OCPP_MYSQL_HOST/,
    ],
    [
      'the worker without TEMPORAL_ADDRESS (list form)',
      (c) => {
        service(c, 'worker').environment = ['CLOUD_HOST=mqtt://mosquitto:1883', 'OCPP_MYSQL_HOST=mysql'];
      },
      'worker',
      /TEMPORAL_ADDRESS/,
    ],
    [
      'no worker service',
      (c) => {
        remove(c.services, 'worker');
      },
      'worker',
      /missing/,
    ],
    [
      'a service with neither image nor build',
      (c) => {
        remove(service(c, 'mosquitto'), 'image');
      },
      'mosquitto',
      /neither an image nor a build/,
    ],
    [
      'a long-running service without a healthcheck',
      (c) => {
        remove(service(c, 'worker'), 'healthcheck');
      },
      'worker',
      /has no healthcheck \(a long-running service needs one/,
    ],
    [
      'an image without a tag',
      (c) => {
        service(c, 'mysql').image = 'mysql';
      },
      'mysql',
      /not pinned \(no tag/,
    ],
    [
      'an image on latest through a variable default',
      (c) => {
        service(c, 'temporal').image = 'temporalio/temporal:${TEMPORAL_IMAGE_TAG:-latest}';
      },
      'temporal',
      /not pinned \(latest/,
    ],
    [
      'a one-shot that talks to the database without waiting for it',
      (c) => {
        remove(service(c, 'migrate'), 'depends_on');
      },
      'migrate',
      /talks to service "mysql" \(OCPP_MYSQL_HOST\) but does not depend_on it/,
    ],
    [
      'the demo worker that does not wait for the broker it collects from',
      (c) => {
        remove(service(c, 'demo-worker').depends_on, 'mosquitto');
      },
      'demo-worker',
      /talks to service "mosquitto" \(CLOUD_HOST\)/,
    ],
    [
      'an undeclared named volume',
      (c) => {
        service(c, 'temporal').volumes = ['temporal-state:/data'];
      },
      'temporal',
      /"temporal-state"/,
    ],
  ])('reports %s, naming the service', (_case, mutate, serviceName, reason) => {
    const problems = checkCompose(broken(mutate), envExampleText);
    const problem = problems.find((p) => p.includes(`"${serviceName}"`) && reason.test(p));
    expect(problem).toBeDefined();
  });

  it('reports a Dockerfile or a mounted file that does not exist', () => {
    const nothingExists = (): boolean => false;
    const problems = checkCompose(composeText, undefined, { fileExists: nothingExists });
    expect(problems).toContain('service "worker": builds with Dockerfile, which does not exist');
    expect(problems.some((p) => p.startsWith('service "mosquitto": mounts ./docker/mosquitto.conf'))).toBe(true);
  });

  it('reports a ${VAR} that has no default and is not in .env.example, once', () => {
    const text = broken((c) => {
      const vars = env(c);
      vars.CLOUD_CREDENTIALS = '${CLOUD_CREDENTIALS}';
      vars.EXTRA = '${UNLISTED_VAR:?set it}';
      vars.AGAIN = '$UNLISTED_VAR';
    });
    const problems = checkCompose(text, 'CLOUD_CREDENTIALS=\n# TEST_DEVICE_ID=\n');
    expect(problems.filter((p) => p.includes('UNLISTED_VAR'))).toHaveLength(1);
    expect(problems.some((p) => p.includes('CLOUD_CREDENTIALS'))).toBe(false);
    // Without .env.example, variables are not checked.
    expect(checkCompose(text)).toEqual([]);
  });

  it('reports text that is not YAML', () => {
    expect(checkCompose('services: [unclosed')[0]).toMatch(/not valid YAML/);
  });
});

describe('unpinnedImage', () => {
  it.each<[string, string | undefined]>([
    ['mysql:8.4.3', undefined],
    ['temporalio/temporal:${TEMPORAL_IMAGE_TAG:-1.9.1}', undefined],
    ['registry.example.com:5000/team/app:2.1', undefined],
    [`eclipse-mosquitto@sha256:${'a'.repeat(64)}`, undefined],
    ['mysql', 'no tag: Docker pulls latest'],
    ['registry.example.com:5000/team/app', 'no tag: Docker pulls latest'],
    ['mysql:latest', 'latest changes under you: name a version'],
    ['mysql:${MYSQL_TAG}', 'a variable without a default decides the version'],
  ])('%s', (image, expected) => {
    expect(unpinnedImage(image)).toBe(expected);
  });
});

describe('namesHost', () => {
  it.each<[string, string, boolean]>([
    ['mysql', 'mysql', true],
    ['temporal:7233', 'temporal', true],
    ['mqtt://mosquitto:1883', 'mosquitto', true],
    ['mqtt://user:pw@mosquitto:1883/x', 'mosquitto', true],
    ['charging-points-sync-demo', 'demo', false],
    ['mysql-replica', 'mysql', false],
    ['ocpp_demo', 'demo', false],
  ])('%j names %s: %s', (value, host, expected) => {
    expect(namesHost(value, host)).toBe(expected);
  });
});

describe('findVariables', () => {
  it.each<[string, { name: string; hasFallback: boolean }[]]>([
    ['$$SYS/#', []],
    ['-p"$$MYSQL_ROOT_PASSWORD"', []],
    ['${A}', [{ name: 'A', hasFallback: false }]],
    ['${A:-x}', [{ name: 'A', hasFallback: true }]],
    ['${A-x}', [{ name: 'A', hasFallback: true }]],
    ['${A:?required}', [{ name: 'A', hasFallback: false }]],
    ['${A:+on}', [{ name: 'A', hasFallback: true }]],
    ['$A and $B_2', [{ name: 'A', hasFallback: false }, { name: 'B_2', hasFallback: false }]],
    [
      '${A:-${B}}',
      [
        { name: 'A', hasFallback: true },
        { name: 'B', hasFallback: false },
      ],
    ],
    ['127.0.0.1:${PORT:-1883}:1883', [{ name: 'PORT', hasFallback: true }]],
  ])('%s', (text, expected) => {
    expect(findVariables(text)).toEqual(expected);
  });

  it('reads the names of .env.example, commented-out ones too', () => {
    expect([...envExampleNames('# comment\nCLOUD_HOST=mqtt://x\n# TEST_DEVICE_ID=\nexport OCPP_MYSQL_PORT=3306\n')]).toEqual([
      'CLOUD_HOST',
      'TEST_DEVICE_ID',
      'OCPP_MYSQL_PORT',
    ]);
  });
});
