import { existsSync } from 'node:fs';
import path from 'node:path';
import { ChainVerifier, type EventStore } from '@spoc/event-store';
import { AnchoredLogDigest, type AnchorMismatch, type LogAnchors } from '@spoc/platform';
import type { BrokenEvent } from './referral-history';

export interface ChainsReport {
  streams: number;
  events: number;
  /** The first broken event of each broken stream, in log order. */
  broken: BrokenEvent[];
  /** Where the log first disagrees with the digests anchored apart from it; null when it agrees (or none are kept). */
  anchorMismatch: AnchorMismatch | null;
  /** Whether any anchor was there to check against. */
  anchored: boolean;
}

/**
 * Checks every stream's hash chain in one pass over the log: each event must match its hash and link to the one
 * before it in its stream, with no revision missing. A stream's events come in revision order in the log, so one
 * verifier per stream is enough. What a chain cannot show (the loss of a stream's last events or of a whole
 * stream, events moved, a stream rewritten with its hashes recomputed), the log's digest checked against the
 * anchors the router keeps apart from the log does, up to the latest anchor.
 */
export async function verifyAllChains(store: EventStore, anchors: LogAnchors | null = null): Promise<ChainsReport> {
  const verifiers = new Map<string, ChainVerifier>();
  const broken: BrokenEvent[] = [];
  const digest = new AnchoredLogDigest(anchors);
  let events = 0;
  for await (const event of store.readAll()) {
    events += 1;
    digest.add(event);
    let verifier = verifiers.get(event.streamId);
    if (!verifier) verifiers.set(event.streamId, (verifier = new ChainVerifier()));
    const wasValid = verifier.verdict().valid;
    if (!verifier.add(event) && wasValid) {
      const verdict = verifier.verdict();
      if (!verdict.valid) broken.push(verdict.brokenAt);
    }
  }
  digest.checkHead(digest.position);
  return { streams: verifiers.size, events, broken, anchorMismatch: digest.mismatch, anchored: anchors?.latest() != null };
}

export function describeReport(report: ChainsReport): string {
  const lines = [`checked ${report.events} events in ${report.streams} streams: ${report.broken.length === 0 ? 'every hash chain is intact' : `${report.broken.length} broken`}`];
  for (const at of report.broken) {
    lines.push(`BROKEN ${at.streamId} at revision ${at.revision} (position ${at.position}, event ${at.eventId}): ${at.reason}`);
  }
  const mismatch = report.anchorMismatch;
  if (mismatch) lines.push(`ANCHOR at position ${mismatch.position} (anchored ${mismatch.anchoredAt}): ${mismatch.reason}`);
  else lines.push(report.anchored ? 'the log agrees with every anchor kept apart from it' : 'no anchors kept apart from the log yet (the router keeps them): the chains alone were checked');
  return `${lines.join('\n')}\n`;
}

/** `npm run audit:verify`: exits 1 naming each broken stream and event, 2 when the store cannot be read. */
async function main(): Promise<void> {
  const { loadConfig, logAnchorsFile } = await import('../config');
  const { LogAnchors } = await import('@spoc/platform');
  const { SqliteEventStore, EventStoreDbEventStore } = await import('@spoc/event-store');
  const config = loadConfig();
  const file = path.join(config.dataDir, 'events.sqlite');
  if (!config.eventStoreConnectionString && !existsSync(file)) {
    process.stderr.write(`no event store at ${file} (set SPOC_DATA_DIR)\n`);
    process.exit(2);
  }
  // None kept yet (no router has run here): the chains are checked alone, and the report says so.
  const anchors = existsSync(logAnchorsFile(config)) ? new LogAnchors(logAnchorsFile(config)) : null;
  const store: EventStore = config.eventStoreConnectionString
    ? new EventStoreDbEventStore(config.eventStoreConnectionString)
    : new SqliteEventStore(file, { writer: 'inline' });
  try {
    const report = await verifyAllChains(store, anchors);
    process.stdout.write(describeReport(report));
    process.exitCode = report.broken.length === 0 && report.anchorMismatch === null ? 0 : 1;
  } finally {
    await store.close();
    anchors?.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    // By kind only: an error's message may quote stored data.
    const known = (error as { name?: string }).name === 'ConfigError';
    process.stderr.write(`${known ? (error as Error).message : `audit:verify failed: ${(error as Error).name}`}\n`);
    process.exit(2);
  });
}
