/**
 * The tool picker of the work pages: search the register as the user types, or open the tool the
 * URL names (?asset=M-1001, what a QR label carries). A mixin (see page.mjs) with two template
 * parts: <tr-tool-picker></tr-tool-picker> (the search, shown until a tool is chosen) and
 * <tr-tool-chosen></tr-tool-chosen> (the chosen tool; its button calls the page's `changeTool()`).
 * The page has `pickTool(tool)` and passes its answers to `toolAnswer` first.
 */
export const toolPicker = {
  data: { toolQ: '', toolHits: [], toolSeq: 0, toolTimer: null, tool: null },
  parts: {
    'tr-tool-picker': `
<v-alert v-if="error && !tool" type="error" variant="tonal" class="tr-alert" data-test="error">{{ error }}</v-alert>
<div v-if="!tool" class="tr-section" data-test="picker">
  <v-text-field v-model="toolQ" label="Tool: asset number, name or part number" prepend-inner-icon="mdi-magnify" variant="outlined"
    density="comfortable" clearable hide-details name="toolQ" data-test="tool-search" @update:model-value="findTools()" @keyup.enter="toolHits.length === 1 && chooseTool(toolHits[0])"></v-text-field>
  <div class="tr-list tr-picker-hits" data-test="tool-hits">
    <div v-for="t in toolHits" :key="t.id" class="tr-item" tabindex="0" role="button" :data-asset="t.assetNumber" @click="chooseTool(t)" @keyup.enter="chooseTool(t)">
      <strong>{{ t.assetNumber }}</strong><span class="tr-grow">{{ t.name }}</span>
      <v-chip :color="statusColor(t.status)" size="small" label>{{ statusLabel(t.status) }}</v-chip>
    </div>
    <div v-if="toolQ && !toolHits.length" class="tr-empty">Type to find the tool, or scan its QR label.</div>
  </div>
</div>`,
    'tr-tool-chosen': `
<div class="tr-section tr-tool-chosen" data-test="tool">
  <div class="tr-grow">
    <div class="tr-h2" style="margin:0">{{ tool.assetNumber }} · {{ tool.name }}</div>
    <div class="tr-muted">{{ statusLabel(tool.status) }} · {{ num(tool.lifetimeShots) }} shots · {{ tool.cavityCount }} cavities</div>
  </div>
  <v-btn variant="text" size="large" data-test="change-tool" @click="changeTool()">Change tool</v-btn>
</div>`,
  },
  methods: {
    findTools() {
      clearTimeout(this.toolTimer);
      this.toolTimer = setTimeout(() => {
        const q = (this.toolQ || '').trim();
        if (!q) { this.toolHits = []; return; }
        this.toolSeq = (this.toolSeq || 0) + 1;
        this.call('tool', 'list', { q, limit: 8 }, 'tools:' + this.toolSeq);
      }, 200);
    },
    /** The picker's answers; true when `req` was one of them. */
    toolAnswer(req, payload) {
      if (req === 'tools:' + this.toolSeq) { this.toolHits = payload.items; return true; }
      if (req.startsWith('tools:')) return true;
      if (req === 'pickTool') { this.pickTool(payload); return true; }
      return false;
    },
    /** Open the tool named by the URL. */
    toolFromUrl() {
      const asset = this.$route.query.asset;
      if (asset) this.call('tool', 'get', { assetNumber: String(asset) }, 'pickTool');
    },
    chooseTool(t) {
      this.toolHits = [];
      this.toolQ = '';
      this.pickTool(t);
      if (this.$route.query.asset !== t.assetNumber) this.$router.replace({ query: { ...this.$route.query, asset: t.assetNumber } });
    },
    clearTool() {
      this.tool = null;
      const { asset: _a, ...rest } = this.$route.query;
      this.$router.replace({ query: rest });
    },
  },
  // After the page mixin's, in a page without an unmounted of its own (build.mjs): no search after the page is gone.
  unmounted() {
    clearTimeout(this.toolTimer);
  },
};
