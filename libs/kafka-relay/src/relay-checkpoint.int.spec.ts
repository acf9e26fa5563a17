import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore } from '@spoc/event-store';
import { testEvent } from '../../event-store/src/testing/events';
import type { CasePublisher } from './case-publisher';
import type { CaseMessage } from './cloud-event';
import { KafkaRelay } from './kafka-relay';
import { RelayState } from './relay-state';
import { caseLife, newCaseId } from './testing/case-events';

/** A broker stand-in whose acknowledgements the test hands out, and which can refuse a number of attempts. */
class GatedPublisher implements CasePublisher {
  readonly published: CaseMessage[] = [];
  readonly topics = new Set<string>();
  refusals = 0;
  attempts = 0;
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open();
  }
  async ensureTopics(topics: readonly string[]): Promise<void> {
    topics.forEach((topic) => this.topics.add(topic));
  }
  async publish(messages: readonly CaseMessage[]): Promise<void> {
    this.attempts += 1;
    await this.gate;
    if (this.refusals > 0) {
      this.refusals -= 1;
      throw new Error('broker unreachable');
    }
    this.published.push(...messages);
  }
  async reset(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('the Kafka relay checkpoint', () => {
  let directory: string;
  let store: SqliteEventStore;
  let stateFile: string;
  const quiet = () => undefined;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-relay-checkpoint-'));
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    stateFile = path.join(directory, 'relay.sqlite');
  });
  afterEach(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const savedCheckpoint = () => {
    const state = new RelayState(stateFile);
    try {
      return state.checkpoint()?.position ?? null;
    } finally {
      state.close();
    }
  };

  it('moves only after the broker acknowledged, in memory and in its state file', async () => {
    const publisher = new GatedPublisher();
    publisher.hold();
    const relay = new KafkaRelay(store, [], stateFile, { publisher, log: quiet });
    relay.start();
    const caseId = newCaseId();
    const { position } = await store.append(`case-${caseId}`, caseLife(caseId, 'idva', 3), 'no-stream');

    expect(await relay.waitFor(position, 300)).toBe(false);
    expect(publisher.attempts).toBeGreaterThan(0);
    expect(relay.checkpoint).toBeNull();
    expect(savedCheckpoint()).toBeNull();

    publisher.release();
    expect(await relay.waitFor(position)).toBe(true);
    expect(savedCheckpoint()).toBe(position);
    expect(publisher.published.map((message) => message.key)).toEqual([caseId, caseId, caseId]);
    await relay.stop();
  });

  it('passes events of other streams without publishing them, so its checkpoint reaches the head of the log', async () => {
    const publisher = new GatedPublisher();
    const relay = new KafkaRelay(store, [], stateFile, { publisher, log: quiet });
    relay.start();
    await store.append('referral-1', [testEvent('ReferralReceived'), testEvent('ReferralRouted')], 'no-stream');
    const { position } = await store.append('refuge-units', [testEvent('RefugeUnitRequested')], 'no-stream');
    expect(await relay.waitFor(position)).toBe(true);
    expect(publisher.published).toEqual([]);
    expect(publisher.topics.size).toBe(8);
    await relay.stop();
  });

  it("publishes nothing of a case held for consent, across a restart, and goes past it to the next case", async () => {
    const publisher = new GatedPublisher();
    const held = newCaseId();
    const [opened] = caseLife(held, 'outreach', 1);
    (opened.data as { status: string }).status = 'held-awaiting-consent';
    let relay = new KafkaRelay(store, [], stateFile, { publisher, log: quiet });
    relay.start();
    expect(await relay.waitFor((await store.append(`case-${held}`, [opened], 'no-stream')).position)).toBe(true);
    await relay.stop();
    relay = new KafkaRelay(store, [], stateFile, { publisher, log: quiet });
    relay.start();
    await store.append(`case-${held}`, [testEvent('CaseSuperseded', { caseId: held, referralId: 'r-held', decisionNumber: 1, supersededAt: new Date().toISOString(), reason: 'consent given' })], 0n);
    const next = newCaseId();
    expect(await relay.waitFor((await store.append(`case-${next}`, caseLife(next, 'outreach', 1), 'no-stream')).position)).toBe(true);
    expect(relay.failed).toBeNull();
    expect(publisher.published.map((message) => message.key)).toEqual([next]);
    await relay.stop();
  });

  // A restore leaves a log shorter than the checkpoint; appended to before the relay starts again, it may be
  // longer, with other events at the checkpoint's position.
  it.each([
    ['shorter than its checkpoint', 1],
    ['that has grown past its checkpoint', 5],
  ])('sends a restored log %s again from the start, and what comes next', async (_, meanwhileCases) => {
    const first = new GatedPublisher();
    const before = new KafkaRelay(store, [], stateFile, { publisher: first, log: quiet });
    before.start();
    const oldCase = newCaseId();
    const { position } = await store.append(`case-${oldCase}`, caseLife(oldCase, 'idva', 3), 'no-stream');
    expect(await before.waitFor(position)).toBe(true);
    await before.stop();

    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(directory, `events.sqlite${suffix}`), { force: true });
    store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    // Appended to the restored log before the relay started again (caseworkers' actions through the API).
    const meanwhile = Array.from({ length: meanwhileCases }, () => newCaseId());
    for (const caseId of meanwhile) await store.append(`case-${caseId}`, caseLife(caseId, 'idva', 1), 'no-stream');
    expect((await store.headPosition())! > position).toBe(meanwhileCases > 1);
    const lines: string[] = [];
    const publisher = new GatedPublisher();
    const after = new KafkaRelay(store, [], stateFile, { publisher, log: (line) => lines.push(line) });
    after.start();
    const newCase = newCaseId();
    const appended = await store.append(`case-${newCase}`, caseLife(newCase, 'outreach', 1), 'no-stream');
    expect(await after.waitFor(appended.position)).toBe(true);
    expect(publisher.published.map((message) => message.key)).toEqual([...meanwhile, newCase]);
    expect(lines.join('\n')).toContain('(was the log restored?)');
    await after.stop();
  });

  it('retries a refused batch with back-off and loses nothing', async () => {
    const publisher = new GatedPublisher();
    publisher.refusals = 3;
    const lines: string[] = [];
    const relay = new KafkaRelay(store, [], stateFile, { publisher, log: (line) => lines.push(line), retry: { initialMs: 10, maxMs: 40 } });
    relay.start();
    const caseId = newCaseId();
    const { position } = await store.append(`case-${caseId}`, caseLife(caseId, 'refuge', 4), 'no-stream');
    expect(await relay.waitFor(position)).toBe(true);
    expect(publisher.published).toHaveLength(4);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/attempt 3, retrying in 40 ms from checkpoint none/);
    expect(relay.retrying).toBe(0);
    await relay.stop();
  });

  it('after a restart resumes from its checkpoint and still knows the provision of a case opened before it', async () => {
    const first = new GatedPublisher();
    const caseId = newCaseId();
    const [opened, claimed] = caseLife(caseId, 'ypva', 3);
    let relay = new KafkaRelay(store, [], stateFile, { publisher: first, log: quiet });
    relay.start();
    expect(await relay.waitFor((await store.append(`case-${caseId}`, [opened], 'no-stream')).position)).toBe(true);
    await relay.stop();

    const second = new GatedPublisher();
    const { position } = await store.append(`case-${caseId}`, [claimed], 0n);
    relay = new KafkaRelay(store, [], stateFile, { publisher: second, log: quiet });
    relay.start();
    expect(await relay.waitFor(position)).toBe(true);
    expect(second.published.map((message) => [message.topic, message.headers.ce_id])).toEqual([['spoc.cases.ypva', claimed.id]]);
    await relay.stop();
  });

  it('stops at a case event it cannot map, keeping its checkpoint before it, rather than skip it', async () => {
    const publisher = new GatedPublisher();
    const lines: string[] = [];
    const relay = new KafkaRelay(store, [], stateFile, { publisher, log: (line) => lines.push(line) });
    relay.start();
    const caseId = newCaseId();
    const good = await store.append(`case-${caseId}`, caseLife(caseId, 'idva', 1), 'no-stream');
    expect(await relay.waitFor(good.position)).toBe(true);
    const bad = await store.append(`case-${caseId}`, [testEvent('CaseNoteAdded', { note: 'free text' })], 0n);

    expect(await relay.waitFor(bad.position, 500)).toBe(false);
    expect(relay.failed).toEqual(expect.objectContaining({ code: 'unmapped-case-event' }));
    expect(relay.checkpoint).toBe(good.position);
    expect(lines.join('\n')).not.toContain('free text');
    await relay.stop();
    expect(savedCheckpoint()).toBe(good.position);
  });
});
