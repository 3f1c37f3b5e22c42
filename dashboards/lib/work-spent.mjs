/**
 * The time and cost of a piece of maintenance work (an inspection, a PM, a completed action): what
 * the maintenance KPIs sum. A mixin (see page.mjs) with the template part <tr-work-spent></tr-work-spent>
 * (two fields, inside the page's `tr-form` grid); the page has `fe` and puts `spentFields()` into what it sends.
 */
export const workSpent = {
  data: { minutes: '', cost: '' },
  parts: {
    'tr-work-spent': `
<v-text-field v-model="minutes" label="Minutes spent" type="number" min="0" variant="outlined" density="comfortable" name="minutesSpent"
  hide-details="auto" :error-messages="fe.minutesSpent"></v-text-field>
<v-text-field v-model="cost" label="Cost" type="number" min="0" step="0.01" variant="outlined" density="comfortable" name="cost"
  hide-details="auto" :error-messages="fe.cost"></v-text-field>`,
  },
  methods: {
    /** { minutesSpent?, cost? } as typed (core checks them and names the field); empty fields send nothing. */
    spentFields() {
      const out = {};
      if (this.minutes !== '' && this.minutes != null) out.minutesSpent = Number(this.minutes);
      if (this.cost !== '' && this.cost != null) out.cost = Number(this.cost);
      return out;
    },
    clearWorkSpent() {
      this.minutes = '';
      this.cost = '';
    },
  },
};
