import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@spoc/event-store';
import { PersonalDataVault, sealingKeyId } from '@spoc/platform';

/** Configuration, read once from the environment and checked at start; nothing else reads process.env. */
export interface AppConfig {
  port: number;
  dataDir: string;
  /** Where subject keys live: apart from the log, and shared by every process that seals or opens personal data. */
  keysDir: string;
  /**
   * Where the ledger of destroyed keys lives: apart from the keys (a restore of them must not take it back), shared
   * by every process that opens them, backed up with the log.
   */
  erasedKeysDir: string;
  /** SHA-256 of SPOC_BOOTSTRAP_ADMIN_TOKEN; the token itself is not kept. */
  bootstrapAdminTokenHash: string | null;
  eventStoreConnectionString: string | null;
  kafkaBrokers: string[];
  policyFile: string;
  /** The router runs in this process (the embedded default); production runs it as its own app. */
  runRouter: boolean;
  /** SPOC_RATE_LIMIT: requests a second each token may make, in bursts of ten seconds' worth; 0 turns it off. */
  rateLimitPerSecond: number;
  /** SPOC_ALLOW_NEW_KEY_FILE: start on a key file that is missing, or lacks the newest keys, though the log holds events (see `openVaultFor`). */
  allowNewKeyFile: boolean;
  /**
   * The access log (every read and change of case data) is always on: no environment variable turns it off. Only
   * the access-log bench sets this to false in code, to measure what recording costs.
   */
  recordAccess?: boolean;
}

export const APP_CONFIG = Symbol('AppConfig');

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`configuration is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('PORT must be a whole number from 0 to 65535');
  const token = env.SPOC_BOOTSTRAP_ADMIN_TOKEN;
  if (token !== undefined && token.length < 16) problems.push('SPOC_BOOTSTRAP_ADMIN_TOKEN must be at least 16 characters');
  const esdb = env.EVENTSTORE_CONNECTION_STRING || null;
  if (esdb && !/^esdb(\+discover)?:\/\//.test(esdb)) problems.push('EVENTSTORE_CONNECTION_STRING must start with esdb:// or esdb+discover://');
  const brokers = (env.KAFKA_BROKERS ?? '').split(',').map((broker) => broker.trim()).filter(Boolean);
  for (const broker of brokers) if (!/^[^:\s]+:\d+$/.test(broker)) problems.push('KAFKA_BROKERS must be host:port, comma-separated');
  const runRouter = env.SPOC_RUN_ROUTER ?? 'true';
  if (runRouter !== 'true' && runRouter !== 'false') problems.push('SPOC_RUN_ROUTER must be true or false');
  const allowNewKeyFile = env.SPOC_ALLOW_NEW_KEY_FILE ?? 'false';
  if (allowNewKeyFile !== 'true' && allowNewKeyFile !== 'false') problems.push('SPOC_ALLOW_NEW_KEY_FILE must be true or false');
  const rateLimit = env.SPOC_RATE_LIMIT ?? '200';
  if (!/^\d{1,6}$/.test(rateLimit)) problems.push('SPOC_RATE_LIMIT must be a whole number of requests a second (0: no limit)');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    rateLimitPerSecond: Number(rateLimit),
    dataDir: path.resolve(env.SPOC_DATA_DIR ?? './data'),
    keysDir: path.resolve(env.SPOC_KEYS_DIR ?? env.SPOC_DATA_DIR ?? './data'),
    erasedKeysDir: path.resolve(env.SPOC_ERASED_KEYS_DIR ?? env.SPOC_DATA_DIR ?? './data'),
    bootstrapAdminTokenHash: token ? hashToken(token) : null,
    eventStoreConnectionString: esdb,
    kafkaBrokers: brokers,
    runRouter: runRouter === 'true',
    allowNewKeyFile: allowNewKeyFile === 'true',
    policyFile: path.resolve(env.SPOC_POLICY_FILE ?? path.join(repositoryRoot(), 'policies/portsmouth-2026-1.json')),
  };
}

/** The repository root, whether running from the sources (Jest, scripts) or from dist/ (npm start). */
function repositoryRoot(): string {
  let directory = __dirname;
  while (!existsSync(path.join(directory, 'package.json')) && path.dirname(directory) !== directory) {
    directory = path.dirname(directory);
  }
  return directory;
}

/**
 * Said at start about where the keys are: with the log (the default, for a first run), one backup of that directory
 * holds the sealed data and the keys that open it, and an erasure (destroying a key) does not reach that backup;
 * with SPOC_ALLOW_NEW_KEY_FILE left set, the check that the key file belongs to the log is off.
 */
/**
 * The log's digests, anchored by the router: beside the subject keys, apart from the log, so that whoever can
 * rewrite the log's file cannot make it agree with them (`npm run audit:verify` compares).
 */
export function logAnchorsFile(config: Pick<AppConfig, 'keysDir'>): string {
  return path.join(config.keysDir, 'log-anchors.sqlite');
}

export function keyWarnings(config: Pick<AppConfig, 'keysDir' | 'dataDir' | 'eventStoreConnectionString' | 'allowNewKeyFile'>): string[] {
  const warnings: string[] = [];
  if (!config.eventStoreConnectionString && config.keysDir === config.dataDir) {
    warnings.push(`the subject keys are kept with the log in ${config.dataDir}: a backup of it holds both, and erasure cannot reach that backup; in production set SPOC_KEYS_DIR to a directory of its own, backed up apart (see README)`);
  }
  if (config.allowNewKeyFile) warnings.push('SPOC_ALLOW_NEW_KEY_FILE is set: a key file that is missing, or lacks the key of the newest referral, is not refused (the loss is recorded, so later starts need it no more); unset it once this start is done');
  return warnings;
}

/**
 * The subject keys, with the ledger of the keys destroyed beside the log rather than the keys: restoring the key
 * directory from a backup leaves the ledger as it was, and the vault destroys again what it names. `logIsEmpty`
 * says whether the log holds any event yet: a log with events and no key file means the keys are elsewhere (or
 * lost), and a new, empty key file would leave every referral received so far unreadable, and quietly.
 */
export function openVault(config: KeysConfig, logIsEmpty: boolean): PersonalDataVault {
  checkKeyFiles(config, logIsEmpty);
  mkdirSync(config.erasedKeysDir, { recursive: true });
  return new PersonalDataVault(path.join(config.keysDir, 'subject-keys.sqlite'), undefined, path.join(config.erasedKeysDir, 'erased-keys.sqlite'));
}

type KeysConfig = Pick<AppConfig, 'keysDir' | 'erasedKeysDir' | 'dataDir' | 'allowNewKeyFile'>;

/** The log: EventStoreDB when a connection string is set, else the embedded file in the data directory. */
export function openEventStore(config: Pick<AppConfig, 'eventStoreConnectionString' | 'dataDir'>): EventStore {
  return config.eventStoreConnectionString ? new EventStoreDbEventStore(config.eventStoreConnectionString) : new SqliteEventStore(path.join(config.dataDir, 'events.sqlite'));
}

/**
 * The vault for this log, as every process opens it: `openVault`'s checks of the files, then one of what they hold.
 * The newest referral in the log names the key that sealed it, the newest key handed out; the key file must hold it,
 * or its row once destroyed. A key file restored from a backup older than the log, or another installation's, would
 * otherwise start quietly and show the newest referrals as if they had been erased; a caseworker would find no way
 * to reach the person. (The ledger of destroyed keys does not vouch for the key file: it is never older than it, so
 * a key only the ledger knows was made after the key file's backup.) Refused unless SPOC_ALLOW_NEW_KEY_FILE is set;
 * a start with it set records the missing key as accepted, so the next start without it goes ahead. Keys missing
 * for older referrals are counted as they are met (health reports them).
 */
export async function openVaultFor(config: KeysConfig, store: Pick<EventStore, 'headPosition' | 'readAll'>): Promise<PersonalDataVault> {
  const vault = openVault(config, (await store.headPosition()) === null);
  try {
    for await (const newest of store.readAll({ direction: 'backwards', maxCount: 1, filter: { eventTypes: ['ReferralReceived'] } })) {
      const keyId = sealingKeyId(newest);
      if (keyId === null || vault.keyFileHolds(keyId)) break;
      if (!config.allowNewKeyFile) {
        throw new ConfigError([
          `the key file in ${config.keysDir} does not hold the key of the newest referral in the log: it is older than the log (restored from an older backup?) or another installation's; restore the newest key file (set SPOC_ALLOW_NEW_KEY_FILE=true once only to start anyway, leaving the referrals whose keys are missing unreadable)`,
        ]);
      }
      vault.acceptLostKey(keyId);
    }
  } catch (error) {
    vault.close();
    throw error;
  }
  return vault;
}

/** Throws a ConfigError when the key files are not where this log's keys must be (see `openVault`). */
export function checkKeyFiles(config: KeysConfig, logIsEmpty: boolean): void {
  const keyFile = path.join(config.keysDir, 'subject-keys.sqlite');
  const problems: string[] = [];
  const same = (a: string, b: string) => a === b || (existsSync(a) && existsSync(b) && realpathSync(a) === realpathSync(b));
  // Keys once kept with the data (the default, and the image before it gave them a directory of their own), and now
  // looked for elsewhere: each of a file's parts must move, the write-ahead log too (it may hold the newest keys).
  for (const { file, directory, variable } of [
    { file: 'subject-keys.sqlite', directory: config.keysDir, variable: 'SPOC_KEYS_DIR' },
    { file: 'erased-keys.sqlite', directory: config.erasedKeysDir, variable: 'SPOC_ERASED_KEYS_DIR' },
  ]) {
    const left = same(directory, config.dataDir) ? [] : [file, `${file}-wal`].filter((part) => existsSync(path.join(config.dataDir, part)));
    if (left.length > 0) problems.push(`${left.join(' and ')} still in SPOC_DATA_DIR (${config.dataDir}) but ${variable} is ${directory}: stop every process cleanly, move ${file} and its -wal and -shm files there, or set ${variable} to the data directory`);
  }
  if (problems.length === 0 && !logIsEmpty && !existsSync(keyFile) && !config.allowNewKeyFile) {
    problems.push(`the log holds events but there is no key file at ${keyFile}: restore it or point SPOC_KEYS_DIR at it (set SPOC_ALLOW_NEW_KEY_FILE=true only if no referral in the log needs the old keys)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
