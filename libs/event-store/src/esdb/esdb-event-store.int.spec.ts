import path from 'node:path';
import { eventStoreContract, type ContractTarget } from '../testing/event-store.contract';
import { EventStoreDbEventStore } from './esdb-event-store';

// Runs the shared contract suite against a real EventStoreDB, e.g.
//   docker compose up -d eventstore
//   EVENTSTORE_CONNECTION_STRING='esdb://localhost:2113?tls=false' npx jest libs/event-store/src/esdb
// Without the variable the suite is reported as skipped. The server keeps streams between runs; the suite uses
// a fresh stream id per test. There is no `tamper` capability: ESDB offers no way to alter a stored event.
const connection = process.env.EVENTSTORE_CONNECTION_STRING;

function open(): ContractTarget {
  const store = new EventStoreDbEventStore(connection!);
  return { store, cleanup: () => store.close() };
}

(connection ? describe : describe.skip)('EventStoreDB adapter (EVENTSTORE_CONNECTION_STRING)', () => {
  eventStoreContract('EventStoreDB', async () => open(), {
    // A writer process killed mid-stream: every append it was told was stored must be on the server.
    durability: {
      factoryModule: path.join(__dirname, 'esdb-event-store.ts'),
      argument: () => connection!,
      reopen: async () => open(),
    },
  });
});
