    // ---- shared by Toolroom's pages (dashboards/src/shared.js, inserted by dashboards/src/build.mjs) ----
    /** Ask the page's flow: msg.target picks the Toolroom node, msg.topic its operation; req names the answer. */
    call(target, topic, payload, req) {
      this.attach();
      this.pending = { ...this.pending, [req || topic]: true };
      // (msg.ask, not msg.req: Node-RED drops msg.req and msg.res when it copies a message.)
      this.send({ target, topic, payload: payload ?? {}, ask: req || topic });
    },
    widgetId() {
      return this.id || (this.$attrs && this.$attrs.id) || (this.$parent && this.$parent.id);
    },
    /**
     * Listen for the answers. Dashboard 2 removes every msg-input listener of a widget when an
     * instance of it unmounts (a page re-render does that), so the handler is put back when missing.
     */
    attach() {
      const event = 'msg-input:' + this.widgetId();
      if (!this.onAnswer) {
        this.onAnswer = (msg) => {
          if (!msg || typeof msg !== 'object' || !msg.ask) return;
          const { [msg.ask]: _done, ...rest } = this.pending;
          this.pending = rest;
          if (msg.topic === 'error') this.failed(msg.ask, msg.payload || {});
          else this.answered(msg.ask, msg.payload);
        };
      }
      if (!this.$socket.listeners(event).includes(this.onAnswer)) this.$socket.on(event, this.onAnswer);
    },
    /** Start the page once the widget has settled: attach the listener, then run `fn` (the first requests). */
    listen(fn) {
      setTimeout(() => {
        if (this.gone) return;
        this.attach();
        if (fn) fn();
      }, 0);
      this.watchdog = setInterval(() => this.attach(), 1000);
    },
    stop() {
      this.gone = true;
      clearInterval(this.watchdog);
      if (this.onAnswer) this.$socket.off('msg-input:' + this.widgetId(), this.onAnswer);
    },
    busy(req) {
      return !!this.pending[req];
    },
    /** The logged-in user's role may do this (core's permission table, from toolroom-user `me`). */
    can(op) {
      return !!this.me && Array.isArray(this.me.operations) && this.me.operations.includes(op);
    },
    go(path, query) {
      this.$router.push({ path: '/dashboard' + path, query: query || {} });
    },
    toolUrl(asset) {
      return '/dashboard/tool?asset=' + encodeURIComponent(asset);
    },
    /** { field: 'message; message' } from a Toolroom error's details (blockedCavities.0.number → blockedCavities). */
    fieldErrors(err) {
      const out = {};
      for (const d of (err && err.details) || []) {
        const key = String(d.field || '').split('.')[0] || '_';
        out[key] = out[key] ? out[key] + '; ' + d.message : d.message;
      }
      return out;
    },
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
    // ---- end shared ----
