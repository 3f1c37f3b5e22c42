/** Every mixin a page may list (see build.mjs): one import line a page. */
export { page } from './page.mjs';
export { format } from './format.mjs';
export { list } from './list.mjs';
export { toolPicker } from './tool-picker.mjs';
export { checklist } from './checklist.mjs';
export { workSpent } from './work-spent.mjs';
export { chart } from './chart.mjs';
export { admin } from './admin.mjs';
export { photos } from './photos.mjs';
