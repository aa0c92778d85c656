/**
 * A minimal DER (ASN.1 Distinguished Encoding Rules) writer and reader: just the types
 * an X.509 certificate needs. Node can parse certificates but cannot build them, so the
 * certificate builder in x509.ts assembles its bytes from these pieces.
 */

/** Universal tags used by X.509. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value element. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SEQUENCE of already-encoded elements. */
export function sequence(...items: Buffer[]): Buffer {
  return tlv(Tag.SEQUENCE, Buffer.concat(items));
}

/** SET OF already-encoded elements, sorted as DER requires. */
export function set(...items: Buffer[]): Buffer {
  return tlv(Tag.SET, Buffer.concat([...items].sort(Buffer.compare)));
}

/** INTEGER from a non-negative bigint or unsigned big-endian bytes (minimal two's complement). */
export function integer(value: bigint | Buffer): Buffer {
  let bytes: Buffer;
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError('negative INTEGER is not supported');
    const hex = value.toString(16);
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  } else {
    bytes = value;
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1]! & 0x80) === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  // A set top bit would make the value negative: prefix a zero byte.
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(Tag.INTEGER, bytes);
}

/** BOOLEAN (DER: 0xff for true). */
export function boolean(value: boolean): Buffer {
  return tlv(Tag.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

/** NULL. */
export function nullValue(): Buffer {
  return tlv(Tag.NULL, Buffer.alloc(0));
}

/** OBJECT IDENTIFIER from dotted notation, e.g. `1.2.840.10045.4.3.2`. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new RangeError(`invalid OID ${dotted}`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0]! > 2n) throw new RangeError(`invalid OID ${dotted}`);
  const out: number[] = [];
  const subidentifiers = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  for (const sub of subidentifiers) {
    const chunk: number[] = [Number(sub & 0x7fn)];
    for (let rest = sub >> 7n; rest > 0n; rest >>= 7n) chunk.unshift(Number(rest & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return tlv(Tag.OID, Buffer.from(out));
}

/** BIT STRING holding whole bytes (no unused bits): keys and signatures. */
export function bitString(bytes: Buffer): Buffer {
  return tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([0]), bytes]));
}

/**
 * BIT STRING of named bits (bit 0 is the most significant bit of the first byte), with
 * trailing zero bits dropped as DER requires for named-bit lists such as keyUsage.
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(Tag.BIT_STRING, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> bit % 8;
  const unused = 7 - (highest % 8);
  return tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** OCTET STRING. */
export function octetString(bytes: Buffer): Buffer {
  return tlv(Tag.OCTET_STRING, bytes);
}

/** UTF8String. */
export function utf8String(text: string): Buffer {
  return tlv(Tag.UTF8_STRING, Buffer.from(text, 'utf8'));
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(Tag.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'ascii'));
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'ascii'));
}

/** Context-specific EXPLICIT tag `[n]` wrapping one encoded element. */
export function explicit(n: number, inner: Buffer): Buffer {
  return tlv(0xa0 | n, inner);
}

/** Context-specific IMPLICIT primitive tag `[n]` over raw content bytes. */
export function implicitPrimitive(n: number, content: Buffer): Buffer {
  return tlv(0x80 | n, content);
}

/** A decoded element: its tag, its content bytes, and the whole encoding. */
export interface DerElement {
  tag: number;
  content: Buffer;
  encoded: Buffer;
}

/** Reads the element starting at `offset`; throws RangeError on truncated or non-DER input. */
export function readElement(buffer: Buffer, offset = 0): DerElement {
  if (offset + 2 > buffer.length) throw new RangeError('truncated DER element');
  const tag = buffer[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('multi-byte DER tags are not supported');
  let length = buffer[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('unsupported DER length');
    if (offset + 2 + count > buffer.length) throw new RangeError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buffer[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > buffer.length) throw new RangeError('truncated DER content');
  return { tag, content: buffer.subarray(offset + header, end), encoded: buffer.subarray(offset, end) };
}

/** The child elements of a constructed element (SEQUENCE, SET, explicit tag). */
export function readChildren(element: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = 0; offset < element.content.length; ) {
    const child = readElement(element.content, offset);
    children.push(child);
    offset += child.encoded.length;
  }
  return children;
}
