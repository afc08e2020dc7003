// Output helpers shared by reporters: Python-style JSON (as Ansible prints results), colours,
// and Ansible's banner width.
import { createTwoFilesPatch } from 'diff/lib/patch/create.js';
import type { FileDiff } from '../module.js';

/** JSON as Python's json.dumps prints it: sorted keys, ", " and ": " separators, or indent 4. */
export function pyJson(value: unknown, indent?: number, level = 0): string {
  const pad = indent ? '\n' + ' '.repeat(indent * (level + 1)) : '';
  const end = indent ? '\n' + ' '.repeat(indent * level) : '';
  const sep = indent ? ',' : ', ';
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return '[' + value.map((v) => pad + pyJson(v, indent, level + 1)).join(sep) + end + ']';
  }
  if (typeof value === 'object') {
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return pyJson(json.call(value), indent, level);
    const keys = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    if (keys.length === 0) return '{}';
    return (
      '{' +
      keys.map((k) => pad + JSON.stringify(k) + ': ' + pyJson((value as Record<string, unknown>)[k], indent, level + 1)).join(sep) +
      end +
      '}'
    );
  }
  return JSON.stringify(String(value));
}

/** A value as Python's str() shows it, for `(item=...)` labels. */
export function pyRepr(value: unknown, top = true): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return top ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return '[' + value.map((v) => pyRepr(v, false)).join(', ') + ']';
  if (typeof value === 'object') {
    return (
      '{' +
      Object.entries(value)
        .map(([k, v]) => `'${k}': ${pyRepr(v, false)}`)
        .join(', ') +
      '}'
    );
  }
  return String(value);
}

const CODES: Record<string, string> = {
  green: '32',
  yellow: '33',
  red: '31',
  cyan: '36',
  blue: '34',
  magenta: '35',
  'bright red': '1;31',
  'bright purple': '1;35',
  'dark gray': '1;30',
};

/** Colours on or off: NO_COLOR wins, then FORCE_COLOR / ANSIBLE_FORCE_COLOR, then "is it a terminal". */
export function colorEnabled(stream: NodeJS.WriteStream | { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.ANSIBLE_NOCOLOR && env.ANSIBLE_NOCOLOR !== '0' && env.ANSIBLE_NOCOLOR.toLowerCase() !== 'false') return false;
  const force = env.FORCE_COLOR ?? env.ANSIBLE_FORCE_COLOR;
  if (force !== undefined && force !== '0' && force.toLowerCase() !== 'false') return true;
  return Boolean(stream.isTTY);
}

export type Colorize = (color: string, text: string) => string;

export function makeColorize(on: boolean): Colorize {
  return on ? (color, text) => `\x1b[${CODES[color] ?? '0'}m${text}\x1b[0m` : (_c, text) => text;
}

/** "PLAY [x] ******" padded with stars as Ansible does (79 columns off a terminal). */
export function banner(text: string, columns = 79): string {
  const stars = Math.max(3, columns - text.length);
  return `${text} ${'*'.repeat(stars)}`;
}

/** A unified diff with 3 lines of context, headed the way Ansible heads it. */
export function unifiedDiff(d: FileDiff): string {
  const patch = createTwoFilesPatch(
    d.beforeHeader ? `before: ${d.beforeHeader}` : 'before',
    d.afterHeader ? `after: ${d.afterHeader}` : 'after',
    d.before,
    d.after,
    undefined,
    undefined,
    { context: 3 },
  );
  // drop the "====" line createTwoFilesPatch puts first
  return patch
    .split('\n')
    .filter((l, i) => !(i === 0 && l.startsWith('===')))
    .join('\n');
}
