import { createRequire } from 'node:module';
import { constants, gzipSync } from 'node:zlib';
import type { PartCompression } from '../protocol/task-names.ts';

/**
 * Compresses a part file as the OutputWriter fills it, one buffer (about 1 MiB of records) at a
 * time, synchronously: the writer is synchronous, and so is every codec here once loaded. Nothing
 * in the output depends on the time or the host: a job's parts are byte-identical run to run.
 *
 * - gzip (node:zlib): each buffer is one gzip member (RFC 1952 allows a file of many; zcat, Python,
 *   Java's GZIPInputStream and Hadoop read them all). zlib writes mtime 0 and OS 3 (Unix) in each
 *   member's header.
 * - zstd (@hpcc-js/wasm-zstd, WebAssembly): one frame for the whole part, streamed.
 * - bzip2 (libbzip2-wasm, libbzip2 in WebAssembly): each buffer is one bzip2 stream; bzip2 and
 *   bzcat read concatenated streams as one file, as they do a `pbzip2` file's.
 *
 * Why these libraries, and what was measured: docs/output-formats.md.
 *
 * Called by OutputWriter only: `compress` per full buffer, `end` once, after the last.
 */
export interface PartCompressor {
  /** The compressed bytes of `chunk`, ready to write (valid until the next call). */
  compress(chunk: Uint8Array): Uint8Array;
  /** The compressed stream's last bytes; the compressor is done. */
  end(): Uint8Array;
}

/** Makes a compressor; the codec's code is loaded already (`loadPartCompressor`). */
export type PartCompressorFactory = () => PartCompressor;

/** Loads a codec once per process (WebAssembly compiles asynchronously) and returns its factory; undefined for `none`. */
export async function loadPartCompressor(compression: PartCompression): Promise<PartCompressorFactory | undefined> {
  switch (compression) {
    case 'none':
      return undefined;
    case 'gzip':
      return () => new GzipCompressor();
    case 'zstd': {
      const zstd = await loadZstd();
      return () => new ZstdCompressor(zstd);
    }
    case 'bzip2': {
      const { mod } = await loadBzip2();
      return () => new Bzip2Compressor(mod);
    }
  }
}

const EMPTY = new Uint8Array(0);

class GzipCompressor implements PartCompressor {
  #members = 0;

  compress(chunk: Uint8Array): Uint8Array {
    this.#members++;
    return gzipSync(chunk, { level: constants.Z_DEFAULT_COMPRESSION });
  }

  /** An empty part is one empty member: a valid .gz file, as `gzip < /dev/null` makes. */
  end(): Uint8Array {
    return this.#members === 0 ? this.compress(EMPTY) : EMPTY;
  }
}

// --- zstd ---

interface Zstd {
  reset(): void;
  setCompressionLevel(level: number): void;
  compressChunk(data: Uint8Array): Uint8Array;
  compressEnd(): Uint8Array;
}

let zstdModule: Promise<Zstd> | undefined;
/**
 * The library keeps one compression stream per process, so one part is written at a time (a
 * worker runs one attempt at a time). A new part takes the stream over; a compressor whose stream
 * was taken (its attempt failed, or two parts were interleaved) refuses to go on.
 */
let zstdOwner: symbol | undefined;

function loadZstd(): Promise<Zstd> {
  zstdModule ??= import('@hpcc-js/wasm-zstd').then((m) => m.Zstd.load());
  return zstdModule;
}

/** zstd's default level (3), as the `zstd` command's. */
const ZSTD_LEVEL = 3;

class ZstdCompressor implements PartCompressor {
  readonly #zstd: Zstd;
  readonly #id = Symbol('zstd part');

  constructor(zstd: Zstd) {
    zstdOwner = this.#id;
    this.#zstd = zstd;
    zstd.reset();
    zstd.setCompressionLevel(ZSTD_LEVEL);
  }

  compress(chunk: Uint8Array): Uint8Array {
    this.#own();
    return this.#zstd.compressChunk(chunk);
  }

  end(): Uint8Array {
    this.#own();
    zstdOwner = undefined;
    return this.#zstd.compressEnd();
  }

  #own(): void {
    if (zstdOwner !== this.#id) throw new Error('another zstd part was started in this process while this one was being written');
  }
}

// --- bzip2 ---

interface Bzip2Result {
  readonly error: number;
  readonly errorMsg: string;
  readonly output: Uint8Array;
  delete(): void;
}

interface Bzip2Module {
  compressBZ2(input: Uint8Array, blockSize: number, workFactor: number): Bzip2Result;
  _free(pointer: number): void;
}

let bzip2Module: Promise<{ readonly mod: Bzip2Module }> | undefined;

/**
 * Wrapped: the module has a `then` that calls back with itself, so a promise resolved with it
 * (or an async function returning it) would never settle.
 */
function loadBzip2(): Promise<{ readonly mod: Bzip2Module }> {
  bzip2Module ??= new Promise((resolve, reject) => {
    const require = createRequire(import.meta.url);
    // The module (an old Emscripten build) adds process-wide 'uncaughtException' and
    // 'unhandledRejection' listeners as it starts: they are taken off again, so that the worker's
    // own error handling stays as it was.
    const before = { exception: process.listeners('uncaughtException'), rejection: process.listeners('unhandledRejection') };
    const factory = require('libbzip2-wasm') as (o: { onRuntimeInitialized: () => void; onAbort: (what: unknown) => void }) => Bzip2Module;
    const mod = factory({ onRuntimeInitialized: () => resolve({ mod }), onAbort: (what) => reject(new Error(`libbzip2-wasm failed to start: ${String(what)}`)) });
    for (const l of process.listeners('uncaughtException')) if (!before.exception.includes(l)) process.off('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!before.rejection.includes(l)) process.off('unhandledRejection', l);
  });
  return bzip2Module;
}

/** bzip2's defaults: 900k blocks (`-9`), work factor 30. */
const BZIP2_BLOCK = 9;
const BZIP2_WORK_FACTOR = 30;

class Bzip2Compressor implements PartCompressor {
  readonly #bz: Bzip2Module;
  #streams = 0;

  constructor(bz: Bzip2Module) {
    this.#bz = bz;
  }

  compress(chunk: Uint8Array): Uint8Array {
    this.#streams++;
    const r = this.#bz.compressBZ2(chunk, BZIP2_BLOCK, BZIP2_WORK_FACTOR);
    try {
      if (r.error !== 0) throw new Error(`bzip2 compression failed: ${r.errorMsg} (code ${r.error})`);
      // `output` is a view of the module's memory, allocated for this call: copy it, then free it.
      const view = r.output;
      const copy = Buffer.from(view);
      this.#bz._free(view.byteOffset);
      return copy;
    } finally {
      r.delete();
    }
  }

  /** An empty part is one empty stream, as `bzip2 < /dev/null` makes. */
  end(): Uint8Array {
    return this.#streams === 0 ? this.compress(EMPTY) : EMPTY;
  }
}
