/** `npm run schema`: the ocpp-db tables for the demo and the tests, in OCPP_MYSQL_DATABASE. */
import { ConfigError, loadDatabaseConfig, loadDotEnv } from '../../src/config';
import { createOcppSchema } from './ocpp-schema';

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadDatabaseConfig(process.env);
  await createOcppSchema(config);
  process.stdout.write(`Schema ready in ${config.database} on ${config.host}:${config.port} (existing tables left as they were)\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err instanceof ConfigError ? 'Configuration error' : 'Error'}: ${err.message}\n`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
});
