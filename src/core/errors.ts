/**
 * Every failure aara reports comes from this one table: a stable code, an exit status for the CLI,
 * and a message template. Throw with `fail(code, details)`; catch with `instanceof AaraError`.
 */
export const ERRORS = {
  // bitstream container
  BAD_MAGIC: { exit: 3, message: 'not an aara file (bad magic bytes)' },
  UNSUPPORTED_VERSION: { exit: 3, message: 'unsupported aara bitstream version' },
  TRUNCATED: { exit: 3, message: 'file is truncated' },
  CORRUPT: { exit: 3, message: 'file is corrupt' },
  CHECKSUM_MISMATCH: { exit: 3, message: 'checksum mismatch: the file is damaged' },
  WEIGHTS_MISMATCH: { exit: 3, message: 'file was made with other weights' },
  BAD_LEVEL: { exit: 2, message: 'quality level out of range' },
  // sizes and limits
  BAD_DIMENSIONS: { exit: 3, message: 'image dimensions are invalid' },
  TOO_LARGE: { exit: 3, message: 'image exceeds the configured size limit' },
  // weights
  BAD_WEIGHTS: { exit: 4, message: 'weight file is invalid' },
  // images in and out
  BAD_IMAGE: { exit: 3, message: 'cannot read image' },
  UNSUPPORTED_IMAGE: { exit: 3, message: 'unsupported image format' },
  BAD_PIXELS: { exit: 2, message: 'invalid pixel buffer' },
  // files and command line
  FILE_NOT_FOUND: { exit: 5, message: 'file not found' },
  OUTPUT_EXISTS: { exit: 5, message: 'output exists (use --force to replace it)' },
  OUTPUT_IS_INPUT: { exit: 5, message: 'output would overwrite the input' },
  OUTPUT_COLLISION: { exit: 5, message: 'two inputs would write the same output' },
  IO_ERROR: { exit: 5, message: 'file system error' },
  USAGE: { exit: 2, message: 'invalid command line' },
  // an external program (a classic codec CLI used by `aara eval`) failed
  TOOL_FAILED: { exit: 1, message: 'external tool failed' },
  // a library caller's budget ran out (options `signal` and `deadline`; the CLI never stops itself)
  ABORTED: { exit: 1, message: 'stopped: the signal was aborted' },
  DEADLINE_EXCEEDED: { exit: 1, message: 'stopped: the deadline passed' },
  // a library caller passed an argument or option of the wrong type or range
  BAD_ARGUMENT: { exit: 2, message: 'invalid argument' },
  // a caller broke an API contract (e.g. wrong buffer length): a bug, not bad data
  INTERNAL: { exit: 1, message: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class AaraError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, details?: string) {
    super(details ? `${ERRORS[code].message}: ${details}` : ERRORS[code].message);
    this.name = 'AaraError';
    this.code = code;
    this.exitCode = ERRORS[code].exit;
  }
}

export function fail(code: ErrorCode, details?: string): never {
  throw new AaraError(code, details);
}
