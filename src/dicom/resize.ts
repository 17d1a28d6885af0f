/**
 * Thumbnail stage: fit an image within maxSize × maxSize keeping its aspect ratio, resampling
 * display values by area averaging (a box filter of the scale factor's width, as Pillow's BOX or
 * OpenCV's INTER_AREA): each output pixel is the mean of the input area it covers, fractional
 * edge pixels weighted by the fraction covered. It never aliases and never rings; images are never
 * enlarged.
 */

/** Largest accepted maxSize: Rows and Columns are US (PS3.5), so no image side exceeds it. */
export const MAX_THUMBNAIL_SIZE = 65535;

export interface Size {
  readonly width: number;
  readonly height: number;
}

/**
 * The size of a width × height image fitted within maxSize × maxSize: the longer side becomes
 * maxSize, the shorter one is scaled by the same factor and rounded to the nearest integer (at
 * least 1); an image that already fits, or no maxSize, keeps its size (never upscaled).
 * 300 × 100 in 64 → 64 × 21 (21.33 rounds down); 100 × 300 → 21 × 64.
 */
export function fitWithin(width: number, height: number, maxSize: number | undefined): Size {
  if (maxSize === undefined || (width <= maxSize && height <= maxSize)) return { width, height };
  if (width >= height) return { width: maxSize, height: Math.max(1, Math.round((height * maxSize) / width)) };
  return { width: Math.max(1, Math.round((width * maxSize) / height)), height: maxSize };
}

/** For each output index along one axis: the first input index it covers and the weights (summing to 1) of the inputs covered. */
interface AxisWeights {
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** Concatenated weights; output i's start at offsets[i]. */
  readonly weights: Float64Array;
  readonly offsets: Int32Array;
}

/** Box (area) weights mapping `inSize` samples to `outSize` ≤ inSize samples. */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const offsets = new Int32Array(outSize);
  const all: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const lo = o * scale;
    const hi = Math.min(inSize, (o + 1) * scale);
    const first = Math.floor(lo);
    const last = Math.min(inSize - 1, Math.ceil(hi) - 1);
    start[o] = first;
    count[o] = last - first + 1;
    offsets[o] = all.length;
    for (let i = first; i <= last; i++) {
      const covered = Math.min(hi, i + 1) - Math.max(lo, i);
      all.push(covered / (hi - lo));
    }
  }
  return { start, count, weights: Float64Array.from(all), offsets };
}

/**
 * Downscales row-major, channel-interleaved samples from `from` to `to` (each side ≤ the source's)
 * by area averaging, separably (rows, then columns); results are rounded to the nearest integer.
 * The output has the input's type (8- or 16-bit).
 */
export function resizeArea<T extends Uint8Array | Uint16Array>(samples: T, from: Size, to: Size, channels: number): T {
  const { width: sw, height: sh } = from;
  const { width: dw, height: dh } = to;
  if (samples.length !== sw * sh * channels) throw new RangeError(`resizeArea: ${samples.length} samples for ${sw}×${sh}×${channels}`);
  if (dw < 1 || dh < 1 || dw > sw || dh > sh) throw new RangeError(`resizeArea: cannot resize ${sw}×${sh} to ${dw}×${dh} (downscale only)`);
  const out = new (samples.constructor as { new (n: number): T })(dw * dh * channels);
  if (dw === sw && dh === sh) {
    out.set(samples);
    return out;
  }
  // Horizontal pass: sh rows of dw pixels, kept in floating point for the vertical pass.
  const h = axisWeights(sw, dw);
  const rows = new Float64Array(sh * dw * channels);
  for (let y = 0; y < sh; y++) {
    const inRow = y * sw * channels;
    const outRow = y * dw * channels;
    for (let x = 0; x < dw; x++) {
      const first = h.start[x]!;
      const n = h.count[x]!;
      const w0 = h.offsets[x]!;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += samples[inRow + (first + k) * channels + c]! * h.weights[w0 + k]!;
        rows[outRow + x * channels + c] = sum;
      }
    }
  }
  // Vertical pass.
  const v = axisWeights(sh, dh);
  const rowLength = dw * channels;
  for (let y = 0; y < dh; y++) {
    const first = v.start[y]!;
    const n = v.count[y]!;
    const w0 = v.offsets[y]!;
    const outRow = y * rowLength;
    for (let i = 0; i < rowLength; i++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += rows[(first + k) * rowLength + i]! * v.weights[w0 + k]!;
      out[outRow + i] = Math.round(sum);
    }
  }
  return out;
}
