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

/** What would route differently for one referral; null when nothing would. */
interface Difference {
  rules: string[];
  provisions: Array<{ provision: string; gained: boolean; lost: boolean }>;
}

/**
 * Replays each referral's latest decision under a candidate policy and counts what would route differently.
 * Reads only. The risk level is scored again from the referral's own checklist with the candidate's thresholds,
 * so a change of bands shows; everything else is the facts the decision recorded.
 */
export async function whatIf(store: EventStore, candidate: RoutingPolicy): Promise<WhatIfSummary> {
  // Nothing is decrypted: the risk inputs on RiskAssessed and the facts on the decision carry no personal data, and
  // a school matters to routing only as named or not, which the facts record.
  // Each decision is compared as it is read, keeping only what differs (a referral's later decision replaces it):
  // holding every decision until the end cost the replay more in garbage collection than comparing them. A failure
  // is kept the same way, so that only the failure of a referral's latest decision stops the replay.
  const latest = new Map<string, Difference | null | { failed: unknown }>();
  const inputs = new Map<string, RiskInputs>();
  for await (const event of store.readAll({ filter: { streamPrefixes: ['referral-'], eventTypes: ['RiskAssessed', 'ReferralRouted'] } })) {
    if (event.type === 'RiskAssessed') {
      const data = event.data as RiskAssessed['data'];
      if (data.inputs) inputs.set(data.referralId, data.inputs);
    } else {
      const decision = event.data as ReferralRouted['data'];
      let difference: Difference | null | { failed: unknown };
      try {
        difference = differenceOf(decision, inputs.get(decision.referralId) ?? null, candidate);
      } catch (failed) {
        difference = { failed };
      }
      latest.set(decision.referralId, difference);
    }
  }

  const summary: WhatIfSummary = { candidatePolicy: candidate.id, referrals: latest.size, changed: 0, byRule: {}, byProvision: {} };
  for (const [referralId, difference] of latest) {
    if (difference === null) continue;
    if ('failed' in difference) throw difference.failed;
    summary.changed += 1;
    for (const rule of difference.rules) {
      const entry = (summary.byRule[rule] ??= { changed: 0, examples: [] });
      entry.changed += 1;
      if (entry.examples.length < 3) entry.examples.push(referralId);
    }
    for (const { provision, gained, lost } of difference.provisions) {
      const entry = (summary.byProvision[provision] ??= { gained: 0, lost: 0, examples: [] });
      if (gained) entry.gained += 1;
      else if (lost) entry.lost += 1;
      if (entry.examples.length < 3) entry.examples.push(referralId);
    }
  }
  return summary;
}

function differenceOf(decision: ReferralRouted['data'], risk: RiskInputs | null, candidate: RoutingPolicy): Difference | null {
  const facts: RoutingFacts = factsForReplay(decision, null, 'named');
  if (risk) {
    const score = scoreRisk(risk, candidate.riskThresholds, decision.facts.repeat.repeatMarac);
    facts.riskLevel = score.level;
    facts.riskCriteria = score.criteria;
  }
  const outcome = evaluateRouting(facts, candidate);
  // Most referrals route as they did, which shows without building the sets below.
  const { rulesFired } = decision.outcome;
  const sameRules = rulesFired.length === outcome.rulesFired.length && rulesFired.every((rule, index) => rule === outcome.rulesFired[index]);
  const sameRoutes =
    decision.cases.length === outcome.routes.length &&
    decision.cases.every(({ provision, status }, index) => provision === outcome.routes[index].provision && status === outcome.routes[index].status);
  if (sameRules && sameRoutes) return null;
  const before = new Map(decision.cases.map((routed) => [routed.provision, routed.status]));
  const after = new Map(outcome.routes.map((route) => [route.provision, route.status]));
  const rulesBefore = new Set(decision.outcome.rulesFired);
  const rulesAfter = new Set(outcome.rulesFired);
  const rules = [...new Set([...rulesBefore, ...rulesAfter])].filter((rule) => rulesBefore.has(rule) !== rulesAfter.has(rule));
  const provisions = [...new Set([...before.keys(), ...after.keys()])]
    .filter((provision) => before.get(provision) !== after.get(provision))
    .map((provision) => ({ provision, gained: after.has(provision) && !before.has(provision), lost: !after.has(provision) }));
  return rules.length === 0 && provisions.length === 0 ? null : { rules, provisions };
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
