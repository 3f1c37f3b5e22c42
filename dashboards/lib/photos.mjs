/**
 * Photos on a page (a mixin, see page.mjs): take or pick one, upload it with progress, show
 * thumbnails, open one full size and annotate it with a finger. Photos go over HTTP to the REST API
 * (/toolroom/api/v1/photos; the dashboard socket's messages are too small for images) with the
 * session cookie, and the session's CSRF token (the readable toolroom_csrf cookie) on every write.
 *
 * A record's photos are named by a link, the upload route's query: { toolId }, { failureReportId },
 * { inspectionId, inspectionItemKey }, { actionId, phase }; or { later: 'name' } for a record the form
 * will create: those photos wait in the browser, and `sendWaitingPhotos(linkOf)` sends them once it
 * exists (linkOf(name) → the link), so nothing is uploaded that could be left belonging to nothing.
 * Parts that show one record's photos read the link from a local `photoAt`, so a page puts them in
 * `<template v-for="photoAt in [link]">`:
 * - <tr-photo-thumbs></tr-photo-thumbs>: its thumbnails (tap: the viewer);
 * - <tr-photo-take></tr-photo-take>: its uploads under way or refused, and the camera button;
 * and once a page, <tr-photo-page></tr-photo-page>: <tr-photo-input></tr-photo-input> (the file input
 * every camera button uses) and <tr-photo-viewer></tr-photo-viewer> (full size, annotated view,
 * original, annotation editor).
 *
 * A retry never makes a second photo: each chosen file gets an upload key, sent with every attempt,
 * and the server answers a repeat with the photo the first attempt made (core/photos uploadPhoto).
 */
export const photos = {
  data: {
    photoById: {}, photoUploads: [], photoFor: null, photoView: null, photoVariant: 'display', photoEdit: null, photoSaving: false, photoProblem: '',
  },
  parts: {
    'tr-photo-page': `
<tr-photo-input></tr-photo-input>
<tr-photo-viewer></tr-photo-viewer>`,
    'tr-photo-input': `
<input ref="photoInput" type="file" accept="image/*" capture="environment" class="tr-photo-input" name="photo" data-test="photo-input" @change="photoChosen($event)">`,
    'tr-photo-thumbs': `
<div v-if="photosOf(photoAt).length" class="tr-thumbs" :data-photos="photoKey(photoAt)">
  <button v-for="p in photosOf(photoAt)" :key="p.id" type="button" class="tr-thumb" :data-photo="p.id" :data-annotated="p.annotated ? 'yes' : 'no'" :aria-label="'Open photo ' + p.id" @click="openPhoto(p)">
    <img :src="photoSrc(p, 'thumbnail')" :alt="p.caption || 'Photo ' + p.id" loading="lazy">
    <v-icon v-if="p.annotated" icon="mdi-draw" size="small" class="tr-thumb-mark"></v-icon>
  </button>
</div>`,
    'tr-photo-take': `
<div class="tr-photo-take" :data-take="photoKey(photoAt)">
  <div v-for="u in uploadsOf(photoAt)" :key="u.key" class="tr-upload" :data-upload="u.state" :data-file="u.name">
    <img v-if="u.preview" :src="u.preview" alt="" class="tr-upload-preview">
    <div class="tr-grow">
      <div class="tr-small">{{ u.name }} · {{ Math.round(u.size / 1024) }} KB</div>
      <v-progress-linear v-if="u.state === 'uploading'" :model-value="u.progress" height="8" rounded color="primary" data-test="photo-progress"></v-progress-linear>
      <div v-if="u.state === 'waiting'" class="tr-muted tr-small">sent once the report is saved</div>
      <div v-if="u.state === 'failed'" class="tr-field-error" data-test="photo-error">{{ u.error }}</div>
    </div>
    <v-btn v-if="u.state === 'failed' && u.retry" color="primary" size="large" data-test="photo-retry" @click="retryPhoto(u.key)">Retry</v-btn>
    <v-btn v-if="u.state !== 'uploading'" variant="text" size="large" icon="mdi-close" :aria-label="'Drop ' + u.name" data-test="photo-drop" @click="dropPhoto(u.key)"></v-btn>
  </div>
  <v-btn v-if="can('photo.add') || !me" variant="tonal" size="large" prepend-icon="mdi-camera" data-test="add-photo" @click="takePhoto(photoAt)">Add photo</v-btn>
</div>`,
    // On the body, above the dashboard's app bar (the page's own box would keep it below).
    'tr-photo-viewer': `
<teleport to="body">
<div v-if="photoView" class="tr-viewer" role="dialog" aria-modal="true" :aria-label="'Photo ' + photoView.id" data-test="photo-viewer" :data-photo="photoView.id">
  <div class="tr-row tr-viewer-bar">
    <div class="tr-grow tr-strong">Photo {{ photoView.id }}<span v-if="photoView.caption"> · {{ photoView.caption }}</span><span class="tr-muted tr-small"> · {{ when(photoView.createdAt) }}</span></div>
    <template v-if="!photoEdit">
      <v-btn-toggle v-if="photoView.annotated" v-model="photoVariant" mandatory divided variant="outlined" color="primary" data-test="photo-variant">
        <v-btn value="annotated" size="large" data-test="show-annotated">Annotated</v-btn>
        <v-btn value="display" size="large" data-test="show-display">Photo</v-btn>
      </v-btn-toggle>
      <v-btn :href="photoSrc(photoView, 'original')" target="_blank" rel="noopener" variant="text" size="large" prepend-icon="mdi-open-in-new" data-test="photo-original">Original</v-btn>
      <v-btn v-if="can('photo.annotate') && !photoView.withdrawn" color="primary" size="large" prepend-icon="mdi-draw" data-test="annotate" @click="startAnnotating()">Annotate</v-btn>
    </template>
    <v-btn variant="text" size="large" icon="mdi-close" aria-label="Close" data-test="close-photo" @click="closePhoto()"></v-btn>
  </div>
  <div v-if="photoEdit" class="tr-row tr-viewer-bar" data-test="annotate-tools">
    <v-btn-toggle v-model="photoEdit.tool" mandatory divided variant="outlined" color="primary">
      <v-btn value="arrow" size="large" icon="mdi-arrow-top-right" aria-label="Arrow" data-tool="arrow"></v-btn>
      <v-btn value="circle" size="large" icon="mdi-circle-outline" aria-label="Circle" data-tool="circle"></v-btn>
      <v-btn value="freehand" size="large" icon="mdi-draw" aria-label="Freehand" data-tool="freehand"></v-btn>
      <v-btn value="text" size="large" icon="mdi-format-text" aria-label="Text" data-tool="text"></v-btn>
    </v-btn-toggle>
    <div class="tr-swatches" role="radiogroup" aria-label="Colour">
      <button v-for="c in photoColours" :key="c" type="button" role="radio" class="tr-swatch" :class="{ 'tr-swatch-on': photoEdit.colour === c }" :style="{ background: c }"
        :aria-checked="photoEdit.colour === c ? 'true' : 'false'" :aria-label="c" :data-colour="c" @click="photoEdit.colour = c"></button>
    </div>
    <input v-if="photoEdit.tool === 'text'" v-model="photoEdit.text" class="tr-native tr-photo-text" name="annotationText" placeholder="Text, then tap the photo" maxlength="200">
    <span class="tr-grow"></span>
    <v-btn variant="text" size="large" icon="mdi-undo" aria-label="Undo" :disabled="!photoEdit.shapes.length" data-test="undo" @click="photoEdit.shapes.pop()"></v-btn>
    <v-btn variant="text" size="large" :disabled="!photoEdit.shapes.length" data-test="clear-drawing" @click="photoEdit.shapes = []">Clear</v-btn>
    <v-btn variant="text" size="large" data-test="cancel-annotate" @click="photoEdit = null">Cancel</v-btn>
    <v-btn color="primary" size="large" :loading="photoSaving" data-test="save-annotation" @click="saveAnnotation()">Save</v-btn>
  </div>
  <v-alert v-if="photoProblem" type="error" variant="tonal" class="tr-alert" data-test="photo-problem">{{ photoProblem }}</v-alert>
  <div class="tr-viewer-stage">
    <div class="tr-viewer-frame">
      <img :src="photoSrc(photoView, photoEdit ? 'display' : photoVariant)" :alt="'Photo ' + photoView.id" class="tr-viewer-img" data-test="photo-image" :data-variant="photoEdit ? 'display' : photoVariant" draggable="false">
      <svg v-if="photoEdit" class="tr-draw" v-bind="photoSvgBox()" data-test="draw"
        @pointerdown.prevent="drawStart($event)" @pointermove.prevent="drawMove($event)" @pointerup.prevent="drawEnd($event)" @pointercancel="drawEnd($event)">
        <g v-for="(s, i) in drawingShapes()" :key="i" :data-shape="s.kind" :data-state="s.done ? 'done' : 'drawing'">
          <template v-if="s.kind === 'arrow'">
            <line :x1="s.x1" :y1="s.y1" :x2="s.x2" :y2="s.y2" :stroke="s.colour" :stroke-width="photoStroke()" stroke-linecap="round" fill="none"></line>
            <polygon :points="s.head" :fill="s.colour"></polygon>
          </template>
          <circle v-else-if="s.kind === 'circle'" :cx="s.cx" :cy="s.cy" :r="s.r" :stroke="s.colour" :stroke-width="photoStroke()" fill="none"></circle>
          <polyline v-else-if="s.kind === 'freehand'" :points="s.points" :stroke="s.colour" :stroke-width="photoStroke()" stroke-linecap="round" stroke-linejoin="round" fill="none"></polyline>
          <text v-else :x="s.x" :y="s.y" :fill="s.colour" stroke="#000000" :stroke-width="photoStroke() / 3" paint-order="stroke" font-family="sans-serif" font-weight="bold" :font-size="s.size">{{ s.text }}</text>
        </g>
      </svg>
    </div>
  </div>
</div>
</teleport>`,
  },
  computed: {
    /** Colours that stand out on steel, rust and plastic; red first. */
    photoColours() {
      return ['#ff1744', '#ffea00', '#00e5ff', '#76ff03', '#ffffff'];
    },
  },
  methods: {
    /** A link's name ("failureReportId=7"). */
    photoKey(link) {
      return Object.keys(link).sort().map((k) => k + '=' + link[k]).join('&');
    },
    photoApiBase() {
      return '/toolroom/api/v1/photos';
    },
    /** An image of a photo; the version keeps a browser from showing an older annotated view. */
    photoSrc(p, variant) {
      return this.photoApiBase() + '/' + p.id + '/image?variant=' + variant + '&version=' + p.version;
    },
    /** The session's CSRF token, from the cookie the login sets for pages to read. */
    photoCsrf() {
      const m = /(?:^|;\s*)toolroom_csrf=([^;]*)/.exec(document.cookie || '');
      return m ? decodeURIComponent(m[1]) : '';
    },
    /** A refusal from the REST API (problem details) as one line: every field's rule, else the detail. */
    photoRefusal(status, text) {
      let body = null;
      try { body = JSON.parse(text); } catch { body = null; }
      if (body && (body.errors || body.detail)) {
        const where = (body.errors || []).map((e) => e.message).filter(Boolean).join('; ');
        return where ? 'Refused: ' + where : body.detail;
      }
      return status ? 'The server answered ' + status : 'No answer from the server (network)';
    },
    /** The photos shown for a link: a tool's own (not those of its failures etc.), a failure's, an action's (phase), an inspection item's. */
    photosOf(link) {
      const match = (p) => {
        if (link.toolId !== undefined) return p.entity === 'tool' && p.entityId === link.toolId;
        if (link.failureReportId !== undefined) return p.entity === 'failure' && p.entityId === link.failureReportId;
        if (link.actionId !== undefined) return p.entity === 'action' && p.entityId === link.actionId && (!link.phase || p.phase === link.phase);
        if (link.inspectionId !== undefined) return p.entity === 'inspection' && p.entityId === link.inspectionId && (!link.inspectionItemKey || p.inspectionItemKey === link.inspectionItemKey);
        return false;
      };
      return Object.values(this.photoById).filter((p) => !p.withdrawn && match(p)).sort((a, b) => b.id - a.id);
    },
    /** The record a timeline entry of the tool page is about, as a link (a mount's has no photos). */
    photoLinkOfEvent(e) {
      return { failure: { failureReportId: e.refId }, inspection: { inspectionId: e.refId }, action: { actionId: e.refId } }[e.kind] || { none: e.kind };
    },
    uploadsOf(link) {
      const key = this.photoKey(link);
      return this.photoUploads.filter((u) => u.linkKey === key && u.state !== 'done');
    },
    /** Fetch the photos of a link (a tool: its whole timeline's) into photoById. */
    async loadPhotos(link) {
      const q = new URLSearchParams({ ...link, limit: '200' });
      try {
        const res = await fetch(this.photoApiBase() + '?' + q.toString(), { credentials: 'same-origin', headers: { accept: 'application/json' } });
        const text = await res.text();
        if (!res.ok) { this.photoProblem = this.photoRefusal(res.status, text); return; }
        const found = {};
        for (const p of JSON.parse(text).items) found[p.id] = p;
        this.photoById = { ...this.photoById, ...found };
      } catch (err) {
        this.photoProblem = 'Photos: ' + (err && err.message ? err.message : 'no answer');
      }
    },
    /** Fetch the photos of each link not fetched yet on this page (a list's records as they come). */
    loadPhotosOnce(links) {
      this.photoLoaded = this.photoLoaded || {};
      for (const link of links) {
        const key = this.photoKey(link);
        if (this.photoLoaded[key]) continue;
        this.photoLoaded[key] = true;
        this.loadPhotos(link);
      }
    },
    /** The camera button: remember which record, and open the camera (or the file picker). */
    takePhoto(link) {
      this.photoFor = link;
      const input = this.$refs.photoInput;
      input.value = '';
      input.click();
    },
    /** A file was chosen: one upload, with a key of its own for every attempt of it. */
    photoChosen(event) {
      const file = event.target.files && event.target.files[0];
      if (!file) return;
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      const key = 'u-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      this.photoFiles = this.photoFiles || {};
      this.photoFiles[key] = file;
      const link = this.photoFor;
      const later = link.later !== undefined;
      const entry = { key, name: file.name || 'photo', size: file.size, link, linkKey: this.photoKey(link), state: later ? 'waiting' : 'uploading', progress: 0, error: '', retry: false, preview: '' };
      // A photo for a record not made yet shows from memory (img-src blob: is allowed) until it is sent.
      if (later) entry.preview = URL.createObjectURL(file);
      this.photoUploads = this.photoUploads.concat([entry]);
      event.target.value = '';
      if (!later) this.sendPhoto(key);
    },
    photoUpload(key) {
      return this.photoUploads.find((u) => u.key === key);
    },
    setUpload(key, change) {
      this.photoUploads = this.photoUploads.map((u) => (u.key === key ? { ...u, ...change } : u));
    },
    /** The record now exists: send the photos that waited for it, each to linkOf(its later name). */
    sendWaitingPhotos(linkOf) {
      for (const u of this.photoUploads.filter((x) => x.state === 'waiting')) {
        const link = linkOf(u.link.later);
        this.setUpload(u.key, { link, linkKey: this.photoKey(link), state: 'uploading' });
        this.sendPhoto(u.key);
      }
    },
    /** The form starts again (another tool, another report): what waited for it goes. */
    dropWaitingPhotos() {
      for (const u of this.photoUploads.filter((x) => x.state === 'waiting')) this.dropPhoto(u.key);
    },
    /** One attempt: the file as the body, the record and the upload key in the query, progress as it goes. */
    sendPhoto(key) {
      const u = this.photoUpload(key);
      const file = this.photoFiles && this.photoFiles[key];
      if (!u || !file) return;
      this.setUpload(key, { state: 'uploading', progress: 0, error: '', retry: false });
      const q = new URLSearchParams({ ...u.link, uploadKey: key });
      const xhr = new XMLHttpRequest();
      xhr.open('POST', this.photoApiBase() + '?' + q.toString());
      xhr.setRequestHeader('x-csrf-token', this.photoCsrf());
      xhr.setRequestHeader('accept', 'application/json');
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) this.setUpload(key, { progress: Math.round((100 * e.loaded) / e.total) });
      };
      xhr.onload = () => {
        if (xhr.status === 201 || xhr.status === 200) {
          const p = JSON.parse(xhr.responseText);
          this.photoById = { ...this.photoById, [p.id]: p };
          this.dropPhoto(key);
          return;
        }
        // Only what may go through another time is offered again; a refused file needs another file.
        const again = xhr.status >= 500 || xhr.status === 429 || xhr.status === 408;
        this.setUpload(key, { state: 'failed', error: this.photoRefusal(xhr.status, xhr.responseText), retry: again });
      };
      xhr.onerror = () => this.setUpload(key, { state: 'failed', error: 'The upload did not get through (network): retry it', retry: true });
      xhr.send(file);
    },
    retryPhoto(key) {
      this.sendPhoto(key);
    },
    dropPhoto(key) {
      const u = this.photoUpload(key);
      if (u && u.preview) URL.revokeObjectURL(u.preview);
      if (this.photoFiles) delete this.photoFiles[key];
      this.photoUploads = this.photoUploads.filter((x) => x.key !== key);
    },
    openPhoto(p) {
      this.photoView = p;
      this.photoVariant = p.annotated ? 'annotated' : 'display';
      this.photoEdit = null;
      this.photoProblem = '';
    },
    closePhoto() {
      this.photoView = null;
      this.photoEdit = null;
      this.photoProblem = '';
    },
    startAnnotating() {
      this.photoEdit = { tool: 'arrow', colour: '#ff1744', text: '', shapes: JSON.parse(JSON.stringify(this.photoView.annotations || [])), drawing: null };
      this.photoProblem = '';
    },
    /**
     * The drawing's coordinates are the image's pixels. (Bound as an object: ui-template's markup goes
     * through the HTML parser, which would lower-case a viewBox attribute and SVG would ignore it.)
     */
    photoSvgBox() {
      return { viewBox: '0 0 ' + this.photoView.width + ' ' + this.photoView.height };
    },
    /** Stroke width as the server draws it (core/photos/annotate.ts), in the image's own pixels. */
    photoStroke() {
      const v = this.photoView;
      return Math.max(2, Math.round(Math.max(v.width, v.height) * 0.006));
    },
    /** Where a pointer is on the image, 0..1 across and down (the annotation's coordinates). */
    drawPoint(event) {
      const r = event.currentTarget.getBoundingClientRect();
      const clamp = (n) => Math.min(1, Math.max(0, n));
      return { x: clamp((event.clientX - r.left) / r.width), y: clamp((event.clientY - r.top) / r.height) };
    },
    drawStart(event) {
      const e = this.photoEdit;
      if (!e || e.drawing) return;
      const at = this.drawPoint(event);
      if (e.tool === 'text') {
        if (e.text && e.text.trim()) e.shapes.push({ kind: 'text', at, text: e.text.trim().slice(0, 200), colour: e.colour });
        else this.photoProblem = 'Type the text first, then tap where it goes';
        return;
      }
      event.currentTarget.setPointerCapture(event.pointerId);
      e.drawing = { pointer: event.pointerId, from: at, to: at, points: [at] };
    },
    drawMove(event) {
      const d = this.photoEdit && this.photoEdit.drawing;
      if (!d || d.pointer !== event.pointerId) return;
      const at = this.drawPoint(event);
      d.to = at;
      const last = d.points[d.points.length - 1];
      // Freehand keeps a point every few pixels' worth, and at most what the server takes.
      if (Math.hypot(at.x - last.x, at.y - last.y) > 0.004 && d.points.length < 2000) d.points.push(at);
    },
    drawEnd(event) {
      const e = this.photoEdit;
      const d = e && e.drawing;
      if (!d || d.pointer !== event.pointerId) return;
      e.drawing = null;
      const shape = this.drawnShape(e.tool, d, e.colour);
      if (shape) e.shapes.push(shape);
    },
    /** The shape a stroke made (a tap or a tiny stroke makes none). */
    drawnShape(tool, d, colour) {
      const v = this.photoView;
      const size = Math.max(v.width, v.height);
      const px = Math.hypot((d.to.x - d.from.x) * v.width, (d.to.y - d.from.y) * v.height);
      if (tool === 'arrow') return px >= size * 0.01 ? { kind: 'arrow', from: d.from, to: d.to, colour } : null;
      if (tool === 'circle') return px >= size * 0.005 ? { kind: 'circle', centre: d.from, radius: Math.min(1, px / size), colour } : null;
      if (tool === 'freehand') return d.points.length >= 2 ? { kind: 'freehand', points: d.points.concat(d.points.length < 2000 ? [d.to] : []), colour } : null;
      return null;
    },
    /** The shapes (and the one being drawn) in the image's pixels, as the server will draw them. */
    drawingShapes() {
      const e = this.photoEdit;
      const v = this.photoView;
      if (!e || !v) return [];
      const W = v.width;
      const H = v.height;
      const size = Math.max(W, H);
      const drawing = e.drawing ? this.drawnShape(e.tool, e.drawing, e.colour) : null;
      return e.shapes.concat(drawing ? [drawing] : []).map((s) => ({ ...this.photoShapeAt(s, W, H, size), done: s !== drawing }));
    },
    /** One shape in the image's pixels. */
    photoShapeAt(s, W, H, size) {
      if (s.kind === 'arrow') {
        const [x1, y1, x2, y2] = [s.from.x * W, s.from.y * H, s.to.x * W, s.to.y * H];
        const angle = Math.atan2(y2 - y1, x2 - x1);
        const head = this.photoStroke() * 4;
        const wing = (a) => (x2 - head * Math.cos(angle + a)).toFixed(1) + ',' + (y2 - head * Math.sin(angle + a)).toFixed(1);
        return { kind: 'arrow', colour: s.colour, x1, y1, x2, y2, head: x2.toFixed(1) + ',' + y2.toFixed(1) + ' ' + wing(0.45) + ' ' + wing(-0.45) };
      }
      if (s.kind === 'circle') return { kind: 'circle', colour: s.colour, cx: s.centre.x * W, cy: s.centre.y * H, r: s.radius * size };
      if (s.kind === 'freehand') return { kind: 'freehand', colour: s.colour, points: s.points.map((p) => (p.x * W).toFixed(1) + ',' + (p.y * H).toFixed(1)).join(' ') };
      return { kind: 'text', colour: s.colour, x: s.at.x * W, y: s.at.y * H, text: s.text, size: Math.round(size * 0.04) };
    },
    /** Save: the shapes go to core's annotate, the server draws them; then the annotated view shows. */
    async saveAnnotation() {
      const v = this.photoView;
      const e = this.photoEdit;
      if (!v || !e) return;
      // A stroke still under a finger is part of what is saved.
      if (e.drawing) this.drawEnd({ pointerId: e.drawing.pointer });
      this.photoSaving = true;
      this.photoProblem = '';
      try {
        const res = await fetch(this.photoApiBase() + '/' + v.id + '/annotate', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': this.photoCsrf() },
          body: JSON.stringify({ version: v.version, annotations: e.shapes }),
        });
        const text = await res.text();
        if (!res.ok) { this.photoProblem = this.photoRefusal(res.status, text); return; }
        const p = JSON.parse(text);
        this.photoById = { ...this.photoById, [p.id]: p };
        this.photoEdit = null;
        this.photoView = p;
        this.photoVariant = p.annotated ? 'annotated' : 'display';
      } catch (err) {
        this.photoProblem = 'Not saved (network): ' + (err && err.message ? err.message : 'no answer');
      } finally {
        this.photoSaving = false;
      }
    },
  },
};
