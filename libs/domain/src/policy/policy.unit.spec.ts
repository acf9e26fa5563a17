import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidPolicyError, parsePolicy } from './policy';

describe('the routing policy document', () => {
  it('loads the Portsmouth policy in the repository', () => {
    const document = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../policies/portsmouth-2026-1.json'), 'utf8'));
    expect(parsePolicy(document)).toEqual({
      id: 'portsmouth-2026-1',
      effectiveFrom: '2026-01-01',
      riskThresholds: { highDashScore: 14, mediumDashScore: 10, escalationPoliceCallouts: 3 },
    });
  });

  it('refuses a bad policy with every problem listed', () => {
    expect(() => parsePolicy({ effectiveFrom: 'soon', riskThresholds: { highDashScore: 8, mediumDashScore: 10 } })).toThrow(InvalidPolicyError);
    let error: unknown;
    try {
      parsePolicy({ effectiveFrom: 'soon', riskThresholds: { highDashScore: 30, mediumDashScore: -1 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidPolicyError);
    expect((error as InvalidPolicyError).problems).toEqual([
        'id must be a non-empty string',
        'effectiveFrom must be a date YYYY-MM-DD',
        'riskThresholds.mediumDashScore must be a whole number >= 0',
        'riskThresholds.escalationPoliceCallouts must be a whole number >= 0',
        'riskThresholds.highDashScore cannot exceed the 24 questions',
    ]);
  });
});
