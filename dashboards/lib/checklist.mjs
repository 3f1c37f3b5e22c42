/**
 * A checklist to answer (post-run inspection, a PM against its plan's checklist): each item pass,
 * fail or N/A, a failed one with what is wrong, its severity and cavity. A mixin (see page.mjs) with
 * the template part <tr-checklist></tr-checklist>; the page has `template` (the checklist, or null),
 * `tool` (its cavities), `fe` and `error`, and calls `resetAnswers()` when either changes. A failed
 * item takes photos (the `photos` mixin): they wait until the inspection is saved (recordChecklist),
 * then the page sends them with sendChecklistPhotos(the saved inspection).
 */
export const checklist = {
  data: {
    answers: {},
    resultChoices: [{ value: 'pass', title: 'Pass', color: 'success' }, { value: 'fail', title: 'Fail', color: 'error' }, { value: 'na', title: 'N/A', color: 'grey' }],
  },
  parts: {
    'tr-checklist': `
<div v-if="template" class="tr-section" data-test="checklist">
  <div class="tr-row">
    <div class="tr-h2 tr-grow">{{ template.name }} <span class="tr-muted">({{ answeredCount }}/{{ template.items.length }})</span></div>
    <v-btn color="success" variant="flat" size="large" prepend-icon="mdi-check-all" data-test="all-pass" @click="allPass()">All pass</v-btn>
  </div>
  <div v-for="(item, i) in template.items" :key="item.key" class="tr-check" :data-item="item.key" :class="{ 'tr-missing': fe['results.' + i] }">
    <div class="tr-check-row">
      <div class="tr-grow">
        <div class="tr-check-label">{{ item.label }}</div>
        <div v-if="item.hint" class="tr-muted tr-small">{{ item.hint }}</div>
      </div>
      <div class="tr-seg" role="radiogroup" :aria-label="item.label">
        <v-btn v-for="r in resultChoices" :key="r.value" size="large" :variant="answers[item.key].result === r.value ? 'flat' : 'outlined'"
          :color="answers[item.key].result === r.value ? r.color : undefined" :data-result="r.value" role="radio"
          :aria-checked="answers[item.key].result === r.value ? 'true' : 'false'" @click="answer(item.key, r.value)">{{ r.title }}</v-btn>
      </div>
    </div>
    <div v-if="answers[item.key].result === 'fail'" class="tr-form tr-fail" data-test="fail-detail">
      <v-text-field v-model="answers[item.key].note" label="What is wrong" variant="outlined" density="comfortable" class="tr-wide"
        :name="'note-' + item.key" hide-details="auto" :error-messages="fe['results.' + i + '.note']"></v-text-field>
      <v-select v-model="answers[item.key].severity" :items="severities" label="Severity" variant="outlined" density="comfortable"
        clearable hide-details="auto" :data-test="'severity-' + item.key" :error-messages="fe['results.' + i + '.severity']"></v-select>
      <v-text-field v-model="answers[item.key].cavity" label="Cavity" type="number" min="1" :max="tool.cavityCount" variant="outlined"
        density="comfortable" :name="'cavity-' + item.key" hide-details="auto" :error-messages="fe['results.' + i + '.cavity']"></v-text-field>
      <div class="tr-wide">
        <template v-for="photoAt in [{ later: item.key }]" :key="photoKey(photoAt)">
          <tr-photo-take></tr-photo-take>
        </template>
      </div>
    </div>
    <div v-if="fe['results.' + i]" class="tr-field-error">{{ fe['results.' + i] }}</div>
  </div>
</div>`,
  },
  computed: {
    answeredCount() { return Object.values(this.answers).filter((a) => a.result).length; },
    failedCount() { return Object.values(this.answers).filter((a) => a.result === 'fail').length; },
  },
  methods: {
    resetAnswers() {
      const a = {};
      for (const item of (this.template ? this.template.items : [])) a[item.key] = { result: null, note: '', severity: null, cavity: '' };
      this.answers = a;
    },
    answer(key, value) {
      this.answers[key].result = this.answers[key].result === value ? null : value;
      this.answeredNow();
    },
    allPass() {
      for (const a of Object.values(this.answers)) if (!a.result) a.result = 'pass';
      this.answeredNow();
    },
    /** An item answered since the refusal is no longer marked; once none is open, the refusal goes. */
    answeredNow() {
      const fe = { ...this.fe };
      this.template.items.forEach((item, i) => { if (this.answers[item.key].result) delete fe['results.' + i]; });
      this.fe = fe;
      if (/not answered yet$/.test(this.error || '') && !Object.keys(fe).some((k) => /^results\.\d+$/.test(k))) this.error = '';
    },
    /** The answers as core takes them; null (with the unanswered items marked) while any is open. */
    checklistResults() {
      const results = this.template.items.map((item) => {
        const a = this.answers[item.key];
        const r = { itemKey: item.key, result: a.result || 'missing' };
        if (a.result === 'fail') {
          if (a.note && a.note.trim()) r.note = a.note.trim();
          if (a.severity) r.severity = a.severity;
          if (a.cavity !== '' && a.cavity != null) r.cavity = Number(a.cavity);
        }
        return r;
      });
      const unanswered = results.map((r, i) => (r.result === 'missing' ? i : -1)).filter((i) => i >= 0);
      if (!unanswered.length) return results;
      const fe = {};
      for (const i of unanswered) fe['results.' + i] = 'pass, fail or N/A?';
      this.fe = fe;
      this.error = `${unanswered.length} item${unanswered.length > 1 ? 's' : ''} not answered yet`;
      return null;
    },
    /**
     * Record the inspection: the checklist's answers, the work spent (the workSpent mixin) and
     * `fields` (the tool, the PM plan, findings, spare parts), answered as `req`; nothing while an
     * item is open.
     */
    recordChecklist(fields, req) {
      const results = this.checklistResults();
      if (!results) return;
      this.call('inspection', 'record', { templateId: this.template.id, results, ...fields, ...this.spentFields() }, req);
    },
    /** The failed items' photos, taken before the inspection existed, sent to its items now. */
    sendChecklistPhotos(inspection) {
      this.sendWaitingPhotos((itemKey) => ({ inspectionId: inspection.id, inspectionItemKey: itemKey }));
    },
    /** Field errors of a checklist's answer: `results.2.note` stays itself, `spareParts.0.quantity` also marks `spareParts`. */
    checklistErrors(err) {
      const fe = {};
      for (const d of err.details || []) {
        const f = String(d.field || '');
        fe[f] = fe[f] ? fe[f] + '; ' + d.message : d.message;
        const top = f.split('.')[0];
        if (top !== f && !/^results\.\d+\./.test(f)) fe[top] = fe[f];
      }
      return fe;
    },
  },
};
