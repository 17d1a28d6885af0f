/**
 * Synchronous binding to the codec WebAssembly module of dcmjs-codecs (build/dcmjs-native-codecs.wasm:
 * IJG libjpeg 6b with dcmtk's 8/12/16-bit and lossless patches, CharLS, OpenJPEG, OpenJPH). It makes
 * the same calls as dcmjs-codecs' own `NativeCodecs` class, but
 *
 * - synchronously (the module is compiled once, on first use), so the pixel pipeline stays a plain
 *   function that can run in a worker or on the main thread without an async start-up step;
 * - without loading dcmjs-codecs' JavaScript (and the dcmjs copy it requires): only the .wasm is used;
 * - with a fresh instance after any failure. The module reports errors by calling an import that
 *   throws, which unwinds the WebAssembly stack without freeing what the C++ code had allocated,
 *   and a trap (out-of-bounds access, `unreachable`) leaves the heap in an unknown state: the
 *   instance is dropped and the next decode instantiates the compiled module again (a few ms).
 *
 * The exported function names and the photometric enumeration below are dcmjs-codecs' internal ABI:
 * the dependency is pinned to an exact version, and test/unit/native-codecs.test.ts checks it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { InvalidPixelDataError } from '../../errors.js';

/** Which decoder of the module to run. */
export type NativeCodec = 'DecodeRle' | 'DecodeJpeg' | 'DecodeJpegLs' | 'DecodeJpeg2000' | 'DecodeHtJpeg2000';

/** Frame description handed to the decoder (the CodecsContext of dcmjs-codecs). */
export interface NativeFrameParameters {
  readonly columns: number;
  readonly rows: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly samplesPerPixel: number;
  readonly pixelRepresentation: 0 | 1;
  readonly planarConfiguration: 0 | 1;
  readonly photometricInterpretation: string;
  /** JPEG only: let libjpeg convert YCbCr to RGB as the JFIF/Adobe markers say (libjpeg's colour-space guess). */
  readonly convertColorspaceToRgb?: boolean;
}

/** The decoder's output: raw little-endian samples and the context as the decoder left it. */
export interface NativeDecodedFrame {
  readonly bytes: Uint8Array;
  readonly photometricInterpretation: string;
  readonly planarConfiguration: number;
}

/** dcmjs-codecs' PhotometricInterpretationEnum (wasm/src/CodecsContext.h), in order. */
export const PHOTOMETRIC_ENUM = [
  'MONOCHROME1',
  'MONOCHROME2',
  'PALETTE COLOR',
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_PARTIAL_422',
  'YBR_PARTIAL_420',
  'YBR_ICT',
  'YBR_RCT',
  'CMYK',
  'ARGB',
  'HSV',
] as const;

/** The module's exports this binding calls (all pointers and size_t are i32). */
const REQUIRED_EXPORTS = [
  'CreateCodecsContext',
  'ReleaseCodecsContext',
  'SetColumns',
  'SetRows',
  'SetBitsAllocated',
  'SetBitsStored',
  'SetSamplesPerPixel',
  'SetPixelRepresentation',
  'SetPlanarConfiguration',
  'SetPhotometricInterpretation',
  'GetPhotometricInterpretation',
  'GetPlanarConfiguration',
  'SetEncodedBufferSize',
  'GetEncodedBuffer',
  'GetDecodedBuffer',
  'GetDecodedBufferSize',
  'CreateDecoderParameters',
  'SetConvertColorspaceToRgb',
  'ReleaseDecoderParameters',
  'DecodeRle',
  'DecodeJpeg',
  'DecodeJpegLs',
  'DecodeJpeg2000',
  'DecodeHtJpeg2000',
] as const;

type Exports = Record<(typeof REQUIRED_EXPORTS)[number], (...args: number[]) => number> & {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
};

/** An instance whose linear memory grew past this is replaced after the decode (memory never shrinks). */
const RECYCLE_MEMORY_BYTES = 512 * 1024 * 1024;

let compiled: WebAssembly.Module | undefined;
let live: Exports | undefined;

/** Where the module file is: inside the installed dcmjs-codecs package. */
export function nativeCodecsWasmPath(): string {
  return createRequire(import.meta.url).resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm');
}

/** Thrown by the module's error callback; carries the codec's own message. */
class CodecMessage extends Error {}

function instantiate(): Exports {
  compiled ??= new WebAssembly.Module(readFileSync(nativeCodecsWasmPath()));
  let memory: WebAssembly.Memory | undefined;
  const text = (ptr: number, len: number): string =>
    memory ? Buffer.from(memory.buffer, ptr >>> 0, Math.min(len >>> 0, 4096)).toString('latin1') : '';
  const wasi = {
    environ_sizes_get: (countPtr: number, sizePtr: number) => {
      const view = new DataView(memory!.buffer);
      view.setUint32(countPtr >>> 0, 0, true);
      view.setUint32(sizePtr >>> 0, 0, true);
      return 0;
    },
    environ_get: () => 0,
    proc_exit: (code: number) => {
      throw new CodecMessage(`codec exited with status ${code}`);
    },
    clock_time_get: (_id: number, _precision: bigint, timePtr: number) => {
      new DataView(memory!.buffer).setBigUint64(timePtr >>> 0, process.hrtime.bigint(), true);
      return 0;
    },
    // stdout/stderr of the C++ code: swallowed (errors arrive through onCodecsException).
    fd_write: (_fd: number, iovs: number, count: number, writtenPtr: number) => {
      const view = new DataView(memory!.buffer);
      let written = 0;
      for (let i = 0; i < count; i++) written += view.getUint32((iovs >>> 0) + i * 8 + 4, true);
      view.setUint32(writtenPtr >>> 0, written, true);
      return 0;
    },
    fd_seek: () => 0,
    fd_close: () => 0,
  };
  const env = {
    emscripten_notify_memory_growth: () => {},
    onCodecsInfo: () => {},
    onCodecsTrace: () => {},
    onCodecsException: (ptr: number, len: number) => {
      throw new CodecMessage(text(ptr, len));
    },
  };
  const instance = new WebAssembly.Instance(compiled, { wasi_snapshot_preview1: wasi, env });
  const exports = instance.exports as unknown as Exports;
  memory = exports.memory;
  for (const name of REQUIRED_EXPORTS) {
    if (typeof exports[name] !== 'function') throw new Error(`dcmjs-codecs WebAssembly module lacks the export ${name}`);
  }
  // A WASI reactor runs its static constructors once before any other call.
  exports._initialize?.();
  return exports;
}

/**
 * Runs one decoder of the module on one frame's compressed bytes. Codec errors and traps become
 * InvalidPixelDataError (the instance is then discarded); other failures propagate.
 */
export function decodeNative(codec: NativeCodec, encoded: Uint8Array, frame: NativeFrameParameters): NativeDecodedFrame {
  const wasm = (live ??= instantiate());
  try {
    const ctx = wasm.CreateCodecsContext();
    wasm.SetColumns(ctx, frame.columns);
    wasm.SetRows(ctx, frame.rows);
    wasm.SetBitsAllocated(ctx, frame.bitsAllocated);
    wasm.SetBitsStored(ctx, frame.bitsStored);
    wasm.SetSamplesPerPixel(ctx, frame.samplesPerPixel);
    wasm.SetPixelRepresentation(ctx, frame.pixelRepresentation);
    wasm.SetPlanarConfiguration(ctx, frame.planarConfiguration);
    const pi = PHOTOMETRIC_ENUM.indexOf(frame.photometricInterpretation as (typeof PHOTOMETRIC_ENUM)[number]);
    wasm.SetPhotometricInterpretation(ctx, pi < 0 ? 1 : pi);
    wasm.SetEncodedBufferSize(ctx, encoded.length);
    new Uint8Array(wasm.memory.buffer).set(encoded, wasm.GetEncodedBuffer(ctx) >>> 0);

    const params = wasm.CreateDecoderParameters();
    wasm.SetConvertColorspaceToRgb(params, frame.convertColorspaceToRgb ? 1 : 0);
    wasm[codec](ctx, params);
    wasm.ReleaseDecoderParameters(params);

    const ptr = wasm.GetDecodedBuffer(ctx) >>> 0;
    const size = wasm.GetDecodedBufferSize(ctx) >>> 0;
    const bytes = new Uint8Array(wasm.memory.buffer, ptr, size).slice();
    const photometric = PHOTOMETRIC_ENUM[wasm.GetPhotometricInterpretation(ctx)] ?? frame.photometricInterpretation;
    const planar = wasm.GetPlanarConfiguration(ctx);
    wasm.ReleaseCodecsContext(ctx);
    if (wasm.memory.buffer.byteLength > RECYCLE_MEMORY_BYTES) live = undefined;
    return { bytes, photometricInterpretation: photometric, planarConfiguration: planar };
  } catch (err) {
    live = undefined;
    if (err instanceof CodecMessage) throw new InvalidPixelDataError(`${codecName(codec)} decoder: ${err.message || 'failed'}`);
    // The C++ code aborts (trap "unreachable") where it would throw; out-of-bounds accesses trap too.
    if (err instanceof WebAssembly.RuntimeError) throw new InvalidPixelDataError(`${codecName(codec)} decoder failed: the codestream is corrupt or truncated (${err.message})`);
    throw err;
  }
}

function codecName(codec: NativeCodec): string {
  return { DecodeRle: 'RLE', DecodeJpeg: 'JPEG', DecodeJpegLs: 'JPEG-LS', DecodeJpeg2000: 'JPEG 2000', DecodeHtJpeg2000: 'HTJ2K' }[codec];
}

/** Drops the current instance (tests use it to measure a cold start). */
export function resetNativeCodecs(): void {
  live = undefined;
}
