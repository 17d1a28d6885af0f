/**
 * The spool file of graphql-upload-ts (fs-capacitor) that the blob store adopts by hard link
 * (src/graphql/upload-dicom.ts spoolPathOf): a private field of the pinned version, so a
 * dependency update that renames it fails here rather than silently falling back to the copy.
 */
import { existsSync } from 'node:fs';
import { type FileUpload, WriteStream } from 'graphql-upload-ts';
import { describe, expect, it } from 'vitest';
import { spoolPathOf } from '../../src/graphql/upload-dicom.js';

describe('spoolPathOf', () => {
  it('finds graphql-upload-ts\'s spool file (a private field of the pinned version)', async () => {
    const capacitor = new WriteStream();
    await new Promise((resolve) => capacitor.once('ready', resolve));
    capacitor.write(Buffer.from('x'));
    const path = spoolPathOf({ capacitor } as unknown as FileUpload);
    expect(typeof path).toBe('string');
    expect(existsSync(path!)).toBe(true);
    capacitor.release();
    expect(spoolPathOf({} as FileUpload)).toBeNull();
  });
});
