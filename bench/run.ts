import { accessLogBench, auditHistoryBench } from './audit.bench';
import { intakeBench } from './intake.bench';
import { kafkaBench } from './kafka.bench';
import { queuesBench, rebuildBench } from './queues.bench';
import { reportsBench } from './reports.bench';
import { routingBench, whatIfBench } from './routing.bench';
import { storeBench } from './store.bench';
import { writeResults } from './harness';

/** `npm run bench [-- <name>...]`: runs every bench, or only those named. */
const benches: Record<string, () => Promise<void>> = {
  store: storeBench,
  intake: intakeBench,
  routing: routingBench,
  whatif: whatIfBench,
  history: auditHistoryBench,
  accesslog: accessLogBench,
  queues: queuesBench,
  rebuild: rebuildBench,
  reports: reportsBench,
  kafka: kafkaBench,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const [name, bench] of Object.entries(benches)) {
    if (wanted.length === 0 || wanted.includes(name)) await bench();
  }
  process.stdout.write(`results written to ${writeResults()}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
