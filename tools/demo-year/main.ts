import path from 'node:path';
import { generateDemo, type Ledger } from './generate';

/**
 * `npm run demo:year [-- --seed 1 --years 1 --scale 1 --from 2025-01-01 --data-dir ./data]`: a synthetic year of
 * referrals and case work, written through the service's own HTTP API into a fresh data directory, then the totals.
 */
async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const years = Number(args.years ?? 1);
  const options = {
    seed: Number(args.seed ?? 1),
    years,
    scale: Number(args.scale ?? 1),
    // Whole years that end before this one began, so every instant is in the past as the service requires.
    from: args.from ?? `${new Date().getUTCFullYear() - Math.ceil(years)}-01-01`,
    dataDir: path.resolve(args['data-dir'] ?? process.env.SPOC_DATA_DIR ?? './data'),
  };
  const problems = [
    Number.isInteger(options.seed) ? null : '--seed must be a whole number',
    years > 0 && years <= 20 ? null : '--years must be more than 0 and at most 20',
    options.scale > 0 && options.scale <= 10 ? null : '--scale must be more than 0 and at most 10',
    /^\d{4}-\d{2}-\d{2}$/.test(options.from) ? null : '--from must be a date YYYY-MM-DD',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  process.stdout.write(`generating ${years} year(s) from ${options.from}, seed ${options.seed}, scale ${options.scale}, into ${options.dataDir}\n`);
  const started = Date.now();
  const ledger = await generateDemo({ ...options, progress: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`${totals(ledger)}\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`serve it: SPOC_DATA_DIR=${options.dataDir} SPOC_BOOTSTRAP_ADMIN_TOKEN=<16+ characters> npm start\n`);
}

/** What was generated, by the figures the performance report shows. */
export function totals(ledger: Ledger): string {
  const tally = (values: string[]) => Object.entries(values.reduce<Record<string, number>>((counts, value) => ({ ...counts, [value]: (counts[value] ?? 0) + 1 }), {}))
    .sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key} ${n}`).join(', ');
  const referrals = ledger.referrals;
  const victims = referrals.filter((referral) => referral.referralType !== 'perpetrator');
  const percent = (part: number, whole: number) => `${whole === 0 ? 0 : ((100 * part) / whole).toFixed(1)}%`;
  const repeats = victims.filter((referral) => referral.isRepeat).length;
  const male = victims.filter((referral) => referral.gender === 'male').length;
  const cases = ledger.cases;
  return [
    `period ${ledger.from} to ${ledger.to}`,
    `referrals ${referrals.length}: ${tally(referrals.map((referral) => referral.agency))}`,
    `  by type: ${tally(referrals.map((referral) => referral.referralType))}`,
    `  by risk level: ${tally(referrals.map((referral) => referral.riskLevel ?? 'not-assessed'))}`,
    `  by status: ${tally(referrals.map((referral) => referral.status))}`,
    `victims ${victims.length}: repeat ${repeats} (${percent(repeats, victims.length)}), male ${male} (${percent(male, victims.length)}), with children ${referrals.filter((referral) => referral.expected.withChildren).length} referrals`,
    `MARAC listings ${referrals.filter((referral) => referral.marac).length} (repeat ${referrals.filter((referral) => referral.marac?.repeat).length})`,
    `cases ${cases.length}: ${tally(cases.map((entry) => entry.provision))}`,
    `  contact attempts ${cases.reduce((total, entry) => total + entry.attempts.length, 0)}, closed ${cases.filter((entry) => entry.closed).length}, transferred or declined ${cases.filter((entry) => entry.endedMs !== null && !entry.closed).length}`,
    `Encompass notifications ${ledger.notifications.length} (sent ${ledger.notifications.filter((entry) => entry.sentMs !== null).length}, on time ${ledger.notifications.filter((entry) => entry.sentMs !== null && entry.sentMs < entry.dueByMs).length})`,
    `refuge requests ${ledger.refuge.length} (placed ${ledger.refuge.filter((entry) => entry.placedMs !== null).length}, waitlisted at first ${ledger.refuge.filter((entry) => entry.placedMs === null || entry.placedMs > entry.requestedMs).length})`,
  ].join('\n');
}

function parseArgs(argv: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let index = 0; index < argv.length; index += 1) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[index]);
    if (!match) throw new Error(`unknown argument ${argv[index]}`);
    args[match[1]] = match[2] ?? argv[(index += 1)];
  }
  return args;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
