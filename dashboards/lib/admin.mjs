/**
 * What the admin pages (users, presses, checklist templates) share: one record edited at a time in
 * a form above the list, the answer's notice, and Toolroom's refusal shown with its code (a role
 * that may not use the page is told so by the server: data-code="forbidden"). A mixin (see
 * page.mjs); the part <tr-admin-alerts></tr-admin-alerts> shows the notice and the error; the list
 * (list.mjs) is searched by `q` and shows inactive records with `showInactive`. Its failed() and
 * start() serve every admin page; the page's reload() (the list mixin's, or its own) asks for the list.
 */
export const admin = {
  data: { edit: null, fe: {}, error: '', errorCode: '', notice: '', q: '', showInactive: false, search: { find: 'Find', inactive: 'Show inactive', test: 'show-inactive' } },
  parts: {
    'tr-admin-alerts': `
<v-alert v-if="notice" type="success" variant="tonal" class="tr-alert" data-test="notice">{{ notice }}</v-alert>
<v-alert v-if="error" type="error" variant="tonal" class="tr-alert" data-test="error" :data-code="errorCode">{{ error }}</v-alert>`,
    // <tr-admin-search></tr-admin-search> above the list: the search box and the switch for inactive records, named by the page's `search`.
    'tr-admin-search': `
<div class="tr-row">
  <v-text-field v-model="q" :label="search.find" name="q" prepend-inner-icon="mdi-magnify" variant="outlined" density="comfortable" hide-details clearable class="tr-grow" @update:model-value="debounced()"></v-text-field>
  <v-switch v-model="showInactive" :label="search.inactive" color="primary" hide-details density="comfortable" :data-test="search.test" @update:model-value="reload()"></v-switch>
</div>`,
  },
  methods: {
    /** The page's list request (the list mixin's listQuery): `target`'s list by the search text, inactive ones when shown. */
    searchList(target, offset) {
      const p = { includeInactive: !!this.showInactive, offset, limit: 50 };
      if (this.q && this.q.trim()) p.q = this.q.trim();
      return [target, 'list', p];
    },
    /** Open the form on `values` (a copy; `was` keeps the record as it was, null for a new one). */
    openForm(values, was) {
      this.fe = {}; this.error = ''; this.errorCode = ''; this.notice = '';
      this.edit = { ...values, was: was || null };
      window.scrollTo({ top: 0, behavior: 'smooth' });
    },
    closeForm() {
      this.edit = null; this.fe = {}; this.error = ''; this.errorCode = '';
    },
    /** The fields of `keys` the form changed from the record it opened on ('' clears to null). */
    changedFields(keys) {
      const out = {};
      for (const k of keys) {
        const v = this.edit[k] === '' ? null : this.edit[k];
        if (JSON.stringify(v) !== JSON.stringify(this.edit.was[k] ?? null)) out[k] = v;
      }
      return out;
    },
    /** A refusal: per-field messages for the form, one line and its code for the alert. */
    refused(err) {
      this.fe = this.fieldErrors(err);
      this.error = this.problem(err);
      this.errorCode = err.code || '';
    },
    /** Every answer that is an error is the form's refusal. */
    failed(req, err) {
      this.refused(err);
    },
    /** What an admin page asks first (the page mixin's mounted): who is logged in, and its list. */
    start() { this.call('user', 'me', {}); this.reload(); },
  },
};
