/** Imports every type file and builds the schema. */
import { builder } from './builder.js';
import './error-types.js';
import './window-input.js';
import './dicom-attribute.js';
import './dicom-file.js';
import './dicom-file-catalog.js';
import './patient.js';
import './study.js';
import './series.js';
import './upload-dicom.js';
import './subscriptions.js';
import './delete-mutations.js';
import './dicom-json.js';
import './download-urls.js';
import './zip-urls.js';
import './api-tokens.js';
import './audit-events.js';

export const schema = builder.toSchema({ sortSchema: false });
