/**
 * rANS entropy coder: 32-bit state, byte-wise renormalisation (F. Giesen's ryg_rans "rans_byte" scheme).
 *
 * Notation (J. Duda, "Asymmetric numeral systems", and ryg_rans): x is the coder state, M = 2^PROB_BITS the
 * total of all frequencies, a symbol s owns the slots [start_s, start_s + freq_s) of [0, M), and coding s maps
 *   C(s, x) = floor(x / freq_s) · M + (x mod freq_s) + start_s          (encode)
 *   D(x)    = (s, freq_s · floor(x / M) + (x mod M) − start_s)           (decode, s found from x mod M).
 * The state is kept in the normalisation interval I = [L, b·L) with b = 256 (whole bytes) by moving bytes
 * out (encoder) or in (decoder).
 *
 * READ ME FIRST — the traps:
 *  1. rANS is last-in first-out: the encoder must be fed the symbols in REVERSE decoding order. The encoder
 *     also writes its bytes backwards, so `finish()` returns them in the order the decoder reads them.
 *  2. The stream starts with the encoder's final state (4 bytes, little endian); the decoder starts from it
 *     and, if the stream is intact, ends exactly at the encoder's initial state L after the last byte.
 *     `RansDecoder.finish()` checks both: it is the cheap integrity check that catches most corruption.
 *  3. JS bit operators work on int32. x < b·L = 2^31 keeps every `<<` and `|` on the state non-negative;
 *     anything that can reach 2^31 (freq · 2^15 for freq = 2^16, escaped values) uses multiplication.
 *  4. The decoder trusts nothing: a start state outside I, a read past the end of the stream, bytes left
 *     over or a wrong final state throw AaraError('CORRUPT'). D(x) ≥ 2^7, so a decode step reads at most
 *     2 bytes: garbage input can never make it loop, the caller's symbol count bounds the work.
 *  5. Callers of `put`/`advance` must pass a valid (start, freq): 1 ≤ freq, start + freq ≤ M, and for
 *     `advance` the slot `peek()` returned must lie in [start, start + freq). Nothing here re-checks that
 *     in the hot loop.
 */
import { fail } from '../core/errors.js';

/** log2 M. 16 bits: the precision of the weight file's CDF tables, and freq · floor(x / M) < 2^31. */
export const PROB_BITS = 16;
/** M, the sum of all frequencies. */
export const PROB_SCALE = 1 << PROB_BITS;
const PROB_MASK = PROB_SCALE - 1;
/** L, the lower bound of I. 2^23 puts I = [2^23, 2^31) right below the int32 sign bit (trap 3), and
 *  L / M = 2^7 keeps the cost of rounding x / freq negligible (well under 0.01 bit per symbol). */
export const RANS_L = 1 << 23;
/** b·L with b = 256: renormalisation moves whole bytes. 2^31: not an int32 (trap 3). */
const STATE_END = RANS_L * 256;
/** b·L / M: the encoder must emit bytes until x < freq_s · this, so that C(s, x) < b·L stays inside I. */
const X_MAX_PER_FREQ = STATE_END / PROB_SCALE;
/** The final state is flushed as a whole u32. */
export const STATE_BYTES = 4;
/** Initial encoder buffer size; it doubles as needed. */
const MIN_CAPACITY = 64;

export class RansEncoder {
  private buffer: Uint8Array;
  /** index of the first written byte: the buffer is filled from its end towards its start (trap 1) */
  private position: number;
  private state = RANS_L;

  /** `expectedBytes` only sizes the first buffer; a wrong guess costs a copy, not correctness. */
  constructor(expectedBytes = MIN_CAPACITY) {
    this.buffer = new Uint8Array(Math.max(MIN_CAPACITY, Math.ceil(expectedBytes)));
    this.position = this.buffer.length;
  }

  /** Encode the symbol owning slots [start, start + freq) of [0, M). Symbols go in REVERSE order. */
  put(start: number, freq: number): void {
    let x = this.state;
    const xMax = freq * X_MAX_PER_FREQ; // reaches 2^31 for freq = M: multiplication, not << (trap 3)
    while (x >= xMax) {
      if (this.position === 0) this.grow();
      this.buffer[--this.position] = x & 0xff;
      x >>>= 8;
    }
    this.state = Math.floor(x / freq) * PROB_SCALE + (x % freq) + start;
  }

  /** Encode `value` (0 ≤ value < 2^bits, 1 ≤ bits ≤ 16) with a uniform distribution: exactly `bits` bits. */
  putBits(value: number, bits: number): void {
    const unused = PROB_BITS - bits;
    this.put(value << unused, 1 << unused);
  }

  /** Flush the state and return the stream in decoding order. The encoder must not be used afterwards. */
  finish(): Uint8Array {
    if (this.position < STATE_BYTES) this.grow();
    this.position -= STATE_BYTES;
    new DataView(this.buffer.buffer).setUint32(this.position, this.state, true);
    return this.buffer.slice(this.position);
  }

  private grow(): void {
    const used = this.buffer.length - this.position;
    const bigger = new Uint8Array(this.buffer.length * 2);
    bigger.set(this.buffer.subarray(this.position), bigger.length - used);
    this.position = bigger.length - used;
    this.buffer = bigger;
  }
}

export class RansDecoder {
  private readonly bytes: Uint8Array;
  private position = STATE_BYTES;
  private state: number;

  /** Decode the whole of `bytes` (pass a subarray for part of a buffer). */
  constructor(bytes: Uint8Array) {
    if (bytes.length < STATE_BYTES) fail('CORRUPT', `rANS stream of ${bytes.length} bytes has no state`);
    this.bytes = bytes;
    this.state = new DataView(bytes.buffer, bytes.byteOffset, STATE_BYTES).getUint32(0, true);
    if (this.state < RANS_L || this.state >= STATE_END) fail('CORRUPT', 'rANS start state out of range');
  }

  /** x mod M: the slot of the next symbol; find the symbol owning it, then call `advance`. */
  peek(): number {
    return this.state & PROB_MASK;
  }

  /** Consume the symbol owning [start, start + freq), which must contain `peek()`. */
  advance(start: number, freq: number): void {
    let x = freq * (this.state >>> PROB_BITS) + (this.state & PROB_MASK) - start;
    while (x < RANS_L) {
      if (this.position >= this.bytes.length) fail('CORRUPT', 'rANS stream ends early');
      x = (x << 8) | this.bytes[this.position++];
    }
    this.state = x;
  }

  /** Decode a value written by `putBits(value, bits)`. */
  getBits(bits: number): number {
    const unused = PROB_BITS - bits;
    const value = this.peek() >>> unused;
    this.advance(value << unused, 1 << unused);
    return value;
  }

  /** Throw CORRUPT unless every byte was consumed and the state is back at the encoder's initial L. */
  finish(): void {
    const left = this.bytes.length - this.position;
    if (left !== 0) fail('CORRUPT', `${left} bytes left after the last rANS symbol`);
    if (this.state !== RANS_L) fail('CORRUPT', 'rANS final state mismatch');
  }
}
