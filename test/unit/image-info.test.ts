import { describe, expect, it } from 'vitest';
import { InconsistentImageError, NoPixelDataError } from '../../src/errors.js';
import { type DicomElement, ElementList } from '../../src/dicom/dataset.js';
import { nativeFrameBits, readImageInfo } from '../../src/dicom/image-info.js';
import type { DicomStructure } from '../../src/dicom/scan.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, findTransferSyntax } from '../../src/dicom/transfer-syntax.js';

const us = (tag: string, ...values: number[]): DicomElement => ({ tag, vr: 'US', values, length: 2 * values.length });
const cs = (tag: string, value: string): DicomElement => ({ tag, vr: 'CS', values: [value], length: value.length });
const is = (tag: string, value: number): DicomElement => ({ tag, vr: 'IS', values: [value], length: String(value).length });

function structure(length: number | null, uid = EXPLICIT_VR_LITTLE_ENDIAN): DicomStructure {
  return {
    hasPreamble: true,
    hasFileMeta: true,
    declaredTransferSyntaxUid: uid,
    transferSyntax: findTransferSyntax(uid)!,
    datasetOffset: 132,
    headerEnd: 1000,
    pixelData: length === null && uid === EXPLICIT_VR_LITTLE_ENDIAN ? null : { vr: 'OW', valueOffset: 1000, length },
  };
}

/** A 4×3 MONOCHROME2 16/12 image, overridable per element. */
function mono(overrides: DicomElement[] = [], drop: string[] = []): ElementList {
  const base = [
    us('00280002', 1),
    cs('00280004', 'MONOCHROME2'),
    us('00280010', 3),
    us('00280011', 4),
    us('00280100', 16),
    us('00280101', 12),
    us('00280102', 11),
    us('00280103', 0),
  ];
  const byTag = new Map(base.map((e) => [e.tag, e]));
  for (const e of overrides) byTag.set(e.tag, e);
  for (const t of drop) byTag.delete(t);
  return new ElementList(byTag.values());
}

describe('readImageInfo (PS3.3 C.7.6.3 Image Pixel Module)', () => {
  it('reads the module', () => {
    const info = readImageInfo(mono([is('00280008', 2)]), structure(48));
    expect(info).toEqual({
      rows: 3,
      columns: 4,
      samplesPerPixel: 1,
      bitsAllocated: 16,
      bitsStored: 12,
      highBit: 11,
      pixelRepresentation: 0,
      photometricInterpretation: 'MONOCHROME2',
      planarConfiguration: 0,
      numberOfFrames: 2,
    });
  });

  it('throws NoPixelDataError without (7FE0,0010)', () => {
    expect(() => readImageInfo(mono(), structure(null))).toThrow(NoPixelDataError);
  });

  it('names the missing attribute', () => {
    expect(() => readImageInfo(mono([], ['00280010']), structure(24))).toThrow(new InconsistentImageError('Rows (0028,0010) is missing or empty'));
    expect(() => readImageInfo(mono([], ['00280100']), structure(24))).toThrow(/BitsAllocated \(0028,0100\) is missing/);
    expect(() => readImageInfo(mono([us('00280011', 0)]), structure(24))).toThrow(/Columns \(0028,0011\) is 0, expected an integer 1\.\.65535/);
  });

  it('rejects BitsStored > BitsAllocated and a HighBit outside the allocated bits (PS3.5 §8.1.1)', () => {
    expect(() => readImageInfo(mono([us('00280101', 17)]), structure(24))).toThrow(/BitsStored \(0028,0101\) is 17/);
    expect(() => readImageInfo(mono([us('00280102', 16)]), structure(24))).toThrow(/HighBit \(0028,0102\) is 16/);
    expect(() => readImageInfo(mono([us('00280100', 7)]), structure(24))).toThrow(/BitsAllocated \(0028,0100\) is 7/);
  });

  it('rejects pixel data shorter than Rows × Columns × Frames × Samples × BitsAllocated/8, with the sizes', () => {
    const ds = mono([us('00280010', 65535), us('00280011', 65535), us('00280100', 16), us('00280101', 16), us('00280102', 15)]);
    expect(() => readImageInfo(ds, structure(128))).toThrow(
      new InconsistentImageError('pixel data has 128 bytes, 65535×65535×1 frame(s)×1 sample(s)×16 bits need 8589672450'),
    );
    // 2 frames × 12 pixels × 2 bytes = 48: one byte short fails, exact length passes.
    expect(() => readImageInfo(mono([is('00280008', 2)]), structure(47))).toThrow(/pixel data has 47 bytes/);
    expect(readImageInfo(mono([is('00280008', 2)]), structure(48)).numberOfFrames).toBe(2);
  });

  it('does not check the length of encapsulated pixel data', () => {
    expect(readImageInfo(mono(), structure(null, '1.2.840.10008.1.2.4.50')).rows).toBe(3);
  });

  it('applies the ACR-NEMA defaults: MONOCHROME2, 1 sample, PixelRepresentation 0, BitsStored = BitsAllocated', () => {
    const ds = mono([], ['00280004', '00280002', '00280103', '00280101', '00280102']);
    const info = readImageInfo(ds, structure(24));
    expect(info.photometricInterpretation).toBe('MONOCHROME2');
    expect(info.samplesPerPixel).toBe(1);
    expect(info.pixelRepresentation).toBe(0);
    expect(info.bitsStored).toBe(16);
    expect(info.highBit).toBe(15);
  });

  it('sizes packed frames in bits: 1-bit and ACR-NEMA 12-bit (PS3.5 §8.1.1, D.2)', () => {
    const seg = readImageInfo(mono([us('00280100', 1), us('00280101', 1), us('00280102', 0), us('00280010', 3), us('00280011', 3), is('00280008', 3)]), structure(4));
    expect(nativeFrameBits(seg)).toBe(9);
    // 27 bits need 4 bytes; 3 bytes fail.
    expect(() => readImageInfo(mono([us('00280100', 1), us('00280101', 1), us('00280102', 0), us('00280010', 3), us('00280011', 3), is('00280008', 3)]), structure(3))).toThrow(/need 4$/);
    const packed = readImageInfo(mono([us('00280100', 12), us('00280101', 12), us('00280102', 11)]), structure(18));
    expect(nativeFrameBits(packed)).toBe(144);
  });

  it('sizes YBR_FULL_422 as two samples per pixel (PS3.3 C.7.6.3.1.2)', () => {
    const ds = mono([cs('00280004', 'YBR_FULL_422'), us('00280002', 3), us('00280100', 8), us('00280101', 8), us('00280102', 7), us('00280006', 0)]);
    expect(readImageInfo(ds, structure(24)).samplesPerPixel).toBe(3);
    expect(() => readImageInfo(ds, structure(23))).toThrow(/need 24/);
  });

  it('rejects a sample count that contradicts the photometric interpretation', () => {
    expect(() => readImageInfo(mono([cs('00280004', 'RGB')]), structure(100))).toThrow(/SamplesPerPixel \(0028,0002\) is 1, expected 3 for RGB/);
  });
});
