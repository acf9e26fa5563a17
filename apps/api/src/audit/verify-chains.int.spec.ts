import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteEventStore } from '@spoc/event-store';
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
    expect(result).toMatchObject({ status: 0, stdout: 'checked 5 events in 2 streams: every hash chain is intact\n' });
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
        `BROKEN referral-a at revision 1 (position ${altered.position}, event ${altered.event_id}): content does not match its hash\n`,
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
});
