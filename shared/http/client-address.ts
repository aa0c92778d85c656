/**
 * The address of the client behind trusted reverse proxies: the one function both
 * services use for throttling, audit and access logs. A forwarding header is believed only
 * when the TCP peer is a configured trusted proxy; the chain it carries is then walked from
 * the right (each proxy appends the address it saw), skipping further trusted proxies, and
 * the first untrusted address is the client. Anyone else's header is ignored, so a client
 * cannot choose the address it is counted under. An entry that cannot be read (garbage,
 * `unknown`, an obfuscated RFC 7239 name) ends the walk at the last address believed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Which header the trusted proxies set: only that one is read. */
export const PROXY_HEADERS = ['x-forwarded-for', 'forwarded'] as const;
export type ProxyHeader = (typeof PROXY_HEADERS)[number];

/** An address as compared and logged: no brackets or zone, IPv4-mapped IPv6 as plain IPv4, lowercase. */
export function normalizeAddress(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(bare);
  return mapped ? mapped[1]! : bare;
}

/** Adds one `address` or `address/prefix` entry to `list`; throws an Error naming the entry when it is neither. */
function addEntry(list: BlockList, entry: string): void {
  const [address = '', prefix, extra] = entry.trim().split('/');
  const normalized = normalizeAddress(address);
  const family = isIP(normalized);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const max = family === 4 ? 32 : 128;
  if (family === 0 || extra !== undefined) throw new Error(`not an IP address or CIDR: ${JSON.stringify(entry)}`);
  if (prefix === undefined) {
    list.addAddress(normalized, type);
    return;
  }
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(bits >= 0 && bits <= max)) throw new Error(`prefix length must be 0 to ${max}: ${JSON.stringify(entry)}`);
  list.addSubnet(normalized, bits, type);
}

/** An address from a forwarding header (`1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]:80`), or null when it is none. */
function hopAddress(value: string): string | null {
  let text = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1]!;
  else if (/^[\d.]+:\d{1,5}$/.test(text)) text = text.slice(0, text.indexOf(':'));
  const address = normalizeAddress(text);
  return isIP(address) === 0 ? null : address;
}

/** The `for=` of one RFC 7239 element (`for=1.2.3.4;proto=https`), or null. */
function forwardedFor(element: string): string | null {
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    const value = pair.slice(eq + 1).trim();
    return hopAddress(value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value);
  }
  return null;
}

/**
 * The hops a header names, left (farthest) to right (nearest); null for an entry that is
 * not an address. Node joins repeated header lines with ", ", which keeps their order.
 * Quotes are not honoured when splitting: a comma inside a quoted value can only break
 * entries to the left of the one our proxy appended, which is read before them.
 */
function hopsOf(headers: IncomingHttpHeaders, header: ProxyHeader): Array<string | null> {
  const raw = headers[header];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (value === undefined || value.trim() === '') return [];
  const entries = value.split(',');
  return header === 'forwarded' ? entries.map(forwardedFor) : entries.map(hopAddress);
}

/** Decides which address a request is counted and logged under. */
export class ClientAddressResolver {
  private readonly trusted = new BlockList();

  /** `proxies`: addresses and CIDRs (IPv4 and IPv6); throws an Error naming a bad entry. */
  constructor(
    proxies: readonly string[] = [],
    private readonly header: ProxyHeader = 'x-forwarded-for',
  ) {
    for (const entry of proxies) addEntry(this.trusted, entry);
  }

  isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The client address for a request from TCP peer `peer` carrying `headers`. */
  resolve(peer: string | undefined, headers: IncomingHttpHeaders): string {
    let client = normalizeAddress(peer ?? '');
    if (!this.isTrusted(client)) return client;
    const hops = hopsOf(headers, this.header);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (hop === null) return client;
      client = hop;
      if (!this.isTrusted(hop)) return hop;
    }
    return client;
  }
}
