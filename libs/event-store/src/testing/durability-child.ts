/**
 * A writer that reports each acknowledged append on stdout and is killed by the contract test mid-stream.
 * Run as: node -r tools/ts-register.js durability-child.ts <factory-module> <factory-argument> <stream-prefix>
 * The factory module exports `openStore(argument): EventStore`.
 */
import { testEvent } from './events';
import type { EventStore } from '../event-store.port';

async function main(): Promise<void> {
  const [factoryModule, argument, prefix] = process.argv.slice(2);
  const { openStore } = require(factoryModule) as { openStore(argument: string): EventStore };
  const store = openStore(argument);
  const writers = 4;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const streamId = `${prefix}-${writer}`;
      for (let revision = 0n; ; revision += 1n) {
        const event = testEvent('DurabilityProbe', { writer, revision: revision.toString(), payload: 'x'.repeat(200) });
        await store.append(streamId, [event], revision === 0n ? 'no-stream' : revision - 1n);
        process.stdout.write(`ack ${streamId} ${revision} ${event.id}\n`);
      }
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
