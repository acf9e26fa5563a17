import { PROVISION_IDS, CLOSE_OUTCOMES, type RoutingPolicy } from '@spoc/domain';
import { barChart, escapeHtml, type Bar } from './bar-chart';
import type { PerformanceReport } from './performance-report';
import { shownValue, SMALL_COUNT_LIMIT, type Figure } from './report-figures';

/** Chart labels must fit beside a bar; the tables give the policy's full names. */
const SHORT_NAMES: Record<(typeof PROVISION_IDS)[number], string> = {
  idva: 'IDVA', outreach: 'Outreach', refuge: 'Refuge', 'victim-support': 'Victim Support', up2u: 'Up2U', ypva: 'YPVA', 'whos-in-charge': "Who's in Charge?", mash: 'MASH',
};

// Both exports leave the partnership, so both always withhold small counts: there is no option to turn it off.

/** One row per figure, the period on every row so that files of several periods can be stacked. */
export function performanceCsv(report: PerformanceReport): string {
  const suppressed = new Set(report.suppressed);
  const rows = [['period_from', 'period_to', 'section', 'figure', 'label', 'unit', 'value']];
  for (const figure of report.figures) {
    const value = shownValue(figure, suppressed);
    rows.push([report.period.from, report.period.to, figure.section, figure.path, figure.label, figure.kind, value === null ? '' : String(value)]);
  }
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** Quoted where needed; a text cell that a spreadsheet would run as a formula is prefixed with an apostrophe. */
function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The one-page printable summary: key figures, bar charts drawn here as SVG, and two small tables. */
export function performanceHtml(report: PerformanceReport, policy: RoutingPolicy): string {
  const suppressed = new Set(report.suppressed);
  const byPath = new Map(report.figures.map((figure) => [figure.path, figure]));
  const show = (path: string) => display(byPath.get(path), suppressed);
  const bar = (figure: Figure, label = figure.label): Bar => ({ label, value: suppressed.has(figure.path) ? null : figure.value, shown: display(figure, suppressed) });
  const under = (prefix: string) => report.figures.filter((figure) => figure.path.startsWith(prefix));
  const provisionName = (provision: (typeof PROVISION_IDS)[number]) => policy.provisions[provision].name;

  const tiles = [
    ['Referrals received', show('referrals.total')],
    ['Repeat victims', `${show('victims.repeat.count')} (${show('victims.repeat.rate')})`],
    ['Male victims', show('victims.maleShare')],
    ['With children', show('referrals.withChildren.share')],
    ['MARAC cases', `${show('marac.cases')} (repeat ${show('marac.repeatRate')})`],
    ['Encompass on time', show('encompass.onTimeShare')],
    ['Refuge occupancy', show('refuge.occupancyRate')],
  ];
  const charts = [
    barChart('Referrals by source agency', under('referrals.byAgency.').map((figure) => bar(figure))),
    barChart('Referrals by risk level', under('referrals.byRiskLevel.').map((figure) => bar(figure))),
    barChart('Referrals by route', PROVISION_IDS.map((provision) => bar(byPath.get(`referrals.byRoute.${provision}`)!, SHORT_NAMES[provision]))),
    barChart('Median hours from routing to first contact', PROVISION_IDS.map((provision) => bar(byPath.get(`firstContact.${provision}.medianHours`)!, SHORT_NAMES[provision]))),
  ];
  const contactRows = PROVISION_IDS.map((provision) => {
    const cells = ['cases', 'contacted', 'medianHours', 'p90Hours', 'overdue'].map((key) => `<td>${escapeHtml(show(`firstContact.${provision}.${key}`))}</td>`);
    return `<tr><th>${escapeHtml(provisionName(provision))}</th>${cells.join('')}</tr>`;
  });
  const outcomeRows = PROVISION_IDS.map((provision) => {
    const cells = ['closed', ...CLOSE_OUTCOMES].map((key) => `<td>${escapeHtml(show(`outcomes.${provision}.${key}`))}</td>`);
    return `<tr><th>${escapeHtml(provisionName(provision))}</th>${cells.join('')}</tr>`;
  });
  const { from, to, timeZone } = report.period;
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>SPOC performance report ${escapeHtml(from)} to ${escapeHtml(to)}</title>
<style>
  @page { size: A4 portrait; margin: 10mm; }
  body { font: 10px/1.3 system-ui, sans-serif; color: #111; margin: 0 auto; max-width: 190mm; }
  h1 { font-size: 15px; margin: 0 0 2px; }
  p.meta { margin: 0 0 6px; color: #444; }
  .tiles { display: grid; grid-template-columns: repeat(7, 1fr); gap: 4px; margin-bottom: 6px; }
  .tile { border: 1px solid #bbb; padding: 3px 4px; }
  .tile b { display: block; font-size: 13px; }
  .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 2px 10px; }
  figure { margin: 0; break-inside: avoid; }
  figcaption { font-weight: 600; margin: 4px 0 1px; }
  svg text { font-size: 9px; fill: #111; }
  svg rect { fill: #3b5b8c; }
  table { border-collapse: collapse; width: 100%; margin-top: 4px; break-inside: avoid; }
  th, td { border: 1px solid #ccc; padding: 1px 3px; text-align: right; font-size: 9px; }
  th:first-child { text-align: left; }
  h2 { font-size: 11px; margin: 6px 0 0; }
  @media print { body { max-width: none; } .tile, th, td { border-color: #999; } }
</style>
</head>
<body>
<h1>Domestic abuse single point of contact: performance</h1>
<p class="meta">${escapeHtml(from)} to ${escapeHtml(to)} (local dates, ${escapeHtml(timeZone)}); generated ${escapeHtml(report.generatedAt)}. Referrals are counted by the date received,
MARAC cases by meeting date, first contact by the date the case was routed, outcomes by the date closed.
Counts from 1 to ${SMALL_COUNT_LIMIT - 1} are shown as &lt;${SMALL_COUNT_LIMIT}, and figures that would reveal them as “suppressed”.</p>
<div class="tiles">${tiles.map(([label, value]) => `<div class="tile">${escapeHtml(label)}<b>${escapeHtml(value)}</b></div>`).join('')}</div>
<div class="charts">${charts.join('\n')}</div>
<h2>First contact (hours from routing to the first attempt)</h2>
<table><tr><th>Provision</th><th>Cases</th><th>Attempted</th><th>Median h</th><th>90th pct h</th><th>Overdue</th></tr>${contactRows.join('')}</table>
<h2>Outcomes at closure</h2>
<table><tr><th>Provision</th><th>Closed</th>${CLOSE_OUTCOMES.map((outcome) => `<th>${escapeHtml(outcome)}</th>`).join('')}</tr>${outcomeRows.join('')}</table>
<h2>MARAC, Operation Encompass and refuge</h2>
<table>
<tr><th>MARAC meetings</th><td>${escapeHtml(show('marac.meetings'))}</td><th>Over capacity</th><td>${escapeHtml(show('marac.meetingsOverCapacity'))}</td><th>Repeat MARAC cases</th><td>${escapeHtml(show('marac.repeatCases'))}</td></tr>
<tr><th>Encompass notifications</th><td>${escapeHtml(show('encompass.notifications'))}</td><th>Sent</th><td>${escapeHtml(show('encompass.sent'))}</td><th>Sent on time</th><td>${escapeHtml(show('encompass.sentOnTime'))}</td></tr>
<tr><th>Refuge units</th><td>${escapeHtml(show('refuge.capacityUnits'))}</td><th>Average occupied</th><td>${escapeHtml(show('refuge.averageOccupiedUnits'))}</td><th>Longest waitlist</th><td>${escapeHtml(show('refuge.peakWaitlist'))}</td></tr>
</table>
</body>
</html>
`;
}

function display(figure: Figure | undefined, suppressed: ReadonlySet<string>): string {
  if (!figure) return '';
  const value = shownValue(figure, suppressed);
  if (typeof value === 'string') return value;
  if (value === null) return '–';
  if (figure.kind === 'share') return `${(value * 100).toFixed(1)}%`;
  return value.toLocaleString('en-GB');
}
