/**
 * The types and the few constants that several layers share, so that each layer imports them from here
 * rather than from a sibling of another layer (which is how import circles start). Nothing here imports.
 */

/** The codec's total downsampling: ŷ (four stride-2 convolutions) is 1/16 of the image; images are padded to it. */
export const TOTAL_STRIDE = 16;
/** ẑ (three stride-2 convolutions) is 1/8 of the image. */
export const RESIDUAL_STRIDE = 8;

/** A half-open range of rows or columns. */
export interface Range {
  start: number;
  end: number;
}
/** A rectangle of an image or latent grid, in whole-image coordinates (the padded image's for pixels). */
export interface Region {
  rows: Range;
  cols: Range;
}

/** One image's activations, CHW float32 (src/model/tensor.ts allocates and recycles them). */
export interface Tensor {
  c: number;
  h: number;
  w: number;
  data: Float32Array;
}

/**
 * Symbol arrays: the encoder quantises into int32; the decoder decodes into int16 (half the memory of a
 * large image's latents) unless a stream holds a value that int16 cannot, and then into int32.
 */
export type Symbols = Int16Array | Int32Array;

/** A quantised latent, [c, h, w] symbols (src/model/bottleneck.ts). */
export interface Latent {
  c: number;
  h: number;
  w: number;
  /** the integer symbols s; a decoder drops them once it has settled a Gaussian latent into `values` */
  symbols?: Symbols;
  /** Gaussian conditional: the predicted mean μ of each element (gained); without it, μ = the channel's median */
  means?: Float32Array;
  /** Gaussian conditional: each element's row of the scale-indexed CDF tables; without it, row = channel */
  indexes?: Uint8Array;
  /**
   * A decoded Gaussian latent once all its streams are read (src/model/bottleneck.ts, settle): fround(s + μ) of each
   * element, written over its means, in place of symbols, means and indexes (4 bytes an element instead of 7).
   */
  values?: Float32Array;
  /**
   * ŷ of the hyper kind: g_m's first layer (tconv · IGDN) over the whole latent, which ẑ's prior computes anyway,
   * kept when small: tiles crop it instead of computing it again (the same values, see src/model/tiling.ts).
   */
  head?: Tensor;
  /**
   * ẑ of the checkerboard and spacechannel kinds between their passes, when small: c_z's output (μ', σ' un-gained,
   * 2·C channels) over the whole latent, which the later passes would otherwise compute again; the spacechannel
   * kind's others pass overwrites it, band by band, with its own (μ', σ') for k_o (src/model/priors.ts).
   * ŷ of the ycontext and ychannel kinds between their steps: h_s's output (μ', σ'; ŵ's grid × 4, which may pass ŷ's
   * edges), in shared memory, which its others' prior adds e_y's Δ to (the ychannel kind's others pass overwrites it,
   * band by band, with its own (μ', σ') for ŷ's k_o).
   */
  context?: Tensor;
}

/** The latents of one file: ŷ and ẑ, and the hyper kind's hyper-latent ŵ. */
export interface Latents {
  y: Latent;
  z: Latent;
  hyper?: Latent;
}

/** Integer CDF tables, one row per channel (factorized priors) or per scale (Gaussian conditional): src/entropy/. */
export interface CdfTables {
  /** C */
  channels: number;
  /** Int32 entries per channel row in `cdf` */
  stride: number;
  /** [C * stride]; row c: cdf[0] = 0 < cdf[1] < … < cdf[length[c] + 1] = 65536, then padding */
  cdf: Int32Array;
  /** [C] number of regular symbols of channel c; symbol index length[c] is the ESCAPE symbol */
  length: Int32Array;
  /** [C] index of value 0: value v has index v + offset[c] */
  offset: Int32Array;
}

/** torch.round semantics (ties to even), so the engine's symbols and pixels match the trainer's. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
