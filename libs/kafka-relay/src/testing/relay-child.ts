/**
 * A relay in a process of its own, for the contract test that kills it with SIGKILL mid-stream. Prints its
 * checkpoint as it moves. Run as: node -r tools/ts-register.js relay-child.ts <events.sqlite> <relay.sqlite> <brokers>
 */
import { SqliteEventStore } from '@spoc/event-store';
import { KafkaRelay } from '../kafka-relay';

const [eventsFile, stateFile, brokers] = process.argv.slice(2);
// Another process appends: look for its events often. Small batches, so a kill lands between two of them.
const store = new SqliteEventStore(eventsFile, { writer: 'inline', pollIntervalMs: 10 });
const relay = new KafkaRelay(store, brokers.split(','), stateFile, { batchSize: 16 });
relay.start();
let printed: bigint | null = null;
setInterval(() => {
  if (relay.checkpoint === printed) return;
  printed = relay.checkpoint;
  process.stdout.write(`checkpoint ${printed ?? 0}\n`);
}, 5);
