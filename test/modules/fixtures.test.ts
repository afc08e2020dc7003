// Table-driven plan tests: every test/modules/fixtures/<module>/<case>.json is gathered state +
// arguments -> expected plan. Plans are pure, so no host is involved.
//
// A case: { "description", "args", "current", "expect" } where expect is { "noop": true },
// { "changes": [{ "summary" }], "after"?: text of the first diff's after }, or { "failed": substring },
// plus an optional "result" matched against the plan's result. args go through the engine's
// argument check (aliases, defaults), so a case may leave defaults out. In "current", a probed
// path is written short: { "path", "text"?, "type"?, "mode"?, ... }; "text" is the file content.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import type { AnyModuleDefinition, Plan } from '../../engine/module.js';
import blockinfile from '../../modules/blockinfile.js';
import copy from '../../modules/copy.js';
import file from '../../modules/file.js';
import type { FileFact } from '../../engine/file-fact.js';
import iniFile from '../../modules/ini_file.js';
import lineinfile from '../../modules/lineinfile.js';
import template from '../../modules/template.js';
import { completeArgs, expectPlan } from './harness.js';

interface Case {
  description: string;
  args: Record<string, unknown>;
  current: Record<string, unknown>;
  expect: { noop?: true; changes?: { summary: string }[]; after?: string; failed?: string };
  result?: Record<string, unknown>;
}

type ShortFact = Partial<FileFact> & { text?: string; base64?: string; linked?: Record<string, unknown> };

const IDENTITY = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };
const TIME = '2024-01-01 12:00:00.000000000 +0000';

// A full FileFact from the short form used in fixtures.
function fact(short: ShortFact | undefined): FileFact | undefined {
  if (!short) return undefined;
  const { text, base64, ...rest } = short;
  const content = base64 ?? (text !== undefined ? Buffer.from(text, 'utf8').toString('base64') : undefined);
  const exists = short.exists ?? (content !== undefined || short.type !== undefined);
  const f: FileFact = { path: '/etc/test.conf', parentExists: true, identity: IDENTITY, ...rest, exists } as FileFact;
  if (!exists) return f;
  const size = content !== undefined ? Buffer.from(content, 'base64').length : 0;
  const stat = {
    type: 'file',
    mode: '0644',
    owner: 'root',
    group: 'root',
    uid: 0,
    gid: 0,
    size,
    nlink: 1,
    inode: 100,
    mtime: TIME,
    atime: TIME,
  };
  const full = { ...stat, ...f } as FileFact;
  if (content !== undefined) {
    full.content = content;
    full.checksum = (rest as FileFact).checksum ?? sha1(Buffer.from(content, 'base64'));
  }
  if (short.linked) full.linked = { ...stat, ...short.linked } as FileFact['linked'];
  return full;
}

function sha1(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}

// Module state from a fixture's "current".
function state(module: string, c: Record<string, unknown>): unknown {
  if (module === 'lineinfile' || module === 'blockinfile' || module === 'ini_file') return fact(c as ShortFact);
  if (module === 'file') return { path: fact(c.path as ShortFact), src: fact(c.src as ShortFact), inDir: fact(c.inDir as ShortFact) };
  const source = c.source as { text?: string; base64?: string; mode?: string; basename?: string } | undefined;
  return {
    dest: fact(c.dest as ShortFact),
    inDir: fact(c.inDir as ShortFact),
    remote: fact(c.remote as ShortFact),
    tree: treeState(c.tree as TreeShort | undefined),
    source: source && {
      content: source.base64 ?? Buffer.from(source.text ?? '', 'utf8').toString('base64'),
      mode: source.mode ?? '0644',
      basename: source.basename,
    },
  };
}

// A directory src in a fixture: its entries, the host's facts in the same order, file texts by rel.
interface TreeShort {
  src: string;
  root: string;
  entries: { rel: string; kind: string; target?: string; implicit?: boolean }[];
  facts: ShortFact[];
  texts: Record<string, string>;
}

function treeState(t: TreeShort | undefined): unknown {
  if (!t) return undefined;
  const sources = Object.fromEntries(
    Object.entries(t.texts).map(([rel, text]) => [rel, { content: Buffer.from(text).toString('base64'), mode: '0644', basename: rel }]),
  );
  return { src: t.src, root: t.root, entries: t.entries, facts: t.facts.map(fact), sources };
}

const modules: Record<string, AnyModuleDefinition> = { blockinfile, copy, file, ini_file: iniFile, lineinfile, template };
const root = join(import.meta.dirname, 'fixtures');

for (const name of readdirSync(root)
  .sort()
  .filter((n) => n in modules)) {
  describe(`${name} plans`, () => {
    for (const caseFile of readdirSync(join(root, name))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const c = JSON.parse(readFileSync(join(root, name, caseFile), 'utf8')) as Case;
      it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
        const module = modules[name]!;
        const args = completeArgs(module, c.args);
        const plan: Plan = module.plan(state(name, c.current), args);
        expectPlan(plan, c);
      });
    }
  });
}
