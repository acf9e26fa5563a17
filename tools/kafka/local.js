#!/usr/bin/env node
/**
 * A real Apache Kafka broker for development and CI, without Docker: `node tools/kafka/local.js start|stop`.
 * The broker's jars come from Maven Central into a cache outside the repository; its data lives in a temporary
 * directory that `stop` removes. One node, broker and KRaft controller combined, PLAINTEXT on 127.0.0.1.
 *
 *   start             resolve (once), format, start in the background, wait until it answers, print KAFKA_BROKERS
 *   stop [--keep-data] stop it; --keep-data keeps the log so the next `start` resumes on it (for fault tests)
 *
 * SPOC_KAFKA_PORT (default 9092; the controller listens one above), SPOC_KAFKA_VERSION, SPOC_KAFKA_CACHE.
 */
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

// docs/decisions/0005-kafka-broker-version.md says why this version.
const KAFKA_VERSION = process.env.SPOC_KAFKA_VERSION || '4.3.1';
const port = Number(process.env.SPOC_KAFKA_PORT || 9092);
const controllerPort = port + 1;
const cache = process.env.SPOC_KAFKA_CACHE || path.join(os.homedir(), '.cache', 'spoc-kafka');
const stateFile = path.join(cache, `broker-${port}.json`);
const brokers = `127.0.0.1:${port}`;

const say = (line) => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The broker's runtime jars: a throwaway pom and `mvn dependency:copy-dependencies`, once per version. */
function resolveJars(version) {
  const dir = path.join(cache, version);
  const lib = path.join(dir, 'lib');
  if (fs.existsSync(path.join(lib, '.resolved'))) return lib;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.spoc</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    <!-- The broker logs through SLF4J; this binding writes to the broker's log file. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`,
  );
  say(`resolving Apache Kafka ${version} with Maven into ${lib} (once)`);
  fs.rmSync(lib, { recursive: true, force: true });
  const mvn = spawnSync(
    'mvn',
    ['-q', '-B', '-f', path.join(dir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`, '-DincludeScope=runtime'],
    { encoding: 'utf8' },
  );
  if (mvn.status !== 0) {
    process.stderr.write(`${mvn.stdout}${mvn.stderr}${mvn.error ? String(mvn.error) : ''}\nmvn could not resolve Apache Kafka ${version}\n`);
    process.exit(1);
  }
  // Drop other SLF4J bindings that a broker version may bring, so the one above is used.
  for (const jar of fs.readdirSync(lib)) if (/^slf4j-(reload4j|log4j12)-/.test(jar)) fs.rmSync(path.join(lib, jar));
  fs.writeFileSync(path.join(lib, '.resolved'), `${version}\n`);
  return lib;
}

function serverProperties(dataDir) {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${path.join(dataDir, 'log')}
num.partitions=3
# The relay creates its topics; a typo in a consumer must not create one.
auto.create.topics.enable=false
# A single node cannot replicate its internal topics.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
`;
}

function java(lib, mainClass, args, options) {
  return spawn('java', ['-Xms256m', '-Xmx512m', '-Djava.awt.headless=true', '-Dorg.slf4j.simpleLogger.showDateTime=true', '-cp', `${lib}/*`, mainClass, ...args], options);
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  } catch {
    return null;
  }
}

/** Alive and still our broker (a pid can be reused after a reboot). */
function isRunning(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
  } catch {
    return true;
  }
}

function portInUse() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** True once the broker answers a metadata request (kafkajs admin `listTopics`). */
async function answers() {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ clientId: 'spoc-kafka-local', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function start() {
  const state = readState();
  if (state && isRunning(state.pid)) {
    say(`a local Kafka broker (Apache Kafka ${state.version}, pid ${state.pid}) is already running`);
    say(`KAFKA_BROKERS=${brokers}`);
    return;
  }
  if (await portInUse()) {
    if (await answers()) {
      say(`a Kafka broker not started by this script already answers on ${brokers}; using it`);
      say(`KAFKA_BROKERS=${brokers}`);
      return;
    }
    throw new Error(`127.0.0.1:${port} is taken by something that is not a Kafka broker`);
  }
  const lib = resolveJars(KAFKA_VERSION);
  // A broker stopped with --keep-data resumes on its log; otherwise a fresh one is formatted.
  const resume = state && state.version === KAFKA_VERSION && fs.existsSync(path.join(state.dataDir, 'server.properties'));
  if (state && !resume) fs.rmSync(state.dataDir, { recursive: true, force: true });
  const dataDir = resume ? state.dataDir : fs.mkdtempSync(path.join(os.tmpdir(), `spoc-kafka-${port}-`));
  const config = path.join(dataDir, 'server.properties');
  if (!resume) {
    fs.writeFileSync(config, serverProperties(dataDir));
    // Base64url may begin with '-', which the storage tool reads as an option (1 start in 64 failed so); Kafka's own
    // random ids avoid it the same way.
    let clusterId;
    do clusterId = crypto.randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    const format = await new Promise((resolve) => {
      const child = java(lib, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('close', (code) => resolve({ code, output }));
    });
    if (format.code !== 0) throw new Error(`formatting KRaft storage failed:\n${format.output}`);
  }
  const logFile = path.join(dataDir, 'broker.log');
  const log = fs.openSync(logFile, 'a');
  const broker = java(lib, 'kafka.Kafka', [config], { detached: true, stdio: ['ignore', log, log] });
  broker.unref();
  fs.closeSync(log);
  fs.mkdirSync(cache, { recursive: true });
  fs.writeFileSync(stateFile, JSON.stringify({ pid: broker.pid, version: KAFKA_VERSION, dataDir, port }, null, 2));

  const deadline = Date.now() + 90_000;
  while (!(await answers())) {
    if (!isRunning(broker.pid) || Date.now() > deadline) {
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
      await stop(false);
      throw new Error(`the broker did not come up on ${brokers}; last lines of its log:\n${tail}`);
    }
    await sleep(500);
  }
  say(`Apache Kafka ${KAFKA_VERSION} running on ${brokers} (pid ${broker.pid}, data and log in ${dataDir}); stop it with npm run kafka:stop`);
  say(`KAFKA_BROKERS=${brokers}`);
}

async function stop(keepData) {
  const state = readState();
  if (!state) {
    say(`no local Kafka broker on ${brokers} was started by this script`);
    return;
  }
  if (isRunning(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (isRunning(state.pid) && Date.now() < deadline) await sleep(200);
    if (isRunning(state.pid)) process.kill(state.pid, 'SIGKILL');
    while (isRunning(state.pid)) await sleep(100);
  }
  if (keepData) {
    fs.writeFileSync(stateFile, JSON.stringify({ ...state, pid: null }, null, 2));
    say(`local Kafka broker on ${brokers} stopped; its data is kept in ${state.dataDir}`);
    return;
  }
  fs.rmSync(state.dataDir, { recursive: true, force: true });
  fs.rmSync(stateFile, { force: true });
  say(`local Kafka broker on ${brokers} stopped and its data removed`);
}

const [command, flag] = process.argv.slice(2);
const run = command === 'start' ? start() : command === 'stop' ? stop(flag === '--keep-data') : Promise.reject(new Error('usage: local.js start | stop [--keep-data]'));
run.catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
