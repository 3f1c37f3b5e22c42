/**
 * Bar charts in plain SVG (Reliability, Tool): the geometry a page's <svg> binds to, so every chart
 * scales the same way. A chart is drawn in its own units (`width` × `height`) and scales with its box
 * (chartBox); lib/chart.css colours it from the theme; fixed and month format its figures and axes.
 * A mixin: each method uses only `this` and its arguments.
 */
export const chart = {
  methods: {
    /** viewBox and aspect ratio of a chart drawn `width` × `height`: bind with v-bind="chartBox(w, h)". */
    chartBox(width, height) {
      return { viewBox: '0 0 ' + width + ' ' + height, style: { aspectRatio: width + ' / ' + height } };
    },
    /** The top of a scale: the largest value, at least 1 (a chart of zeros draws empty bars, not NaN). */
    chartMax(values) {
      return Math.max(1, ...values.map((v) => Number(v) || 0));
    },
    /** Length of a bar for `value` where `max` is `span` long; `least` keeps a small non-zero value visible. */
    barLength(value, max, span, least) {
      const n = Number(value) || 0;
      const length = max > 0 ? (span * n) / max : 0;
      return n > 0 ? Math.max(least || 0, length) : 0;
    },
    /**
     * Columns for `values`, side by side over `width`, rising from `bottom` up to `height` for the
     * largest; `gap` between them. Each {x, y, w, h} for a <rect>.
     */
    columns(values, width, height, bottom, gap) {
      const max = this.chartMax(values);
      const step = width / Math.max(1, values.length);
      return values.map((v, i) => {
        const h = this.barLength(v, max, height, 1);
        return { x: i * step + gap / 2, y: bottom - h, w: Math.max(1, step - gap), h };
      });
    },
    /** A chart's figure with `digits` decimals (– for none). */
    fixed(n, digits) {
      return n == null ? '–' : Number(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    },
    /** A month axis label: "Jan 2026" (UTC: KPI months start at midnight UTC). */
    month(iso) {
      return new Date(iso).toLocaleDateString('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
    },
  },
};
