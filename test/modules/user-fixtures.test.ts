// Plan fixtures of the modules that edit a user's files (authorized_key, cron), in the format of
// fixtures.test.ts: test/modules/fixtures/<module>/<case>.json = args + gathered state -> plan.
// For authorized_key, "current" is { account, file, dir } with the files in short form
// ({ "path", "text" } or { "path", "exists": false }, or { "type": "directory" }); for cron,
// { crontab: { rc, out } } (what `crontab -l` printed) or { file } for a cron_file.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileFact } from '../../engine/file-fact.js';
import type { AnyModuleDefinition, Plan } from '../../engine/module.js';
import authorizedKey, { type AuthorizedKeyState } from '../../modules/authorized_key.js';
import cron, { type CronState } from '../../modules/cron.js';
import { completeArgs, expectPlan } from './harness.js';

const IDENTITY = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };
const TIME = '2024-01-01 12:00:00.000000000 +0000';

type ShortFact = { path: string; text?: string; exists?: boolean; type?: 'file' | 'directory'; mode?: string };

function fact(short: ShortFact | undefined): FileFact | undefined {
  if (!short) return undefined;
  const exists = short.exists ?? true;
  const base = { path: short.path, exists, parentExists: true, identity: IDENTITY } as FileFact;
  if (!exists) return base;
  const content = short.text === undefined ? undefined : Buffer.from(short.text).toString('base64');
  const size = short.text === undefined ? 4096 : Buffer.byteLength(short.text);
  return {
    ...base,
    type: short.type ?? 'file',
    mode: short.mode ?? '0600',
    owner: 'pi',
    group: 'pi',
    uid: 1000,
    gid: 1000,
    size,
    nlink: 1,
    inode: 1,
    mtime: TIME,
    atime: TIME,
    content,
  };
}

function state(module: string, c: Record<string, unknown>): unknown {
  if (module === 'authorized_key') {
    return { account: c.account, file: fact(c.file as ShortFact), dir: fact(c.dir as ShortFact) } satisfies AuthorizedKeyState;
  }
  return { ...c, file: fact(c.file as ShortFact) } satisfies CronState;
}

const modules: Record<string, AnyModuleDefinition> = { authorized_key: authorizedKey, cron };
const root = join(import.meta.dirname, 'fixtures');

for (const [name, module] of Object.entries(modules)) {
  describe(`${name} plans`, () => {
    for (const caseFile of readdirSync(join(root, name))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const c = JSON.parse(readFileSync(join(root, name, caseFile), 'utf8'));
      it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
        const plan: Plan = module.plan(state(name, c.current), completeArgs(module, c.args));
        expectPlan(plan, c);
      });
    }
  });
}

describe('authorized_key writes', () => {
  it('gives the keys file mode 0600 and the user as owner, and ~/.ssh 0700', () => {
    const plan = authorizedKey.plan(
      {
        account: { uid: 1000, gid: 1001, home: '/home/pi' },
        file: fact({ path: '/home/pi/.ssh/authorized_keys', exists: false }),
        dir: fact({ path: '/home/pi/.ssh', exists: false }),
      },
      completeArgs(authorizedKey, { user: 'pi', key: 'ssh-rsa AAAAB3x c' }),
    );
    const [dir, write] = plan.changes.map((c) => c.commands.map((x) => x.cmd.display).join('\n'));
    expect(dir).toContain('mkdir -m 0700 -- /home/pi/.ssh');
    expect(dir).toContain('chown -h -- 1000:1001 /home/pi/.ssh');
    expect(dir).toContain('chmod 0700 -- /home/pi/.ssh');
    expect(write).toContain('chown -- 1000:1001');
    expect(write).toMatch(/umask 0177|chmod -- 0600/);
    expect(plan.result).toMatchObject({ keyfile: '/home/pi/.ssh/authorized_keys', user: 'pi', exclusive: false, manage_dir: true });
  });
});
