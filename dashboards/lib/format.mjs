/** Numbers, dates, the severities and the plant's states as the pages show them (a mixin, see page.mjs). */
export const format = {
  data: {
    severities: [{ title: 'Minor', value: 'minor' }, { title: 'Major', value: 'major' }, { title: 'Critical', value: 'critical' }],
  },
  methods: {
    num(n) {
      return n == null || n === '' ? '–' : Number(n).toLocaleString('en-US');
    },
    when(iso) {
      if (!iso) return '–';
      const d = new Date(iso);
      return d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short', year: 'numeric' }) + ' ' + d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
    },
    day(s) {
      if (!s) return '–';
      return new Date(s.length === 10 ? s + 'T00:00:00' : s).toLocaleDateString('en-GB', { day: '2-digit', month: 'short', year: 'numeric' });
    },
    statusLabel(s) {
      return { in_press: 'In press', in_store: 'In store', in_maintenance: 'In maintenance', at_toolmaker: 'At toolmaker', retired: 'Retired' }[s] || s;
    },
    statusColor(s) {
      return { in_press: 'primary', in_store: 'grey', in_maintenance: 'warning', at_toolmaker: 'purple', retired: 'blue-grey' }[s] || 'grey';
    },
    pmColor(state) {
      return { NOT_DUE: 'success', WARNING: 'warning', DUE: 'deep-orange', OVERDUE: 'error' }[state] || 'grey';
    },
    pmLabel(state) {
      return { NOT_DUE: 'OK', WARNING: 'Warning', DUE: 'Due', OVERDUE: 'Overdue' }[state] || state;
    },
    severityColor(s) {
      return { minor: 'info', major: 'warning', critical: 'error' }[s] || 'grey';
    },
    actionStatusLabel(s) {
      return { open: 'Open', in_progress: 'In progress', done: 'Done', verified: 'Verified', cancelled: 'Cancelled' }[s] || s;
    },
    actionStatusColor(s) {
      return { open: 'info', in_progress: 'primary', done: 'success', verified: 'blue-grey', cancelled: 'grey' }[s] || 'grey';
    },
    failureStatusLabel(s) {
      return { open: 'Open', investigating: 'Investigating', resolved: 'Resolved', closed: 'Closed' }[s] || s;
    },
  },
};
