import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  evaluateRouting,
  factsForReplay,
  parsePolicy,
  scoreRisk,
  type ReferralRouted,
  type RiskInputs,
  type RiskAssessed,
  type RoutingFacts,
  type RoutingPolicy,
} from '@spoc/domain';
import type { EventStore } from '@spoc/event-store';

export interface WhatIfSummary {
  candidatePolicy: string;
  referrals: number;
  changed: number;
  byRule: Record<string, { changed: number; examples: string[] }>;
  byProvision: Record<string, { gained: number; lost: number; examples: string[] }>;
}

/**
 * Replays each referral's latest decision under a candidate policy and counts what would route differently.
 * Reads only. The risk level is scored again from the referral's own checklist with the candidate's thresholds,
 * so a change of bands shows; everything else is the facts the decision recorded.
 */
export async function whatIf(store: EventStore, candidate: RoutingPolicy): Promise<WhatIfSummary> {
  // Nothing is decrypted: the risk inputs on RiskAssessed and the facts on the decision carry no personal data, and
  // a school matters to routing only as named or not, which the facts record.
  const latest = new Map<string, { decision: ReferralRouted['data']; inputs: RiskInputs | null }>();
  const inputs = new Map<string, RiskInputs>();
  for await (const event of store.readAll({ filter: { streamPrefixes: ['referral-'], eventTypes: ['RiskAssessed', 'ReferralRouted'] } })) {
    if (event.type === 'RiskAssessed') {
      const data = event.data as RiskAssessed['data'];
      if (data.inputs) inputs.set(data.referralId, data.inputs);
    } else {
      const decision = event.data as ReferralRouted['data'];
      latest.set(decision.referralId, { decision, inputs: inputs.get(decision.referralId) ?? null });
    }
  }

  const summary: WhatIfSummary = { candidatePolicy: candidate.id, referrals: latest.size, changed: 0, byRule: {}, byProvision: {} };
  for (const [referralId, { decision, inputs: risk }] of latest) {
    const facts: RoutingFacts = factsForReplay(decision, null, 'named');
    if (risk) {
      const score = scoreRisk(risk, candidate.riskThresholds, decision.facts.repeat.repeatMarac);
      facts.riskLevel = score.level;
      facts.riskCriteria = score.criteria;
    }
    const outcome = evaluateRouting(facts, candidate);
    const before = new Map(decision.cases.map((routed) => [routed.provision, routed.status]));
    const after = new Map(outcome.routes.map((route) => [route.provision, route.status]));
    const rulesBefore = new Set(decision.outcome.rulesFired);
    const rulesAfter = new Set(outcome.rulesFired);
    const changedRules = [...new Set([...rulesBefore, ...rulesAfter])].filter((rule) => rulesBefore.has(rule) !== rulesAfter.has(rule));
    const changedProvisions = [...new Set([...before.keys(), ...after.keys()])].filter((provision) => before.get(provision) !== after.get(provision));
    if (changedRules.length === 0 && changedProvisions.length === 0) continue;
    summary.changed += 1;
    for (const rule of changedRules) {
      const entry = (summary.byRule[rule] ??= { changed: 0, examples: [] });
      entry.changed += 1;
      if (entry.examples.length < 3) entry.examples.push(referralId);
    }
    for (const provision of changedProvisions) {
      const entry = (summary.byProvision[provision] ??= { gained: 0, lost: 0, examples: [] });
      if (after.has(provision) && !before.has(provision)) entry.gained += 1;
      else if (!after.has(provision)) entry.lost += 1;
      if (entry.examples.length < 3) entry.examples.push(referralId);
    }
  }
  return summary;
}

/** `npm run policy:whatif -- <policy file>`: prints the summary as JSON; writes nothing. */
async function main(): Promise<void> {
  const [file] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: npm run policy:whatif -- <candidate policy file>\n');
    process.exit(2);
  }
  const { loadConfig } = await import('../../api/src/config');
  const { SqliteEventStore, EventStoreDbEventStore } = await import('@spoc/event-store');
  const candidate = parsePolicy(JSON.parse(readFileSync(path.resolve(file), 'utf8')));
  const config = loadConfig();
  const store = config.eventStoreConnectionString
    ? new EventStoreDbEventStore(config.eventStoreConnectionString)
    : new SqliteEventStore(path.join(config.dataDir, 'events.sqlite'), { writer: 'inline' });
  const summary = await whatIf(store, candidate);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  await store.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    const known = (error as { code?: string }).code === 'invalid-policy';
    process.stderr.write(`${known ? (error as Error).message : `what-if failed: ${(error as Error).name}`}\n`);
    process.exit(1);
  });
}
