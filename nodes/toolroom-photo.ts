import { annotatePhoto, attachPhoto, getPhoto, listPhotos, readPhoto, withdrawPhoto } from '../core/photos/service';
import { capturePhoto } from '../core/photos/capture';
import { recordNode } from './lib/record-node';

/** toolroom-photo: photos of tools, inspections, failures and actions — attach, capture (camera), get, image, list, annotate, withdraw. */
export = recordNode({
  type: 'toolroom-photo',
  icon: 'font-awesome/fa-camera',
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
