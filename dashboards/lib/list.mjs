/**
 * A paged list behind filters (a mixin, see page.mjs). The page names its request in
 * `listQuery(offset)` → [target, topic, payload] and passes its answers to `listAnswer` first;
 * the part <tr-list-more></tr-list-more> is its Show more button.
 * Each reload is numbered, so an answer to an older filter never replaces a newer one.
 */
export const list = {
  data: { items: [], total: 0, capped: false, loaded: false, seq: 0, timer: null, listDelay: 250 },
  parts: {
    // <tr-list-more></tr-list-more> below the list: the next page of it.
    'tr-list-more': `
<div class="tr-row" v-if="items.length < total">
  <v-btn variant="tonal" size="large" :loading="busy('more')" data-test="more" @click="more()">Show more ({{ total - items.length }} left)</v-btn>
</div>`,
  },
  methods: {
    reload() {
      this.seq += 1;
      this.call(...this.listQuery(0), 'list:' + this.seq);
    },
    /** Reload once the user stops typing. */
    debounced() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), this.listDelay);
    },
    more() {
      this.call(...this.listQuery(this.items.length), 'more');
    },
    /** Takes the list's answers; true when `req` was one of them. */
    listAnswer(req, payload) {
      if (req === 'list:' + this.seq) {
        this.items = payload.items; this.total = payload.total; this.capped = !!payload.totalCapped; this.loaded = true;
        return true;
      }
      if (req === 'more') {
        this.items = this.items.concat(payload.items); this.total = payload.total;
        return true;
      }
      return req.startsWith('list:');
    },
  },
};
