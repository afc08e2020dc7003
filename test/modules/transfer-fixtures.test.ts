// Table-driven plan tests of get_url, fetch and unarchive, in the format of fixtures.test.ts:
// test/modules/fixtures/<module>/<case>.json = args + gathered state -> expected plan. In
// "current", probed paths (get_url's dest and inDir, fetch's remote, unarchive's dest) are in the
// short form ({ "path", "text"?, "type"?, "exists"? }); the rest is the module's state as is.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import type { FileFact } from '../../engine/file-fact.js';
import type { AnyModuleDefinition } from '../../engine/module.js';
import fetch from '../../modules/fetch.js';
import getUrl from '../../modules/get_url.js';
import unarchive from '../../modules/unarchive.js';
import { completeArgs, expectPlan, type PlanExpectation } from './harness.js';

const IDENTITY = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };

function fact(short: { path?: string; text?: string; type?: string; exists?: boolean } | undefined): FileFact | undefined {
  if (!short) return undefined;
  const exists = short.exists ?? (short.text !== undefined || short.type !== undefined);
  const f = { path: short.path ?? '/etc/test.conf', exists, parentExists: true, identity: IDENTITY } as FileFact;
  if (!exists) return f;
  const bytes = Buffer.from(short.text ?? '');
  return {
    ...f,
    type: (short.type ?? 'file') as FileFact['type'],
    mode: short.type === 'directory' ? '0755' : '0644',
    owner: 'root',
    group: 'root',
    uid: 0,
    gid: 0,
    size: bytes.length,
    ...(short.text !== undefined ? { content: bytes.toString('base64'), checksum: createHash('sha1').update(bytes).digest('hex') } : {}),
  } as FileFact;
}

function state(module: string, c: Record<string, any>): unknown {
  if (module === 'get_url') return { ...c, dest: fact(c.dest), inDir: fact(c.inDir) };
  if (module === 'fetch') return { host: 'h', baseDir: '/base', ...c, remote: fact(c.remote) };
  return { ...c, dest: fact(c.dest) };
}

const modules: Record<string, AnyModuleDefinition> = { get_url: getUrl, fetch, unarchive };
const root = join(import.meta.dirname, 'fixtures');

for (const name of Object.keys(modules)) {
  describe(`${name} plans`, () => {
    for (const caseFile of readdirSync(join(root, name))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const c = JSON.parse(readFileSync(join(root, name, caseFile), 'utf8')) as PlanExpectation & {
        description: string;
        args: Record<string, unknown>;
        current: Record<string, unknown>;
      };
      it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
        const module = modules[name]!;
        expectPlan(module.plan(state(name, c.current), completeArgs(module, c.args)), c);
      });
    }
  });
}
