/**
 * Expected failures returned as typed results: every one implements `interface Error` with a
 * stable `code`, so clients can switch on __typename or read `... on Error { code message }`.
 */
import { AppError, FileTooLargeError, InvalidDicomError } from '../errors.js';
import { builder } from './builder.js';

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'An expected failure with a stable machine-readable code.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.exposeString('code'),
  }),
});

builder.objectType(InvalidDicomError, {
  name: 'InvalidDicomError',
  description: 'The upload is not a DICOM data set that can be read (the message says why); nothing was stored.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InvalidDicomError,
});

builder.objectType(FileTooLargeError, {
  name: 'FileTooLargeError',
  description: 'The upload exceeds MAX_UPLOAD_BYTES; nothing was stored.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof FileTooLargeError,
  fields: (t) => ({
    maxBytes: t.field({ type: 'SafeInt', resolve: (e) => e.maxBytes }),
  }),
});
