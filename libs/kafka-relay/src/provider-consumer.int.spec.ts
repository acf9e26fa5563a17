import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore } from '@spoc/event-store';
import { KafkaRelay } from './kafka-relay';
import { appendInterleaved, caseLife, newCaseId } from './testing/case-events';

const brokers = process.env.KAFKA_BROKERS?.split(',').map((broker) => broker.trim()).filter(Boolean) ?? [];
const root = path.resolve(__dirname, '../../..');

(brokers.length > 0 ? describe : describe.skip)('the example provider consumer (npm run example:provider-consumer -- idva)', () => {
  jest.setTimeout(60_000);

  it("prints each case routed to its provision as it arrives, and no other provision's", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'spoc-provider-consumer-'));
    const store = new SqliteEventStore(path.join(directory, 'events.sqlite'));
    const relay = new KafkaRelay(store, brokers, path.join(directory, 'relay.sqlite'), { log: () => undefined });
    const consumer = spawn(process.execPath, [path.join(root, 'tools/kafka/provider-consumer.js'), 'idva'], {
      cwd: root,
      env: { ...process.env, KAFKA_BROKERS: brokers.join(','), SPOC_CONSUMER_GROUP: `example-test-${randomUUID()}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const printed = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not printed: ${text}\n${output}`)), 45_000);
        const check = () => output.includes(text) && (clearTimeout(timer), consumer.stdout!.off('data', check), resolve());
        consumer.stdout!.on('data', check);
        check();
      });
    consumer.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await printed('listening on spoc.cases.idva');
      relay.start();
      const idva = newCaseId();
      const outreach = newCaseId();
      await appendInterleaved(store, [
        { caseId: idva, events: caseLife(idva, 'idva', 2) },
        { caseId: outreach, events: caseLife(outreach, 'outreach', 2) },
      ]);
      await printed(`org.spoc.case.claimed.v1 case ${idva}`);
      expect(output).toMatch(new RegExp(`org\\.spoc\\.case\\.opened\\.v1 case ${idva} \\(referral [0-9a-f-]+\\) awaiting: routed, risk high, first contact due `));
      expect(output).not.toContain(outreach);
    } finally {
      await new Promise((resolve) => (consumer.once('exit', resolve), consumer.kill('SIGTERM')));
      await relay.stop();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
