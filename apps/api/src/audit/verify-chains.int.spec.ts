import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventHash, SqliteEventStore } from '@spoc/event-store';
import { AnchoredLogDigest, LogAnchors } from '@spoc/platform';
import { testEvent } from '../../../../libs/event-store/src/testing/events';
import { verifyAllChains } from './verify-chains';

const ROOT = path.resolve(__dirname, '../../../..');

/** `npm run audit:verify` as an operator runs it, against SPOC_DATA_DIR. */
function auditVerify(dataDir: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['-r', path.join(ROOT, 'tools/ts-register.js'), path.join(__dirname, 'verify-chains.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, SPOC_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('verifying every hash chain in the store', () => {
  let directory: string;
  let file: string;

  beforeEach(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'spoc-verify-'));
    file = path.join(directory, 'events.sqlite');
    const store = new SqliteEventStore(file, { writer: 'inline' });
    await store.append('referral-a', [testEvent('ReferralReceived', { level: 'high' }), testEvent('RiskAssessed', { level: 'high' }), testEvent('ReferralRouted')], 'no-stream');
    await store.append('case-b', [testEvent('CaseOpened')], 'no-stream');
    await store.append('referral-a', [testEvent('RiskAssessed', { level: 'medium' })], 2n);
    await store.close();
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  const alter = (sql: string, ...params: unknown[]) => {
    const db = new Database(file);
    db.prepare(sql).run(...params);
    db.close();
  };

  it('reports every chain intact and exits 0', () => {
    const result = auditVerify(directory);
    expect(result).toMatchObject({
      status: 0,
      stdout: 'checked 5 events in 2 streams: every hash chain is intact\nno anchors kept apart from the log yet (the router keeps them): the chains alone were checked\n',
    });
  });

  it('exits 1 naming the stream, revision, position and event of a row altered in the file', () => {
    alter(`UPDATE events SET data = json_set(data, '$.level', 'standard') WHERE stream_id = 'referral-a' AND revision = 1`);
    const db = new Database(file, { readonly: true });
    const altered = db.prepare(`SELECT position, event_id FROM events WHERE stream_id = 'referral-a' AND revision = 1`).get() as { position: number; event_id: string };
    db.close();

    const result = auditVerify(directory);

    expect(result.status).toBe(1);
    expect(result.stdout).toBe(
      'checked 5 events in 2 streams: 1 broken\n' +
        `BROKEN referral-a at revision 1 (position ${altered.position}, event ${altered.event_id}): content does not match its hash\n` +
        'no anchors kept apart from the log yet (the router keeps them): the chains alone were checked\n',
    );
  });

  it('notices an event taken out of the middle of a stream', async () => {
    alter(`DELETE FROM events WHERE stream_id = 'referral-a' AND revision = 1`);
    const store = new SqliteEventStore(file, { writer: 'inline' });
    const report = await verifyAllChains(store);
    await store.close();
    expect(report.broken).toEqual([expect.objectContaining({ streamId: 'referral-a', revision: '2', reason: 'revision 2 where 1 was expected' })]);
  });

  it('exits 2 when there is no store where it looks', () => {
    const result = auditVerify(path.join(directory, 'missing'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no event store at');
  });

  describe('against the digests anchored apart from the log', () => {
    /** As the router anchors: the log folded in order, its digest kept at the last event read. */
    async function anchorTheLog(): Promise<void> {
      const store = new SqliteEventStore(file, { writer: 'inline' });
      const anchors = new LogAnchors(path.join(directory, 'log-anchors.sqlite'));
      const digest = new AnchoredLogDigest(anchors);
      for await (const event of store.readAll()) digest.add(event);
      anchors.record({ position: digest.position!, eventId: digest.eventId!, digest: digest.value, anchoredAt: '2026-12-01T10:00:00.000Z' });
      anchors.close();
      await store.close();
    }

    async function verify() {
      const store = new SqliteEventStore(file, { writer: 'inline' });
      const anchors = new LogAnchors(path.join(directory, 'log-anchors.sqlite'));
      try {
        return await verifyAllChains(store, anchors);
      } finally {
        anchors.close();
        await store.close();
      }
    }

    const rows = () => {
      const db = new Database(file, { readonly: true });
      const all = db.prepare('SELECT position, stream_id, revision FROM events ORDER BY position').all() as Array<{ position: number; stream_id: string; revision: number }>;
      db.close();
      return all;
    };

    beforeEach(() => anchorTheLog());

    it('agrees with an untouched log, and says so', async () => {
      expect(await verify()).toMatchObject({ broken: [], anchorMismatch: null, anchored: true });
      expect(auditVerify(directory)).toMatchObject({ status: 0, stdout: expect.stringContaining('the log agrees with every anchor kept apart from it') });
    });

    it("notices what no stream's chain shows: a stream's last event deleted, or a whole stream", async () => {
      alter(`DELETE FROM events WHERE stream_id = 'case-b'`);
      expect(await verify()).toMatchObject({ broken: [], anchorMismatch: { reason: 'the log before this position is not the one anchored' } });
    });

    it('notices the log cut short before its latest anchor (a tail deleted, or an older copy restored)', async () => {
      alter(`DELETE FROM events WHERE stream_id = 'referral-a' AND revision = 3`);
      expect(await verify()).toMatchObject({ broken: [], anchorMismatch: { reason: 'the log ends before this anchored position' } });
    });

    it('notices a stream rewritten with its hashes recomputed', async () => {
      const db = new Database(file);
      const stored = db.prepare(`SELECT * FROM events WHERE stream_id = 'referral-a' ORDER BY revision`).all() as Array<Record<string, string & number>>;
      let previousHash: string | null = null;
      for (const row of stored) {
        const data = JSON.parse(row.data) as Record<string, unknown>;
        if (row.revision === 1) data.level = 'standard';
        const event = { id: row.event_id, type: row.type, schemaVersion: row.schema_version, data, metadata: JSON.parse(row.metadata) };
        const hash = eventHash(event, { streamId: row.stream_id, revision: BigInt(row.revision), recordedAt: row.recorded_at, previousHash }, JSON.stringify(data), row.metadata);
        db.prepare('UPDATE events SET data = ?, previous_hash = ?, hash = ? WHERE position = ?').run(JSON.stringify(data), previousHash, hash, row.position);
        previousHash = hash;
      }
      db.close();
      const report = await verify();
      expect(report.broken).toEqual([]);
      expect(report.anchorMismatch).toMatchObject({ reason: 'the log before this position is not the one anchored' });

      const exit = auditVerify(directory);
      expect(exit.status).toBe(1);
      expect(exit.stdout).toMatch(/^ANCHOR at position \d+ \(anchored 2026-12-01T10:00:00.000Z\): the log before this position is not the one anchored$/m);
    });

    it('notices two events of different streams that changed places', async () => {
      const [first, second] = rows().filter((row) => row.stream_id === 'case-b' || (row.stream_id === 'referral-a' && row.revision === 2));
      alter('UPDATE events SET position = -1 WHERE position = ?', first.position);
      alter('UPDATE events SET position = ? WHERE position = ?', first.position, second.position);
      alter('UPDATE events SET position = ? WHERE position = -1', second.position);
      expect((await verify()).anchorMismatch).toMatchObject({ reason: 'the log before this position is not the one anchored' });
    });

  });
});

