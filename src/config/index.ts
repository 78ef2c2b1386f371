/**
 * The one place where the environment (and `.env`) is read and validated, one module per section (mqtt, database,
 * temporal, sync, observability). Each section is parsed on its own, so that a CLI command that only talks to
 * Temporal does not demand database settings. A bad value stops with one line naming the variable and what was
 * expected (a ConfigError).
 */
export { ConfigError, loadDotEnv, type Env } from './variables';
export { loadMqttConfig, type MqttConfig } from './mqtt';
export { loadDatabaseConfig, MYSQL_SSL_MODES, type DatabaseConfig, type DatabaseTls, type MysqlSslMode } from './database';
export { loadTemporalConfig, type TemporalConfig } from './temporal';
export { loadNotifyWebhookUrl, loadPlanDuringWindow, loadSyncDefaults, type SyncDefaults } from './sync';
export { loadLogFormat, loadLogLevel, loadObservabilityConfig, type LogFormat, type LogLevel, type ObservabilityConfig } from './observability';
export { secretValues } from './secrets';
