import type { FastifyRequest } from 'fastify';
import { recordAccessed } from '../shared/audit/accessed';
import type { Principal } from '../shared/auth/principal';
import { accessRecordOf } from './access-log.hook';

const AT = new Date('2026-11-23T10:00:00.000Z');
const REFERRAL = '3f1e6a0c-2b7d-4c55-9d0e-8f6a1b2c3d4e';
const CASE = '6f0c1a52-8a55-4a3e-9d8e-2b2c9f0f1d11';
const police: Principal = { id: 'p-1', role: 'referrer', agency: 'hampshire-police', provision: null };

function request(method: string, url: string | undefined, params: Record<string, string> = {}, principal?: Principal): FastifyRequest {
  return { method, routeOptions: { url }, params, principal, correlationId: 'c-1' } as unknown as FastifyRequest;
}

describe('the access record of a request', () => {
  it('names the route pattern, the caller and the referral of a read that was let through', () => {
    expect(accessRecordOf(request('GET', '/v1/referrals/:id', { id: REFERRAL }, police), 200, AT)).toEqual({
      actor: { id: 'p-1', role: 'referrer', agency: 'hampshire-police' },
      method: 'GET',
      route: 'GET /v1/referrals/:id',
      referralIds: [REFERRAL],
      caseIds: [],
      outcome: 'allowed',
      statusCode: 200,
      at: '2026-11-23T10:00:00.000Z',
      correlationId: 'c-1',
    });
  });

  it('records 403 and 404 as denied, and nothing of a request nobody signed (401)', () => {
    expect(accessRecordOf(request('GET', '/v1/referrals/:id', { id: REFERRAL }), 401, AT)).toBeNull();
    expect(accessRecordOf(request('GET', '/v1/referrals/:id', { id: REFERRAL }, police), 403, AT)).toMatchObject({ outcome: 'denied', statusCode: 403 });
    expect(accessRecordOf(request('GET', '/v1/referrals/:id', { id: REFERRAL }, police), 404, AT)).toMatchObject({ outcome: 'denied', statusCode: 404 });
    expect(accessRecordOf(request('POST', '/v1/cases/:caseId/claim', { caseId: CASE }, police), 409, AT)).toMatchObject({ outcome: 'allowed', caseIds: [CASE] });
  });

  it('keeps only well-formed ids from the path, which can carry any text', () => {
    const record = accessRecordOf(request('GET', '/v1/referrals/:id', { id: 'Sam Taylor 1991-03-14' }, police), 404, AT);
    expect(record).toMatchObject({ referralIds: [], route: 'GET /v1/referrals/:id' });
    expect(JSON.stringify(record)).not.toContain('Taylor');
  });

  it('adds the referrals and cases a controller said it showed', () => {
    const queueRead = request('GET', '/v1/queues/:provision', { provision: 'idva' }, police);
    recordAccessed(queueRead, { caseIds: [CASE], referralIds: [REFERRAL] });
    recordAccessed(queueRead, { caseIds: [CASE] });
    expect(accessRecordOf(queueRead, 200, AT)).toMatchObject({ caseIds: [CASE], referralIds: [REFERRAL] });
  });

  it('leaves out routes without case data: principal management, health, unknown paths', () => {
    expect(accessRecordOf(request('POST', '/v1/admin/principals'), 201, AT)).toBeNull();
    expect(accessRecordOf(request('GET', '/health'), 200, AT)).toBeNull();
    expect(accessRecordOf(request('GET', undefined), 404, AT)).toBeNull();
  });
});
