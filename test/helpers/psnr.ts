/**
 * PSNR between two PNG images exactly as ../shared/tools/compare-png.mjs computes it: samples scaled
 * to 0..255 (value × 255 / (2^depth − 1); palette images 0..255), a gray image compared as R=G=B
 * against an RGB one, two gray images on one channel, alpha ignored. Identical images: Infinity.
 */
import { PNG } from 'pngjs';

export interface DecodedPng {
  width: number;
  height: number;
  /** Colour types 0 and 4. */
  gray: boolean;
  depth: number;
  /** 255 / max sample value. */
  scale: number;
  /** RGBA samples as pngjs expands them (Uint8 or Uint16 values), 4 per pixel. */
  data: ArrayLike<number>;
  colorType: number;
}

/** Decodes a PNG with pngjs without rescaling 16-bit or low-bit-depth samples. */
export function decodePng(buf: Buffer): DecodedPng {
  const png = PNG.sync.read(buf, { skipRescale: true });
  const meta = png as unknown as { colorType: number; depth: number; color: boolean };
  const isPalette = meta.colorType === 3;
  const maxVal = isPalette ? 255 : 2 ** meta.depth - 1;
  return {
    width: png.width,
    height: png.height,
    gray: !meta.color,
    depth: isPalette ? 8 : meta.depth,
    scale: 255 / maxVal,
    data: png.data as unknown as ArrayLike<number>,
    colorType: meta.colorType,
  };
}

export interface PsnrResult {
  /** Overall PSNR in dB on an 8-bit scale (Infinity when identical). */
  psnr: number;
  /** Largest absolute difference of any sample, on the 8-bit scale. */
  maxAbsDiff: number;
}

/** PSNR of b against a (same size required), as compare-png.mjs. */
export function psnr(a: DecodedPng, b: DecodedPng): PsnrResult {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size differs: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  const channels = a.gray && b.gray ? 1 : 3;
  const n = a.width * a.height;
  let sse = 0;
  let maxAbsDiff = 0;
  for (let p = 0; p < n; p++) {
    const o = p * 4;
    for (let c = 0; c < channels; c++) {
      const d = a.data[o + c]! * a.scale - b.data[o + c]! * b.scale;
      sse += d * d;
      const ad = Math.abs(d);
      if (ad > maxAbsDiff) maxAbsDiff = ad;
    }
  }
  const value = sse === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sse / (n * channels)));
  return { psnr: value, maxAbsDiff };
}

/** PSNR between two encoded PNGs. */
export function psnrOfPngs(a: Buffer, b: Buffer): PsnrResult {
  return psnr(decodePng(a), decodePng(b));
}
