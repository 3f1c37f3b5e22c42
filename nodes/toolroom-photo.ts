import { annotatePhoto, attachPhoto, getPhoto, listPhotos, readPhoto, withdrawPhoto } from '../core/photos/service';
import { capturePhoto } from '../core/photos/capture';
import { registerRecordNode } from './lib/record-node';
import type { NodeAPI } from './lib/red';

/** toolroom-photo: photos of tools, inspections, failures and actions — attach, capture (camera), get, image, list, annotate, withdraw. */
export = function (RED: NodeAPI) {
  registerRecordNode(RED, {
    type: 'toolroom-photo',
    operations: {
      attach: attachPhoto,
      capture: capturePhoto,
      get: getPhoto,
      image: readPhoto,
      list: listPhotos,
      annotate: annotatePhoto,
      withdraw: withdrawPhoto,
    },
  });
};
