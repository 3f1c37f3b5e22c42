/**
 * What the admin pages (users, presses, checklist templates) share: one record edited at a time in
 * a form above the list, the answer's notice, and Toolroom's refusal shown with its code (a role
 * that may not use the page is told so by the server: data-code="forbidden"). A mixin (see
 * page.mjs); the part <tr-admin-alerts></tr-admin-alerts> shows the notice and the error; the list
 * (list.mjs) is searched by `q` and shows inactive records with `showInactive`.
 */
export const admin = {
  data: { edit: null, fe: {}, error: '', errorCode: '', notice: '', q: '', showInactive: false },
  parts: {
    'tr-admin-alerts': `
<v-alert v-if="notice" type="success" variant="tonal" class="tr-alert" data-test="notice">{{ notice }}</v-alert>
<v-alert v-if="error" type="error" variant="tonal" class="tr-alert" data-test="error" :data-code="errorCode">{{ error }}</v-alert>`,
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
  },
};
