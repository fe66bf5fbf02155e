/**
 * CRC-32 as in IEEE 802.3, zlib and PNG: reflected, polynomial 0xEDB88320, initial value and final XOR
 * 0xFFFFFFFF. Check value: crc32 of the ASCII bytes "123456789" is 0xCBF43926.
 */

/** The reflected IEEE 802.3 generator polynomial. */
const POLYNOMIAL = 0xedb88320;

/** CRC of every byte value; built on first use so importing this module costs nothing. */
let byteTable: Uint32Array | undefined;

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** CRC-32 of bytes[start, end), as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const table = (byteTable ??= buildTable());
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
