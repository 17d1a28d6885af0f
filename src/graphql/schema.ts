/** Imports every type file and builds the schema. */
import { builder } from './builder.js';
import './error-types.js';
import './window-input.js';
import './dicom-attribute.js';
import './dicom-file.js';
import './upload-dicom.js';

export const schema = builder.toSchema({ sortSchema: false });
