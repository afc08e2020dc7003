// YAML read as Ansible reads it (YAML 1.1: yes/no/on/off booleans, 0755 octal; duplicate keys
// are an error), keeping the file:line:col of every mapping, sequence and key for error messages.
import { readFileSync } from 'node:fs';
import { readError } from './read.js';
import {
  isMap,
  isScalar,
  isSeq,
  isAlias,
  LineCounter,
  parseDocument,
  parseAllDocuments,
  visit,
  type Alias,
  type Node,
  type ScalarTag,
  type SchemaOptions,
} from 'yaml';

type TagsFn = Extract<NonNullable<SchemaOptions['customTags']>, (tags: never) => unknown>;
import { UserError, type SourceLocation } from '../errors.js';
import { decryptVaultText, isVaultText, registerDecrypted } from '../vault.js';
import { secretValues } from '../redact.js';
import { UnsafeText } from '../unsafe.js';

const locations = new WeakMap<object, SourceLocation>();
const keyLocations = new WeakMap<object, Map<string, SourceLocation>>();
const itemLocations = new WeakMap<object, Array<SourceLocation | undefined>>();

/** Where item `i` of a loaded sequence came from (falls back to the sequence itself). */
export function itemLocationOf(list: unknown, i: number): SourceLocation | undefined {
  if (typeof list !== 'object' || list === null) return undefined;
  return itemLocations.get(list)?.[i] ?? locations.get(list);
}

/** Where a mapping or sequence loaded by loadYaml came from. */
export function locationOf(value: unknown): SourceLocation | undefined {
  return typeof value === 'object' && value !== null ? locations.get(value) : undefined;
}

/** Where a key of a loaded mapping came from (falls back to the mapping itself). */
export function keyLocationOf(obj: unknown, key: string): SourceLocation | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  return keyLocations.get(obj)?.get(key) ?? locations.get(obj);
}

/** Record a location for an object built by code (e.g. a task expanded from k=v text). */
export function setLocation(value: object, loc: SourceLocation | undefined): void {
  if (loc) locations.set(value, loc);
}

// PyYAML, which Ansible uses, reads yes/no/on/off/true/false as booleans but not y/n; nor do we.
// `!vault |` values stay text here; parseYaml decrypts them where it knows their position.
const vaultTag: ScalarTag = { tag: '!vault', resolve: (s: string) => s };
// `!unsafe`: kept as text here, made UnsafeText where parseYaml converts it
const unsafeTag: ScalarTag = { tag: '!unsafe', resolve: (s: string) => s };

const pyyamlBooleans: TagsFn = (tags) => [
  ...tags.map((t) => {
    if (typeof t !== 'object' || t.tag !== 'tag:yaml.org,2002:bool' || !t.test) return t;
    const truthy = t.test.test('yes');
    return { ...t, test: truthy ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/ : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/ } as ScalarTag;
  }),
  vaultTag,
  unsafeTag,
];

/** Options every YAML read uses: YAML 1.1 as PyYAML reads it, unique keys, merge keys. */
export const YAML_OPTIONS: { version: '1.1'; uniqueKeys: true; merge: true; customTags: TagsFn } = {
  version: '1.1',
  uniqueKeys: true,
  merge: true,
  customTags: pyyamlBooleans,
};

// The merge key `<<` (merge: true): yaml gives its value as the symbol '<<'.
function isMergeKey(k: unknown): boolean {
  if (!isScalar(k)) return false;
  const v = k.value;
  return (v === '<<' && (!k.type || k.type === 'PLAIN')) || (typeof v === 'symbol' && v.description === '<<');
}

/** How many values a YAML file may make: this many, plus this many per byte of its text. */
export const ALIAS_BUDGET_BASE = 100_000;
export const ALIAS_BUDGET_PER_BYTE = 20;

/** Parse YAML text; `file` is used in locations and errors. Returns the first document. */
export function parseYaml(text: string, file: string): unknown {
  if (isVaultText(text)) {
    // a whole encrypted file: its plaintext is YAML; positions are those of the plaintext
    const data = parseYaml(decryptVaultText(text, { file, line: 1, col: 1 }), file);
    registerDecrypted(data);
    return data;
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    ...YAML_OPTIONS,
    prettyErrors: false,
    lineCounter,
    strict: true,
  });
  const first = doc.errors[0];
  if (first) {
    // an unclosed quote is reported where the file ends: point at the quote that opened it
    const quote = /^Missing closing (["'])quote/.exec(first.message)?.[1];
    const opened = quote ? text.lastIndexOf(quote, first.pos[0] - 1) : -1;
    let pos = lineCounter.linePos(opened >= 0 ? opened : first.pos[0]);
    // A mis-indented line is reported by yaml where the key before it starts; PyYAML (and the
    // user) name the line that is off: where the key that continues on the next line ends, or
    // the first line after the mapping whose items do not line up.
    const multiline = doc.errors.find((e) => e.code === 'MULTILINE_IMPLICIT_KEY');
    if (multiline && first.code === 'BLOCK_AS_IMPLICIT_KEY') pos = lineCounter.linePos(multiline.pos[1]);
    else if (first.code === 'BAD_INDENT') {
      const end = lineCounter.linePos(first.pos[1]);
      if (end.line > pos.line) pos = { line: end.line, col: (text.split('\n')[end.line - 1]?.search(/\S/) ?? 0) + 1 };
    }
    const tabs = /tab/i.test(first.message) || text.split('\n')[pos.line - 1]?.includes('\t');
    throw new UserError('E_YAML', `YAML syntax error: ${firstLine(first.message)}`, {
      location: { file, line: pos.line, col: pos.col },
      hint: tabs
        ? 'YAML does not allow tabs for indentation; indent with spaces'
        : first.code === 'DUPLICATE_KEY'
          ? 'each key may appear once in a mapping; remove or rename the duplicate'
          : 'check the indentation and quoting on this line and the one above it',
    });
  }
  const at = (node: Node | null | undefined): SourceLocation | undefined => {
    if (!node?.range) return undefined;
    const p = lineCounter.linePos(node.range[0]);
    return { file, line: p.line, col: p.col };
  };
  // yaml's Alias.resolve searches the whole document for the anchor, each time: a file with
  // thousands of aliases (merge keys in a big inventory) took minutes. One walk finds them all.
  let anchorOf: Map<Node, Node | undefined> | undefined;
  const resolveAlias = (alias: Alias): unknown => {
    if (!anchorOf) {
      anchorOf = new Map();
      const latest = new Map<string, Node>();
      const walk = anchorOf;
      visit(doc, {
        Node(_key, n) {
          if (isAlias(n)) walk.set(n, latest.get(n.source));
          else if (n.anchor) latest.set(n.anchor, n);
        },
      });
    }
    return anchorOf.has(alias) ? anchorOf.get(alias) : alias.resolve(doc);
  };
  // Each alias is a copy of its anchor's data, so aliases of aliases grow exponentially (a "billion
  // laughs" file of a few hundred bytes is gigabytes): the values made may not exceed a budget far
  // above what any file without such nesting makes, and the alias that crosses it is named.
  const budget = ALIAS_BUDGET_BASE + ALIAS_BUDGET_PER_BYTE * text.length;
  let made = 0;
  let outerAlias: Node | undefined;
  const convert = (node: unknown): unknown => {
    if (++made > budget) {
      throw new UserError(
        'E_YAML',
        `YAML aliases expand to more than ${budget} values: refused (aliases nested in aliases grow exponentially)`,
        {
          location: at(outerAlias) ?? { file, line: 1, col: 1 },
          hint: 'an anchor (&name) may be used by many aliases (*name), but not by aliases that are themselves used many times; write the data out, or use a variable',
        },
      );
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = resolveAlias(node);
      if (outerAlias) return convert(target);
      outerAlias = node;
      try {
        return convert(target);
      } finally {
        outerAlias = undefined;
      }
    }
    if (isScalar(node)) {
      if (node.tag === '!vault') {
        const plain = decryptVaultText(String(node.value), at(node));
        secretValues.add(plain);
        return plain;
      }
      if (node.tag === '!unsafe') return new UnsafeText(String(node.value ?? ''));
      return node.value;
    }
    if (isMap(node)) {
      const obj: Record<string, unknown> = {};
      const keys = new Map<string, SourceLocation>();
      for (const pair of node.items) {
        const k = pair.key;
        if (isMergeKey(k) && (isMap(pair.value) || isSeq(pair.value) || isAlias(pair.value))) {
          const srcs = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const s of srcs) {
            const merged = convert(s);
            if (merged && typeof merged === 'object') {
              for (const [mk, mv] of Object.entries(merged)) if (!(mk in obj)) obj[mk] = mv;
            }
          }
          continue;
        }
        if (isMap(k) || isSeq(k) || (isAlias(k) && !isScalar(resolveAlias(k)))) {
          // PyYAML refuses it ("found unacceptable key"); the usual cause is an unquoted template
          throw new UserError('E_YAML', `YAML syntax error: a ${isSeq(k) ? 'list' : 'mapping'} cannot be a key of a mapping`, {
            location: at(k as Node) ?? at(node) ?? { file, line: 1, col: 1 },
            hint: 'a value that starts with { or [ is YAML, not text: quote a template, e.g. x: "{{ a }}"',
          });
        }
        const key = String(isScalar(k) ? k.value : convert(k));
        obj[key] = convert(pair.value);
        const loc = at(k as Node);
        if (loc) keys.set(key, loc);
      }
      const loc = at(node);
      if (loc) locations.set(obj, loc);
      keyLocations.set(obj, keys);
      return obj;
    }
    if (isSeq(node)) {
      const arr = node.items.map((i) => convert(i));
      const loc = at(node);
      if (loc) locations.set(arr, loc);
      itemLocations.set(
        arr,
        node.items.map((i) => at(i as Node)),
      );
      return arr;
    }
    return (node as { toJSON?: () => unknown }).toJSON?.() ?? node;
  };
  return convert(doc.contents);
}

/** Read and parse a YAML (or JSON) file. */
export function loadYamlFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw readError(e, path, 'file');
  }
  return parseYaml(text, path);
}

/** True if the text has more than one YAML document (not supported for playbooks). */
export function countDocuments(text: string): number {
  return parseAllDocuments(text, YAML_OPTIONS).length;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
