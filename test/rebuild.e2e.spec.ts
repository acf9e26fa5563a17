import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../apps/api/src/config';
import { READ_MODEL_FILE, rebuildReadModels } from '../apps/api/src/rebuild-read-models';
import { validPerpetratorReferral, validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { ADMIN_TOKEN, bearer, TestApp } from './support/test-app';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

/** Every row of every table in the read-model file, in a stable order, and every index the tables have. */
function snapshot(dataDir: string): Record<string, string[]> {
  const db = new Database(path.join(dataDir, READ_MODEL_FILE), { readonly: true });
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
  const rows = Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row)).sort()]));
  rows['(indexes)'] = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all().map((row) => row.sql);
  db.close();
  return rows;
}

describe('rebuilding the read models from the log', () => {
  it('gives, after a scripted day, read models equal to the live ones, row for row', async () => {
    const app = await TestApp.start();
    const token = async (body: Record<string, unknown>) => (await app.createPrincipal(body)).token;
    const police = await token({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' });
    const gp = await token({ role: 'referrer', name: 'GP surgery', agency: 'gp-practice' });
    const workers: Record<string, string> = {};
    for (const provision of ['idva', 'outreach', 'victim-support', 'refuge', 'mash', 'up2u']) workers[provision] = await token({ role: 'caseworker', name: provision, provision });
    const auditor = await token({ role: 'auditor', name: 'Board' });
    const post = async (body: object, as = police) => {
      const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(as)).send(body).expect(202);
      const { body: referral } = await app.http().get(`/v1/referrals/${accepted.referralId}?waitForRoutes=5000`).set(bearer(as)).expect(200);
      return { referral, caseAt: (provision: string) => referral.routes.find((route: { provision: string }) => route.provision === provision).caseId as string };
    };
    const act = (provision: string, caseId: string, action: string, body: object = {}) =>
      app.http().post(`/v1/cases/${caseId}/${action}`).set(bearer(workers[provision])).send(body).expect(200);

    // The day: a high-risk victim with a child, a medium, a standard one (from a GP), a perpetrator, a refuge need.
    const high = await post(validVictimReferral({ agencyReference: 'DAY-1', subject: { lastName: 'Dayone' }, riskAssessment: validRiskAssessment({ answers: answers(16) }) }));
    const medium = await post(validVictimReferral({ agencyReference: 'DAY-2', subject: { lastName: 'Daytwo' }, children: [], riskAssessment: validRiskAssessment({ answers: answers(11) }) }));
    const standard = await post(validVictimReferral({ agencyReference: 'DAY-3', subject: { lastName: 'Daythree' }, children: [] }), gp);
    await post(validPerpetratorReferral({ agencyReference: 'DAY-4' }));
    const shelter = await post(validVictimReferral({ agencyReference: 'DAY-5', subject: { lastName: 'Dayfive' }, children: [], needs: { safeAccommodation: true } }));

    await act('idva', high.caseAt('idva'), 'claim');
    await act('idva', high.caseAt('idva'), 'contact-attempts', { outcome: 'contacted', note: 'safety plan started' });
    await act('mash', high.caseAt('mash'), 'claim');
    await act('mash', high.caseAt('mash'), 'close', { outcome: 'engaged-ongoing-risk' });
    await act('outreach', medium.caseAt('outreach'), 'transfer', { toProvision: 'idva', reason: 'escalating' });
    await act('victim-support', standard.caseAt('victim-support'), 'decline', { reason: 'more than we can offer' });
    await act('refuge', shelter.caseAt('refuge'), 'claim');
    await act('refuge', shelter.caseAt('refuge'), 'close', { outcome: 'moved-away' });
    await app.http().post(`/v1/referrals/${medium.referral.referralId}/reassessments`).set(bearer(police)).send({ riskAssessment: validRiskAssessment({ answers: answers(3) }) }).expect(202);
    const notificationId = high.referral.encompass[0].notificationId;
    await app.http().post(`/v1/encompass/notifications/${notificationId}/sent`).set(bearer(workers.idva)).expect(200);
    await app.http().get(`/v1/queues/idva`).set(bearer(workers.idva)).expect(200);
    await app.http().get(`/v1/referrals/${high.referral.referralId}`).set(bearer(auditor)).expect(200);
    await app.http().delete(`/v1/admin/principals/${(await app.createPrincipal({ role: 'auditor', name: 'temporary' })).id}`).set(bearer(ADMIN_TOKEN)).expect(204);

    // Let the router finish what the day set off (the decline's referral-on, the refuge release) before closing.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await app.close({ keepData: true });

    const live = snapshot(app.dataDir);
    const config = loadConfig({ SPOC_DATA_DIR: app.dataDir, PORT: '0' });
    const { events } = await rebuildReadModels(config);
    const rebuilt = snapshot(app.dataDir);
    rmSync(app.dataDir, { recursive: true, force: true });

    expect(events).toBeGreaterThan(40);
    expect(Object.keys(rebuilt)).toEqual(Object.keys(live));
    for (const table of Object.keys(live)) expect({ table, rows: rebuilt[table] }).toEqual({ table, rows: live[table] });
    expect(live.cases.length).toBeGreaterThan(8);
  });

  it('refuses to run while the service still has the read models open, and leaves them as they were', async () => {
    const app = await TestApp.start();
    try {
      const police = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
      const { body } = await app.http().post('/v1/referrals').set(bearer(police)).send(validVictimReferral({ agencyReference: 'BUSY-1' })).expect(202);
      await expect(rebuildReadModels(loadConfig({ SPOC_DATA_DIR: app.dataDir, PORT: '0' }))).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      await app.http().get(`/v1/referrals/${body.referralId}`).set(bearer(police)).expect(200);
    } finally {
      await app.close();
    }
  }, 30_000);
});
