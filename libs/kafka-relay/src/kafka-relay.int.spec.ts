import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { PROVISION_IDS } from '@spoc/domain';
import { SqliteEventStore } from '@spoc/event-store';
import { testEvent } from '../../event-store/src/testing/events';
import { topicFor } from './cloud-event';
import { KafkaRelay } from './kafka-relay';
import { appendInterleaved, caseLife, newCaseId } from './testing/case-events';
import { dropDuplicates, idsByCase, readTopics, type ReadMessage } from './testing/topic-reader';

/**
 * The relay's contract, against a real broker: `npm run kafka:local` (or any broker) and KAFKA_BROKERS set.
 * Without it the suite is reported as skipped. The broker-fault case starts a broker of its own with
 * tools/kafka/local.js (so it needs java and mvn), to stop and restart it without disturbing anyone else.
 */
const brokers = process.env.KAFKA_BROKERS?.split(',').map((broker) => broker.trim()).filter(Boolean) ?? [];
const root = path.resolve(__dirname, '../../..');
const localBroker = path.join(root, 'tools/kafka/local.js');
const canRunBroker = ['java', 'mvn'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
const allTopics = PROVISION_IDS.map(topicFor);
const quiet = () => undefined;

const sameOrder = (read: Map<string, string[]>, appended: Map<string, string[]>) => {
  for (const [caseId, ids] of appended) expect({ caseId, ids: read.get(caseId) ?? [] }).toEqual({ caseId, ids });
};

(brokers.length > 0 ? describe : describe.skip)('the Kafka relay against a real broker', () => {
  jest.setTimeout(90_000);
  let directory: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-kafka-relay-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('has a topic for every provision once it has started', async () => {
    const relay = new KafkaRelay(store, brokers, path.join(directory, 'relay.sqlite'), { log: quiet });
    relay.start();
    await store.append('referral-x', [testEvent('ReferralReceived')], 'no-stream');
    expect(await relay.waitFor((await store.headPosition())!, 30_000)).toBe(true);
    await relay.stop();

    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(allTopics));
    await admin.disconnect();
  });

  it('publishes each case event once, to its provision topic, keyed by case id, in order, as a CloudEvent with the integration body', async () => {
    const cases = [
      { caseId: newCaseId(), provision: 'idva' },
      { caseId: newCaseId(), provision: 'idva' },
      { caseId: newCaseId(), provision: 'outreach' },
      { caseId: newCaseId(), provision: 'up2u' },
    ].map(({ caseId, provision }) => ({ caseId, provision, events: caseLife(caseId, provision, 5) }));
    const relay = new KafkaRelay(store, brokers, path.join(directory, 'relay.sqlite'), { log: quiet });
    relay.start();
    await store.append('referral-other', [testEvent('ReferralReceived'), testEvent('RiskAssessed')], 'no-stream');
    const appended = await appendInterleaved(store, cases);
    await store.append('refuge-units', [testEvent('RefugeUnitRequested')], 'no-stream');
    const head = (await store.headPosition())!;
    expect(await relay.waitFor(head, 30_000)).toBe(true);
    expect(relay.checkpoint).toBe(head);
    await relay.stop();

    const total = cases.length * 5;
    const read = await readTopics(brokers, allTopics, new Set(appended.keys()), (messages) => messages.length >= total);
    expect(read).toHaveLength(total);
    expect(new Set(read.map((message) => message.headers.ce_id)).size).toBe(total);
    sameOrder(idsByCase(read), appended);

    const stored = new Map<string, { id: string; recordedAt: string }>();
    for await (const event of store.readAll()) stored.set(event.id, event);
    for (const { caseId, provision } of cases) {
      const messages = read.filter((message) => message.key === caseId);
      expect(new Set(messages.map((message) => message.topic))).toEqual(new Set([topicFor(provision)]));
      expect(new Set(messages.map((message) => message.partition)).size).toBe(1);
      for (const message of messages) {
        expect(message.headers).toEqual({
          ce_specversion: '1.0',
          ce_id: expect.any(String),
          ce_type: expect.stringMatching(/^org\.spoc\.case\.[a-z-]+\.v1$/),
          ce_source: '/spoc/cases',
          ce_time: stored.get(message.headers.ce_id)!.recordedAt,
          ce_subject: caseId,
          'content-type': 'application/json',
        });
      }
      const [opened, claimed, , , closed] = messages.map((message) => [message.headers.ce_type, JSON.parse(message.value)]);
      expect(opened).toEqual([
        'org.spoc.case.opened.v1',
        expect.objectContaining({ caseId, provision, status: 'awaiting', routeStatus: 'routed', riskLevel: 'high', dueBy: expect.any(String) }),
      ]);
      expect(opened[1]).not.toHaveProperty('ruleIds');
      expect(claimed).toEqual(['org.spoc.case.claimed.v1', expect.objectContaining({ caseId, provision, status: 'active' })]);
      expect(claimed[1]).not.toHaveProperty('assignee');
      expect(closed).toEqual(['org.spoc.case.closed.v1', expect.objectContaining({ status: 'closed', outcome: 'engaged-risk-reduced' })]);
      expect(closed[1]).not.toHaveProperty('note');
    }
  });

  it('publishes nothing of a case held for the victim\'s consent, before or after a restart, and goes on with the others', async () => {
    const held = newCaseId();
    const [heldOpened] = caseLife(held, 'outreach', 1);
    (heldOpened.data as { status: string }).status = 'held-awaiting-consent';
    const after = newCaseId();
    const stateFile = path.join(directory, 'relay.sqlite');
    let relay = new KafkaRelay(store, brokers, stateFile, { log: quiet });
    relay.start();
    await store.append(`case-${held}`, [heldOpened], 'no-stream');
    expect(await relay.waitFor((await store.headPosition())!, 30_000)).toBe(true);
    await relay.stop();
    // Its supersession (consent opened a case of its own) comes after a restart: the relay's file knows it was held.
    relay = new KafkaRelay(store, brokers, stateFile, { log: quiet });
    relay.start();
    await store.append(`case-${held}`, [testEvent('CaseSuperseded', { caseId: held, referralId: 'r-held', decisionNumber: 1, supersededAt: new Date().toISOString(), reason: 'consent given' })], 0n);
    await appendInterleaved(store, [{ caseId: after, events: caseLife(after, 'outreach', 2) }]);
    expect(await relay.waitFor((await store.headPosition())!, 30_000)).toBe(true);
    expect(relay.failed).toBeNull();
    await relay.stop();

    const read = await readTopics(brokers, [topicFor('outreach')], new Set([held, after]), (messages) => messages.some((message) => message.key === after && message.headers.ce_type === 'org.spoc.case.claimed.v1'));
    expect(read.filter((message) => message.key === held)).toEqual([]);
    expect(read.filter((message) => message.key === after).map((message) => message.headers.ce_type)).toEqual(['org.spoc.case.opened.v1', 'org.spoc.case.claimed.v1']);
  });

  it('after the relay process is killed mid-stream and restarted, a consumer that drops duplicates by ce_id has every case event once, in order', async () => {
    const eventsFile = path.join(directory, 'events.sqlite');
    const stateFile = path.join(directory, 'relay.sqlite');
    const cases = Array.from({ length: 40 }, (_, n) => {
      const caseId = newCaseId();
      return { caseId, events: caseLife(caseId, PROVISION_IDS[n % PROVISION_IDS.length], 8) };
    });
    const total = cases.length * 8;
    let checkpoint = 0n;
    const startRelay = (): ChildProcess => {
      const child = spawn(process.execPath, ['-r', path.join(root, 'tools/ts-register.js'), path.join(__dirname, 'testing/relay-child.ts'), eventsFile, stateFile, brokers.join(',')], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        const last = /checkpoint (\d+)\s*$/.exec(chunk.toString());
        if (last) checkpoint = BigInt(last[1]);
      });
      return child;
    };
    const killed = (child: ChildProcess) => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGKILL')));
    const until = async (condition: () => boolean, timeoutMs: number) => {
      for (const deadline = Date.now() + timeoutMs; !condition(); ) {
        if (Date.now() > deadline) throw new Error(`timed out at checkpoint ${checkpoint}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    let relay = startRelay();
    let kills = 0;
    const appending = appendInterleaved(store, cases, { everyMs: 3 });
    for (const share of [0.25, 0.6]) {
      await until(() => checkpoint >= BigInt(Math.floor(total * share)), 60_000);
      await killed(relay);
      kills += 1;
      relay = startRelay();
    }
    const appended = await appending;
    const head = (await store.headPosition())!;
    await until(() => checkpoint >= head, 60_000);
    await killed(relay);

    expect(kills).toBe(2);
    const read = await readTopics(brokers, allTopics, new Set(appended.keys()), (messages) => dropDuplicates(messages).length >= total);
    const kept = dropDuplicates(read);
    expect(kept).toHaveLength(total);
    sameOrder(idsByCase(kept), appended);
    // At-least-once: a batch sent but not yet checkpointed when the process died is sent again.
    expect(read.length).toBeGreaterThanOrEqual(total);
  });

  (canRunBroker ? describe : describe.skip)('with a broker of its own that is stopped mid-stream and started again', () => {
    const port = 19092;
    const ownBrokers = [`127.0.0.1:${port}`];
    /** tools/kafka/local.js on its own port; asynchronous, so appends and the relay go on meanwhile. */
    const broker = (...args: string[]) =>
      new Promise<void>((resolve, reject) => {
        execFile(process.execPath, [localBroker, ...args], { cwd: root, env: { ...process.env, SPOC_KAFKA_PORT: String(port) } }, (error, stdout, stderr) =>
          error ? reject(new Error(`local.js ${args.join(' ')} failed: ${stdout}${stderr}`)) : resolve(),
        );
      });
    const topicsOn = async () => {
      const admin = new Kafka({ brokers: ownBrokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        return await admin.listTopics();
      } finally {
        await admin.disconnect();
      }
    };

    beforeAll(async () => {
      await broker('stop'); // a fresh one, even if an earlier run left its broker behind
      await broker('start');
    }, 180_000);
    afterAll(() => broker('stop'), 60_000);

    it('creates the provision topics that are missing', async () => {
      expect((await topicsOn()).filter((topic) => topic.startsWith('spoc.cases.'))).toEqual([]);
      const relay = new KafkaRelay(store, ownBrokers, path.join(directory, 'relay.sqlite'), { log: quiet });
      relay.start();
      await store.append('referral-x', [testEvent('ReferralReceived')], 'no-stream');
      expect(await relay.waitFor((await store.headPosition())!, 30_000)).toBe(true);
      await relay.stop();
      expect(await topicsOn()).toEqual(expect.arrayContaining(allTopics));
    });

    it('waits while the broker is down, keeps its checkpoint, and resumes with nothing lost while appends go on', async () => {
      const cases = Array.from({ length: 200 }, (_, n) => {
        const caseId = newCaseId();
        return { caseId, events: caseLife(caseId, PROVISION_IDS[n % PROVISION_IDS.length], 10) };
      });
      const lines: string[] = [];
      const relay = new KafkaRelay(store, ownBrokers, path.join(directory, 'relay.sqlite'), { log: (line) => lines.push(line), retry: { initialMs: 100, maxMs: 1000 } });
      relay.start();
      let appendedCount = 0;
      let enough = false;
      const appending = appendInterleaved(store, cases, { everyMs: 5, onAppend: (count) => (appendedCount = count), stopWhen: () => enough });

      expect(await relay.waitFor(100n, 30_000)).toBe(true);
      await broker('stop', '--keep-data');
      const checkpointWhileDown = relay.checkpoint;
      const appendedWhileDown = appendedCount;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      // The log took more events; the relay could not have them acknowledged, so its checkpoint stayed.
      expect(appendedCount).toBeGreaterThan(appendedWhileDown + 20);
      expect(relay.checkpoint).toBe(checkpointWhileDown);
      expect(relay.checkpoint!).toBeLessThan((await store.headPosition())!);
      expect(relay.retrying).toBeGreaterThan(0);

      await broker('start');
      enough = true;
      const appended = await appending;
      const total = [...appended.values()].reduce((sum, ids) => sum + ids.length, 0);
      expect(await relay.waitFor((await store.headPosition())!, 60_000)).toBe(true);
      expect(relay.retrying).toBe(0);
      expect(relay.failed).toBeNull();
      await relay.stop();
      expect(lines.some((line) => line.includes('retrying'))).toBe(true);

      const read = await readTopics(ownBrokers, allTopics, new Set(appended.keys()), (messages) => dropDuplicates(messages).length >= total);
      const kept: ReadMessage[] = dropDuplicates(read);
      expect(kept).toHaveLength(total);
      sameOrder(idsByCase(kept), appended);
    });
  });
});
