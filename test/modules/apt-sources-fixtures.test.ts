// Table-driven plan tests of the apt source modules, in the format of fixtures.test.ts:
// test/modules/fixtures/<module>/<case>.json = args + the sources files as gathered -> expected
// plan. apt_repository: "current.files" maps each probed path to its text (null: the path does not exist);
// deb822_repository: "current" names the sources and key paths, "files" holds their text, "download"
// the key fetched from a signed_by URL ({ rc, content (base64), error }).
// apt_key: "current" is the gather's { list, key } probe results ({ rc, out });
// "commands" lists substrings the plan's commands must hold, in order ("update" is apt-get update).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileFact } from '../../engine/file-fact.js';
import type { ModuleDefinition, Plan } from '../../engine/module.js';
import aptKey from '../../modules/apt_key.js';
import deb822Repository from '../../modules/deb822_repository.js';
import aptRepository, { parseSourceLine, revertCommands, sourcesFile } from '../../modules/apt_repository.js';
import { completeArgs, expectPlan, type PlanExpectation } from './harness.js';

interface Case extends PlanExpectation {
  description: string;
  args: Record<string, unknown>;
  current: { files?: Record<string, string | null>; [key: string]: unknown };
  commands?: string[];
  diffs?: { beforeHeader: string; afterHeader: string; after: string }[];
}

const IDENTITY = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };
const TIME = '2024-01-01 12:00:00.000000000 +0000';

function fact(path: string, text: string | null): FileFact {
  if (text === null) return { path, exists: false, parentExists: true, identity: IDENTITY } as FileFact;
  const content = Buffer.from(text).toString('base64');
  return {
    path,
    exists: true,
    parentExists: true,
    identity: IDENTITY,
    type: 'file',
    mode: '0644',
    owner: 'root',
    group: 'root',
    uid: 0,
    gid: 0,
    size: text.length,
    nlink: 1,
    inode: 1,
    mtime: TIME,
    atime: TIME,
    content,
  } as FileFact;
}

// The modules' own argument and state types do not matter to the table.
type AnyModule = ModuleDefinition<unknown, unknown>;
const modules: Record<string, { module: AnyModule; state: (c: Case['current']) => unknown }> = {
  apt_repository: {
    module: aptRepository as unknown as AnyModule,
    state: (c) => ({ files: Object.entries(c.files ?? {}).map(([p, t]) => fact(p, t)) }),
  },
  apt_key: {
    module: aptKey as unknown as AnyModule,
    state: (c) => c,
  },
  deb822_repository: {
    module: deb822Repository as unknown as AnyModule,
    state: (c) => {
      const f = c.files ?? {};
      const at = (path: string) => fact(path, f[path] ?? null);
      return {
        sources: at(c.sources as string),
        asc: at(c.asc as string),
        gpg: at(c.gpg as string),
        keyrings: { ...fact('/etc/apt/keyrings', ''), type: 'directory', content: undefined },
        download: c.download,
      };
    },
  },
};
const root = join(import.meta.dirname, 'fixtures');

for (const [name, { module, state }] of Object.entries(modules)) {
  describe(`${name} plans`, () => {
    for (const caseFile of readdirSync(join(root, name))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const c = JSON.parse(readFileSync(join(root, name, caseFile), 'utf8')) as Case;
      it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
        const args = completeArgs(module, c.args);
        const plan: Plan = module.plan(state(c.current), args);
        expectPlan(plan, c);
        if (c.commands) {
          const text = plan.changes.flatMap((ch) => ch.commands.map((x) => x.cmd.toString()));
          expect(text.length, text.join('\n')).toBe(c.commands.length);
          c.commands.forEach((want, i) => expect(text[i]).toContain(want === 'update' ? 'apt-get update' : want));
        }
        if (c.diffs)
          expect(plan.changes.filter((ch) => ch.diff).map((ch) => ({ ...ch.diff, before: undefined }))).toEqual(
            c.diffs.map((d) => ({ ...d, before: undefined })),
          );
      });
    }
  });
}

describe('apt source lines as Ansible reads them', () => {
  it('normalises spaces and sets a comment apart', () => {
    expect(parseSourceLine('  #deb   http://h/d  bookworm main # note ')).toEqual({
      valid: true,
      enabled: false,
      source: 'deb http://h/d bookworm main',
      comment: 'note',
    });
    expect(parseSourceLine('Types: deb')).toMatchObject({ valid: false });
  });
  it('derives the file name from the URL, as 2.14 does', () => {
    expect(sourcesFile('deb [arch=amd64 signed-by=/k.asc] https://download.example.com/linux/debian bookworm stable', undefined)).toBe(
      '/etc/apt/sources.list.d/download_example_com_linux_debian.list',
    );
    expect(sourcesFile('deb http://user:pw@10.0.0.1:3142/debian bookworm main', undefined)).toBe(
      '/etc/apt/sources.list.d/10_0_0_1_3142_debian.list',
    );
    expect(sourcesFile('deb http://h/d x y', 'docker')).toBe('/etc/apt/sources.list.d/docker.list');
    expect(sourcesFile('deb http://h/d x y', '/etc/apt/other')).toBe('/etc/apt/other.list');
  });
});

describe('apt_repository after a failed apt-get update', () => {
  it('removes a file it created and writes an old one back, with its mode', () => {
    const state = { files: [fact('/etc/apt/sources.list', 'deb http://h/d x y\n'), fact('/etc/apt/sources.list.d/new.list', null)] };
    const cmds = revertCommands(state, ['/etc/apt/sources.list.d/new.list', '/etc/apt/sources.list']);
    expect(cmds.map((c) => c.cmd.toString())).toEqual([
      'rm -f /etc/apt/sources.list.d/new.list',
      `t=/etc/apt/sources.list.tsplay-revert; cat > "$t" && chmod 0644 "$t" && mv -f "$t" /etc/apt/sources.list`,
    ]);
    expect(cmds[1]!.stdin?.toString()).toBe('deb http://h/d x y\n');
  });
});
