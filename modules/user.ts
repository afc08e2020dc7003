// user: a local user account present (uid, groups, comment, home, shell, password hash, lock,
// expiry) or absent, as ansible.builtin.user does it on Linux with useradd, usermod, userdel and
// chpasswd -e. The gather reads the account (passwd, shadow), every group and whether the home
// exists in one round trip; a change runs its commands and reads the account again in one more.
import {
  defineModule,
  joinCommands,
  noop,
  planFailure,
  probeAll,
  Secret,
  sh,
  type Change,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** user's arguments, complete after validation. */
export interface UserArgs {
  name: string;
  uid?: number;
  group?: string;
  groups?: string[];
  append: boolean;
  comment?: string;
  home?: string;
  create_home: boolean;
  move_home: boolean;
  skeleton?: string;
  shell?: string;
  system: boolean;
  state: 'present' | 'absent';
  remove: boolean;
  force: boolean;
  password?: string;
  update_password: 'always' | 'on_create';
  password_lock?: boolean;
  password_expire_min?: number;
  password_expire_max?: number;
  expires?: number;
  non_unique: boolean;
  local: boolean;
  umask?: string;
  generate_ssh_key: boolean;
  ssh_key_bits?: number;
  ssh_key_comment?: string;
  ssh_key_file?: string;
  ssh_key_passphrase?: string;
  ssh_key_type: string;
  login_class?: string;
  hidden?: boolean;
  authorization?: string;
  profile?: string;
  role?: string;
}

/** One line of getent passwd. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

/** The fields of getent shadow the module compares. */
export interface ShadowEntry {
  /** The hash ('!' prefixed when locked; '!' or '*' alone when there is none). */
  password: string;
  /** Days since the epoch the account expires; -1 when never. */
  expire: number;
  min: number;
  max: number;
}

/** One group as getent group lists it. */
export interface GroupLine {
  name: string;
  gid: number;
  members: string[];
}

/** What the gather found. */
export interface UserState {
  passwd?: PasswdEntry;
  /** Undefined when the account has none or it cannot be read (not root). */
  shadow?: ShadowEntry;
  groups: GroupLine[];
  /** The home the task ends with (`home`, else the account's) exists. */
  homeExists: boolean;
  /** UMASK of /etc/login.defs (octal text), for a home made for an existing account. */
  loginUmask?: string;
}

/** Parse one `name:x:uid:gid:gecos:home:shell` line. */
export function parsePasswdLine(line: string | undefined): PasswdEntry | undefined {
  const f = (line ?? '').replace(/\n$/, '').split(':');
  if (f.length < 7 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), comment: f[4]!, home: f[5]!, shell: f.slice(6).join(':') };
}

/** Parse one `name:hash:lastchg:min:max:warn:inactive:expire:` line. */
export function parseShadowLine(line: string | undefined): ShadowEntry | undefined {
  const f = (line ?? '').replace(/\n$/, '').split(':');
  if (f.length < 8) return undefined;
  const num = (s: string | undefined) => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : -1);
  return { password: f[1]!, min: num(f[3]), max: num(f[4]), expire: num(f[7]) };
}

/** Parse getent group's lines. */
export function parseGroupLines(text: string): GroupLine[] {
  const out: GroupLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

// A group by name, or by gid when the text is a number (Ansible tries the gid first).
function findGroup(groups: GroupLine[], g: string): GroupLine | undefined {
  if (/^\d+$/.test(g)) {
    const byGid = groups.find((x) => x.gid === Number(g));
    if (byGid) return byGid;
  }
  return groups.find((x) => x.name === g);
}

// The date usermod/useradd -e take, of seconds since the epoch (UTC).
function expiryDate(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 10);
}

const MASKED = 'NOT_LOGGING_PASSWORD';

/** The result keys of an existing account (as it is, before the change in a check run). */
function presentResult(p: PasswdEntry, args: UserArgs): Record<string, unknown> {
  return {
    name: args.name,
    uid: p.uid,
    group: p.gid,
    comment: p.comment,
    home: p.home,
    shell: p.shell,
    state: 'present',
    ...(args.groups !== undefined ? { groups: args.groups.join(',') } : {}),
    ...(args.password !== undefined ? { password: MASKED } : {}),
  };
}

// `printf name:hash | chpasswd -e`: the hash never becomes a program's argument, and is masked.
function setPassword(name: string, hash: string): ShellCommand {
  return sh`printf '%s:%s\\n' ${name} ${new Secret(hash)} | chpasswd -e`;
}

function homeCommand(home: string, name: string, skeleton: string, umask: string | undefined): ShellCommand {
  const mode = (0o777 & ~parseInt(umask ?? '022', 8)).toString(8).padStart(4, '0');
  return sh`mkdir -p -- "$(dirname -- ${home})" && { if [ -d ${skeleton} ]; then cp -RP -- ${skeleton} ${home}; else mkdir -- ${home}; fi; } && chmod ${mode} -- ${home} && chown -R -- ${name}: ${home}`;
}

function missingGroup(cur: UserState, args: UserArgs): string | undefined {
  return [...(args.group !== undefined ? [args.group] : []), ...(args.groups ?? [])].find((g) => !findGroup(cur.groups, g));
}

/** Refusals that do not depend on the host. */
function unsupported(args: UserArgs): string | undefined {
  if (args.local) return 'local: true (luseradd and friends) is not supported by tsplay; without it, useradd manages the local /etc/passwd';
  if (args.generate_ssh_key) return 'generate_ssh_key is not supported by tsplay yet: run ssh-keygen with become_user, guarded by creates:';
  if (args.non_unique && args.uid === undefined) return 'non_unique needs uid';
  return undefined;
}

/** The plan of user: pure. */
export function planUser(cur: UserState, args: UserArgs): Plan {
  const refused = unsupported(args);
  if (refused) return planFailure(refused);
  const p = cur.passwd;
  if (args.state === 'absent') {
    if (!p) return noop(`user ${args.name} is absent`, { name: args.name, state: 'absent' });
    const flags = [...(args.force ? ['-f'] : []), ...(args.remove ? ['-r'] : [])];
    // Ansible's check-mode result of a removal says only changed
    return {
      changes: [
        {
          summary: `remove user ${args.name}${args.remove ? ' and its home' : ''}`,
          commands: [{ cmd: sh`userdel ${flags} -- ${args.name}` }],
        },
      ],
    };
  }
  // a new account's groups are checked when it is created, so check mode says changed (Ansible's
  // check run does not look at them: an earlier task of the run may create them)
  const missing = missingGroup(cur, args);
  if (missing !== undefined && p) return planFailure(`Group ${missing} does not exist`);
  const lockedHash = (h: string) => (args.password_lock ? `!${h}` : h);

  if (!p) {
    const w: (string | number)[] = [];
    if (args.uid !== undefined) w.push('-u', args.uid, ...(args.non_unique ? ['-o'] : []));
    if (args.group !== undefined) w.push('-g', args.group);
    else if (cur.groups.some((g) => g.name === args.name)) w.push('-N');
    if (args.groups?.length) w.push('-G', args.groups.join(','));
    if (args.comment !== undefined) w.push('-c', args.comment);
    if (args.home !== undefined) w.push('-d', args.home);
    if (args.shell !== undefined) w.push('-s', args.shell);
    if (args.expires !== undefined) w.push('-e', args.expires < 0 ? '' : expiryDate(args.expires));
    if (args.create_home) {
      w.push('-m');
      if (args.skeleton !== undefined) w.push('-k', args.skeleton);
      if (args.umask !== undefined) w.push('-K', `UMASK=${args.umask}`);
    } else w.push('-M');
    if (args.system) w.push('-r');
    const commands = [{ cmd: sh`useradd ${w} -- ${args.name}` }];
    if (args.password !== undefined) commands.push({ cmd: setPassword(args.name, lockedHash(args.password)) });
    const expire = expireWords(args, undefined);
    if (expire.length) commands.push({ cmd: sh`chage ${expire} -- ${args.name}` });
    // Ansible's check-mode result of a creation says only changed
    return { changes: [{ summary: `add user ${args.name}${args.system ? ' (system)' : ''}`, commands }] };
  }

  const result = { ...presentResult(p, args), append: args.append, move_home: args.move_home };
  const w: (string | number)[] = [];
  const what: string[] = [];
  if (args.uid !== undefined && args.uid !== p.uid) {
    w.push('-u', args.uid, ...(args.non_unique ? ['-o'] : []));
    what.push(`uid ${p.uid} -> ${args.uid}`);
  }
  if (args.group !== undefined) {
    const g = findGroup(cur.groups, args.group)!;
    if (g.gid !== p.gid) {
      w.push('-g', g.gid);
      what.push(`group ${p.gid} -> ${g.gid}`);
    }
  }
  if (args.groups !== undefined) {
    const current = cur.groups.filter((g) => g.members.includes(args.name)).map((g) => g.name);
    const wanted = [...new Set(args.groups)];
    const diff = [...current.filter((g) => !wanted.includes(g)), ...wanted.filter((g) => !current.includes(g))];
    if (wanted.length === 0) {
      if (current.length && !args.append) {
        w.push('-G', '');
        what.push(`groups ${current.join(',')} -> none`);
      }
    } else if (args.append ? wanted.some((g) => diff.includes(g)) : diff.length > 0) {
      w.push(...(args.append ? ['-a'] : []), '-G', wanted.join(','));
      what.push(
        args.append
          ? `add to ${wanted.filter((g) => !current.includes(g)).join(',')}`
          : `groups ${current.join(',') || 'none'} -> ${wanted.join(',')}`,
      );
    }
  }
  if (args.comment !== undefined && args.comment !== p.comment) {
    w.push('-c', args.comment);
    what.push('comment');
  }
  const homeChanges = args.home !== undefined && args.home !== p.home;
  if (homeChanges) {
    w.push('-d', args.home!, ...(args.move_home ? ['-m'] : []));
    what.push(`home ${p.home} -> ${args.home}${args.move_home ? ' (moved)' : ''}`);
  }
  if (args.shell !== undefined && args.shell !== p.shell) {
    w.push('-s', args.shell);
    what.push(`shell ${p.shell} -> ${args.shell}`);
  }
  if (args.expires !== undefined) {
    const current = cur.shadow?.expire ?? -1;
    if (args.expires < 0) {
      if (current >= 0) {
        w.push('-e', '');
        what.push('no expiry');
      }
    } else if (current < 0 || expiryDate(current * 86400) !== expiryDate(args.expires)) {
      w.push('-e', expiryDate(args.expires));
      what.push(`expires ${expiryDate(args.expires)}`);
    }
  }
  const hash = cur.shadow?.password ?? '';
  const setHash =
    args.update_password === 'always' && args.password !== undefined && hash.replace(/^!+/, '') !== args.password.replace(/^!+/, '');
  if (!setHash) {
    if (args.password_lock === true && !hash.startsWith('!')) {
      w.push('-L');
      what.push('lock the password');
    } else if (args.password_lock === false && hash.startsWith('!')) {
      w.push('-U');
      what.push('unlock the password');
    }
  }
  const commands: { cmd: ShellCommand }[] = [];
  if (w.length) commands.push({ cmd: sh`usermod ${w} -- ${args.name}` });
  if (setHash) {
    commands.push({ cmd: setPassword(args.name, lockedHash(args.password!)) });
    what.push('password');
  }
  const expire = expireWords(args, cur.shadow);
  if (expire.length) {
    commands.push({ cmd: sh`chage ${expire} -- ${args.name}` });
    what.push('password age');
  }
  const home = args.home ?? p.home;
  if (args.create_home && !cur.homeExists && !(homeChanges && args.move_home)) {
    commands.push({ cmd: homeCommand(home, args.name, args.skeleton ?? '/etc/skel', cur.loginUmask) });
    what.push(`create the home ${home}`);
  }
  if (!commands.length) return noop(`user ${args.name} is as asked`, result);
  return { changes: [{ summary: `change user ${args.name}: ${what.join(', ')}`, commands }], result };
}

// chage -m/-M words for password_expire_min/max that differ (none when the shadow entry agrees).
function expireWords(args: UserArgs, shadow: ShadowEntry | undefined): (string | number)[] {
  const w: (string | number)[] = [];
  if (args.password_expire_min !== undefined && shadow?.min !== args.password_expire_min) w.push('-m', args.password_expire_min);
  if (args.password_expire_max !== undefined && shadow?.max !== args.password_expire_max) w.push('-M', args.password_expire_max);
  return w;
}

const M = '__tsplay_user__';

export default defineModule<UserArgs, UserState>({
  name: 'user',
  aliases: ['ansible.builtin.user'],
  description:
    "Manage a local user account as Ansible's user module does on Linux: present (useradd, then usermod for uid, primary group, groups (append), comment, home (move_home), shell, expiry, password lock), a password given as a crypt hash (chpasswd -e; update_password always/on_create), password age (chage), or absent (userdel, remove, force). A missing home is created when create_home. SSH key generation and local: true are refused.",
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', aliases: ['user'], description: 'The account name.' },
      uid: { type: 'integer', description: 'The UID it must have.' },
      group: { type: 'string', description: 'The primary group (a name or a GID).' },
      groups: { type: 'array', items: { type: 'string' }, description: "Supplementary groups; '' or [] removes them all (unless append)." },
      append: { type: 'boolean', default: false, description: 'Add to `groups` and leave the other groups alone.' },
      comment: { type: 'string', description: 'The GECOS field.' },
      home: { type: 'string', description: 'The home directory.' },
      create_home: {
        type: 'boolean',
        default: true,
        aliases: ['createhome'],
        description: 'Make the home when the account is created, or when it is missing.',
      },
      move_home: { type: 'boolean', default: false, description: 'With a new home: move the old one there (usermod -m).' },
      skeleton: { type: 'string', description: 'The skeleton directory of a new home (default /etc/skel).' },
      shell: { type: 'string', description: 'The login shell.' },
      system: { type: 'boolean', default: false, description: 'Create a system account (only when it is created).' },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'present or absent.' },
      remove: { type: 'boolean', default: false, description: 'With state=absent: remove the home and mail spool (userdel -r).' },
      force: { type: 'boolean', default: false, description: 'With state=absent: userdel -f.' },
      password: { type: 'string', description: "The password as a crypt hash (password_hash('sha512')); '!' or '*' for none." },
      update_password: {
        type: 'string',
        enum: ['always', 'on_create'],
        default: 'always',
        description: 'always: set it when it differs; on_create: only for a new account.',
      },
      password_lock: { type: 'boolean', description: 'true locks the password (usermod -L), false unlocks it; unset leaves it.' },
      password_expire_min: { type: 'integer', description: 'Minimum days between password changes (chage -m).' },
      password_expire_max: { type: 'integer', description: 'Maximum days a password is valid (chage -M).' },
      expires: { type: 'number', description: 'When the account expires, seconds since the epoch; negative: never.' },
      non_unique: { type: 'boolean', default: false, description: 'Allow a UID that another account has (-o); needs uid.' },
      local: { type: 'boolean', default: false, description: 'luseradd and friends: not supported by tsplay (refused).' },
      umask: { type: 'string', description: 'The umask of a new home (useradd -K UMASK=).' },
      generate_ssh_key: { type: 'boolean', default: false, description: 'Not supported by tsplay yet (refused).' },
      ssh_key_bits: { type: 'integer', description: 'With generate_ssh_key (not supported).' },
      ssh_key_comment: { type: 'string', description: 'With generate_ssh_key (not supported).' },
      ssh_key_file: { type: 'string', description: 'With generate_ssh_key (not supported).' },
      ssh_key_passphrase: { type: 'string', description: 'With generate_ssh_key (not supported).' },
      ssh_key_type: { type: 'string', default: 'rsa', description: 'With generate_ssh_key (not supported).' },
      login_class: { type: 'string', description: 'BSD only: ignored on Linux, as in Ansible.' },
      hidden: { type: 'boolean', description: 'macOS only: ignored, as in Ansible.' },
      authorization: { type: 'string', description: 'Solaris only: ignored, as in Ansible.' },
      profile: { type: 'string', description: 'Solaris only: ignored, as in Ansible.' },
      role: { type: 'string', description: 'Solaris only: ignored, as in Ansible.' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  examples: `- name: The cluster's admin, in the sudo group, with a password hash
  user:
    name: admin
    comment: Cluster admin
    shell: /bin/bash
    groups: [sudo]
    append: yes
    password: "{{ admin_password | password_hash('sha512') }}"

- name: Remove the image's default account and its home
  user:
    name: pi
    state: absent
    remove: yes`,
  async gather(ctx, args) {
    const home = args.home !== undefined ? sh`h=${args.home}` : sh`h=$(getent passwd -- ${args.name} | cut -d: -f6)`;
    const r = await probeAll(ctx, {
      passwd: sh`getent passwd -- ${args.name}`,
      shadow: sh`getent shadow -- ${args.name}`,
      groups: sh`getent group`,
      home: sh`${home}; [ -n "$h" ] && [ -e "$h" ]`,
      umask: sh`grep -E '^UMASK[[:space:]]' /etc/login.defs`,
    });
    const umask = /^UMASK\s+([0-7]+)\s*$/m.exec(r.umask?.out ?? '')?.[1];
    return {
      passwd: r.passwd?.rc === 0 ? parsePasswdLine(r.passwd.out.split('\n')[0]) : undefined,
      shadow: r.shadow?.rc === 0 ? parseShadowLine(r.shadow.out.split('\n')[0]) : undefined,
      groups: parseGroupLines(r.groups?.out ?? ''),
      homeExists: r.home?.rc === 0,
      ...(umask !== undefined ? { loginUmask: umask } : {}),
    };
  },
  plan: planUser,
  async apply(ctx, changes: Change[], args, current) {
    const missing = current.passwd ? undefined : missingGroup(current, args);
    if (missing !== undefined) return { failed: `Group ${missing} does not exist` };
    const cmds = changes.flatMap((c) => c.commands.map((x) => x.cmd));
    const r = await ctx.run(sh`${joinCommands(cmds, ' && ')} && printf '\\n%s %s\\n' ${M} "$(getent passwd -- ${args.name})"`);
    const at = r.stdout.lastIndexOf(`\n${M} `);
    const stdout = at < 0 ? r.stdout : r.stdout.slice(0, at);
    const out: Record<string, unknown> = {};
    if (stdout !== '') Object.assign(out, { stdout, stdout_lines: stdout.replace(/\n$/, '').split('\n') });
    if (r.stderr !== '') Object.assign(out, { stderr: r.stderr, stderr_lines: r.stderr.replace(/\n$/, '').split('\n') });
    if (r.rc !== 0) return { failed: r.stderr || `${changes[0]!.summary}: rc=${r.rc}`, result: { ...out, name: args.name, rc: r.rc } };
    if (args.state === 'absent') return { result: { ...out, name: args.name, state: 'absent', force: args.force, remove: args.remove } };
    const p = at < 0 ? undefined : parsePasswdLine(r.stdout.slice(at + M.length + 2));
    if (!p) return { failed: `failed to look up user name: ${args.name}`, result: out };
    const extra = current.passwd
      ? { append: args.append, move_home: args.move_home }
      : { system: args.system, create_home: args.create_home };
    return { result: { ...out, ...presentResult(p, args), ...extra } };
  },
});
