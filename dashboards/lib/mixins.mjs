/** Every mixin a page may list (see build.mjs): one import line a page. */
export { page } from './page.mjs';
export { format } from './format.mjs';
export { list } from './list.mjs';
export { toolPicker } from './tool-picker.mjs';
export { photos } from './photos.mjs';
