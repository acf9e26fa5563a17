export interface Bar {
  label: string;
  /** null draws no bar (a withheld or missing figure); `shown` still says what it is. */
  value: number | null;
  shown: string;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML and SVG: everything a label could carry that the markup would read as markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]);
}

/**
 * A horizontal bar chart as inline SVG: drawn on the server so the printable report needs no script, no font and
 * no network. Bars scale to the largest shown value; a withheld value gets its placeholder and no bar, so its
 * size cannot be read off the chart either.
 */
export function barChart(title: string, bars: Bar[], options: { width?: number; labelWidth?: number } = {}): string {
  const width = options.width ?? 330;
  const labelWidth = options.labelWidth ?? 130;
  const row = 15;
  const valueWidth = 44;
  const top = 4;
  const height = top + bars.length * row + 2;
  const barSpace = width - labelWidth - valueWidth;
  const largest = Math.max(0, ...bars.map((bar) => bar.value ?? 0));
  const rows = bars.map((bar, index) => {
    const y = top + index * row;
    const length = bar.value && largest > 0 ? Math.max(1, (bar.value / largest) * barSpace) : 0;
    return [
      `<text x="${labelWidth - 4}" y="${y + 10}" text-anchor="end">${escapeHtml(bar.label)}</text>`,
      length > 0 ? `<rect x="${labelWidth}" y="${y + 2}" width="${length.toFixed(1)}" height="${row - 4}" />` : '',
      `<text x="${(labelWidth + length + 3).toFixed(1)}" y="${y + 10}" class="value">${escapeHtml(bar.shown)}</text>`,
    ].join('');
  });
  return [
    `<figure><figcaption>${escapeHtml(title)}</figcaption>`,
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    ...rows,
    '</svg></figure>',
  ].join('');
}
