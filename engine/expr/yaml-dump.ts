// YAML as Ansible's to_yaml / to_nice_yaml / from_yaml see it (PyYAML): YAML 1.1 where only
// yes/no/on/off/true/false are booleans (not y/n), sorted keys, PyYAML's block layout
// (indentless lists under keys, `-   key: v` items) and flow style for leaf collections.
import { Document, isCollection as isCollectionNode, parse, parseAllDocuments, type Tags } from 'yaml';
import { isMapping, plain } from './python.js';
import { isUndefined } from './undefined.js';

const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;

// The YAML 1.1 tags of the yaml package, with PyYAML's booleans (y and n stay strings).
function pyyamlTags(tags: Tags): Tags {
  return tags.map((t) => {
    if (typeof t !== 'object' || t.tag !== 'tag:yaml.org,2002:bool' || !('test' in t) || !t.test) return t;
    return { ...t, test: t.test.test('true') ? PY_TRUE : PY_FALSE };
  });
}

const OPTIONS = { version: '1.1' as const, customTags: pyyamlTags };

/** Parse one YAML document as PyYAML (Ansible) does. */
export function parseYaml(text: string): unknown {
  return parse(text, OPTIONS) ?? null;
}

/** Parse every document of a YAML stream. */
export function parseYamlAll(text: string): unknown[] {
  const docs = parseAllDocuments(text, OPTIONS);
  if (!Array.isArray(docs)) return [];
  for (const d of docs) if (d.errors.length) throw d.errors[0];
  return docs.map((d) => d.toJS() ?? null);
}

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

function toPlain(v: unknown): Plain {
  v = plain(v);
  if (isUndefined(v)) v.fail();
  if (Array.isArray(v)) return v.map(toPlain);
  if (isMapping(v)) return Object.fromEntries(Object.keys(v).map((k) => [k, toPlain(v[k])]));
  if (v === undefined) return null;
  if (typeof v === 'object' && v !== null) return String(v);
  return v as Plain;
}

function isCollection(v: Plain): v is Plain[] | { [k: string]: Plain } {
  return typeof v === 'object' && v !== null;
}

function isEmpty(v: Plain[] | { [k: string]: Plain }): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
}

function yamlText(value: unknown, flow: boolean): string {
  const doc = new Document(value, OPTIONS);
  if (flow && isCollectionNode(doc.contents)) doc.contents.flow = true;
  return doc.toString({ singleQuote: true, lineWidth: 0, flowCollectionPadding: false }).replace(/\n$/, '');
}

function scalar(v: Plain, indent: string): string {
  if (typeof v === 'string' && v.includes('\n')) {
    if (/^[ \t]/.test(v) || /[ \t]\n/.test(v)) return JSON.stringify(v);
    const chomp = v.endsWith('\n\n') ? '+' : v.endsWith('\n') ? '' : '-';
    const body = (v.endsWith('\n') ? v.slice(0, -1) : v).split('\n');
    return `|${chomp}\n${body.map((l) => (l ? indent + l : l)).join('\n')}`;
  }
  return yamlText(v, false);
}

/** PyYAML's yaml.dump(value, indent=..., default_flow_style=None|False, sort_keys=...). */
export function dumpYaml(value: unknown, opts: { indent: number; flowLeaves: boolean; sortKeys: boolean }): string {
  const step = opts.indent;
  const pad = (n: number) => ' '.repeat(n);
  const keys = (m: { [k: string]: Plain }) => (opts.sortKeys ? Object.keys(m).sort() : Object.keys(m));
  const inline = (v: Plain, col: number): string | undefined => {
    if (!isCollection(v)) return scalar(v, pad(col + step));
    if (isEmpty(v)) return Array.isArray(v) ? '[]' : '{}';
    if (opts.flowLeaves && (Array.isArray(v) ? v : Object.values(v)).every((x) => !isCollection(x))) {
      return yamlText(Array.isArray(v) ? v : Object.fromEntries(keys(v).map((k) => [k, v[k]])), true);
    }
    return undefined;
  };
  // Block layout of a collection whose lines start at column `col`.
  const block = (v: Plain[] | { [k: string]: Plain }, col: number): string[] => {
    const lines: string[] = [];
    if (Array.isArray(v)) {
      for (const item of v) {
        const one = inline(item, col);
        if (one !== undefined) {
          lines.push(`${pad(col)}- ${one}`);
          continue;
        }
        const inner = block(item as Plain[] | { [k: string]: Plain }, col + step);
        lines.push(`${pad(col)}-${pad(step - 1)}${inner[0]!.slice(col + step)}`, ...inner.slice(1));
      }
      return lines;
    }
    for (const k of keys(v)) {
      const key = scalar(k, '');
      const val = v[k]!;
      const one = inline(val, col);
      if (one !== undefined) lines.push(`${pad(col)}${key}: ${one}`);
      else lines.push(`${pad(col)}${key}:`, ...block(val as Plain[] | { [k: string]: Plain }, Array.isArray(val) ? col : col + step));
    }
    return lines;
  };
  const root = toPlain(value);
  const one = inline(root, -step);
  if (one !== undefined) {
    const plainScalar = !isCollection(root) && !/^['"|]/.test(one);
    return `${one}\n${plainScalar ? '...\n' : ''}`;
  }
  return `${block(root as Plain[] | { [k: string]: Plain }, 0).join('\n')}\n`;
}
