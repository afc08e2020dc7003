// Host names as inventories write them: `host:2222`, `[2001:db8::1]:2222`, `pi[1:3]`, `web[01:10:2]`,
// `node[a:c]` (Ansible's parse_address and expand_hostname_range).
import { isIPv4, isIPv6 } from 'node:net';
import { UserError } from '../errors.js';

/** A host identifier with the port written after it, if any. */
export interface HostAddress {
  host: string;
  port?: number;
}

const NUMERIC_RANGE = /\[[0-9]+:[0-9]+(?::[0-9]+)?\]/g;
const HEX_RANGE = /\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]/gi;
const ALNUM_RANGE = /\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]/gi;
const LABEL = String.raw`[\p{L}\p{N}_](?:[\p{L}\p{N}_-]*[\p{L}\p{N}_])?`;
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'u');

/**
 * Split `host:port` / `[ipv6]:port` and check that what is left is an IPv4 address, an IPv6
 * address or a host name (with `[x:y]` ranges when allowRanges). Returns undefined if it is none
 * of these; a bare IPv6 address is never split on ':'.
 */
export function parseAddress(text: string, allowRanges: boolean): HostAddress | undefined {
  let address = text;
  let port: number | undefined;
  const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(address);
  if (bracketed) {
    address = bracketed[1]!;
    port = Number(bracketed[2]);
  }
  const hostPort = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/.exec(address);
  if (hostPort) {
    address = hostPort[1]!;
    port = Number(hostPort[2]);
  }
  // cheapest test first: node's isIPv6 compiles a large pattern on its first call
  const valid =
    HOSTNAME.test(address.replace(ALNUM_RANGE, 'a')) ||
    isIPv4(address.replace(NUMERIC_RANGE, '0')) ||
    (address.includes(':') && isIPv6(address.replace(HEX_RANGE, '0')));
  if (!valid) return undefined;
  if (!allowRanges && address.includes('[')) return undefined;
  return port === undefined ? { host: address } : { host: address, port };
}

const RANGE_HINT = 'write a range as [1:3], [01:10], [1:10:2] (step) or [a:c], with begin <= end';

function rangeError(message: string, entry: string): UserError {
  return new UserError('E_INVENTORY', `${message} in host '${entry}'`, { hint: RANGE_HINT });
}

/**
 * The host names and port an inventory host entry stands for: `pi[1:3]:2222` ->
 * pi1, pi2, pi3 on port 2222. A malformed range is an E_INVENTORY UserError without a location.
 */
export function expandHostPattern(pattern: string): { hosts: string[]; port?: number } {
  const addr = parseAddress(pattern, true);
  const name = addr?.host ?? pattern;
  const hosts = name.includes('[') ? expandHostRange(name) : [name];
  return addr?.port === undefined ? { hosts } : { hosts, port: addr.port };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Expand every `[begin:end(:step)]` in a host name, left to right (`db[01:02]-[a:b]`). */
export function expandHostRange(name: string): string[] {
  return expandFirstRange(name, name);
}

// One range at a time, recursing into the rest; `entry` is the name as written, for errors.
function expandFirstRange(name: string, entry: string): string[] {
  const open = name.indexOf('[');
  if (open < 0) return [name];
  const close = name.indexOf(']', open);
  if (close < 0) throw rangeError("host range has no closing ']'", entry);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3)
    throw rangeError(`host range [${bounds.join(':')}] must be [begin:end] or [begin:end:step]`, entry);
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const stepText = bounds[2];
  if (!end) throw rangeError(`host range [${bounds.join(':')}] must give an end value`, entry);
  const step = stepText === undefined ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw rangeError(`host range step '${stepText}' must be a positive integer`, entry);
  let items: string[];
  const ib = LETTERS.indexOf(beg);
  const ie = LETTERS.indexOf(end);
  if (beg.length === 1 && end.length === 1 && ib >= 0 && ie >= 0) {
    if (ib > ie) throw rangeError(`host range [${beg}:${end}] goes backwards`, entry);
    items = [];
    for (let i = ib; i <= ie; i += step) items.push(LETTERS[i]!);
  } else {
    if (!/^[0-9]+$/.test(beg) || !/^[0-9]+$/.test(end))
      throw rangeError(`host range [${bounds.join(':')}] must be numbers (1:3) or single letters (a:c)`, entry);
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && width !== end.length)
      throw rangeError(`host range [${beg}:${end}] must give begin and end with the same number of digits`, entry);
    const b = Number(beg);
    const e = Number(end);
    if (b > e) throw rangeError(`host range [${beg}:${end}] goes backwards`, entry);
    items = [];
    for (let i = b; i <= e; i += step) items.push(String(i).padStart(width, '0'));
  }
  return items.flatMap((item) => expandFirstRange(head + item + tail, entry));
}
