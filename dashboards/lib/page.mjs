/**
 * What every Toolroom page does: ask its flow and take the answers, the user's permissions, links,
 * Toolroom's error details and a browser download. A mixin: build.mjs copies `data` and the methods
 * into each page that lists it in `mixins`, so every method may use only `this`, its arguments and
 * browser globals (no module-level names: the page in the browser does not have this module).
 * Its hooks serve the pages that write none of their own.
 */
export const page = {
  data: { me: null, pending: {} },
  methods: {
    /** Ask the page's flow: msg.target picks the Toolroom node, msg.topic its operation; req names the answer; `passive` for a background refresh. */
    call(target, topic, payload, req, passive) {
      this.attach();
      this.pending = { ...this.pending, [req || topic]: true };
      // (msg.ask, not msg.req: Node-RED drops msg.req and msg.res when it copies a message.)
      const msg = { target, topic, payload: payload ?? {}, ask: req || topic };
      // A background refresh is not use: it must not keep an idle session alive (http/login/dashboard.ts).
      if (passive) msg.passive = true;
      this.send(msg);
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
    /** One line for a Toolroom error: every detail as `field: message`, else its message. */
    problem(err) {
      const where = (err.details || []).map((d) => (d.field ? d.field + ': ' : '') + d.message).join('; ');
      return where || err.message || 'Something went wrong';
    },
    /** Offer `content` as a file download in the browser. */
    download(filename, mimeType, content) {
      const url = URL.createObjectURL(new Blob([content], { type: mimeType }));
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    },
  },
  // A page without hooks of its own (build.mjs): listen, then ask what the page's start() asks; stop when it goes.
  mounted() {
    this.listen(() => this.start());
  },
  unmounted() {
    this.stop();
  },
};
