import { builder } from './builder.js';

/** A VOI window (PS3.3 C.11.2.1.2): center and width in modality units (e.g. HU). */
export const WindowInput = builder.inputType('WindowInput', {
  description: 'VOI window in modality units (PS3.3 C.11.2.1.2); width must be > 0.',
  fields: (t) => ({
    center: t.float({ required: true }),
    width: t.float({ required: true }),
  }),
});
