// package: the generic package module, as ansible.builtin.package: it finds the host's package
// manager (use:, else the pkg_mgr fact, else a probe of the host) and hands every other argument
// to that manager's module. tsplay's hosts are Debian's family, so the manager is apt: this module
// is apt's gather, plan and apply under another name, and takes apt's arguments.
import { defineModule, planFailure, sh, type ModuleContext, type Plan } from '../engine/index.js';
import apt, { type AptArgs, type AptState } from './apt.js';

/** package's arguments: apt's, and which manager to use. */
export type PackageArgs = AptArgs & { use: string };

/** The manager found, and apt's state when it is apt. */
export interface PackageState {
  manager: string;
  apt?: AptState;
}

// The pkg_mgr fact, when facts were gathered (setup or gather_facts).
function factManager(ctx: ModuleContext): string | undefined {
  try {
    const facts = ctx.vars.ansible_facts as Record<string, unknown> | undefined;
    const m = facts?.pkg_mgr;
    return typeof m === 'string' && m !== 'unknown' ? m : undefined;
  } catch {
    return undefined;
  }
}

// apt's arguments only: arguments for other managers (enablerepo, ...) stay out of apt's hands.
function aptArgs(args: PackageArgs): AptArgs {
  return Object.fromEntries(Object.entries(args).filter(([k]) => k in aptProperties)) as AptArgs;
}

// Arguments no apt argument takes (given for another manager), sorted as Ansible lists them.
function otherManagersArgs(args: PackageArgs): string[] {
  return Object.keys(args)
    .filter((k) => k !== 'use' && !(k in aptProperties))
    .sort();
}

/** The plan of package: apt's plan, or a refusal when the manager is not apt. Pure. */
export function planPackage(state: PackageState, args: PackageArgs): Plan {
  if (state.manager === 'auto')
    return planFailure('Could not detect which package manager to use. Try gathering facts or setting the "use" option.');
  if (state.manager !== 'apt' || !state.apt)
    return planFailure(`Could not find a module for ${state.manager}: tsplay's package module delegates to apt only (use: auto or apt).`);
  // Ansible hands every argument to the manager's module, which refuses those it lacks, when run.
  const others = otherManagersArgs(args);
  if (others.length)
    return planFailure(
      `Unsupported parameters for (ansible.legacy.apt) module: ${others.join(', ')}. Supported parameters include: ${Object.keys(aptProperties).sort().join(', ')}.`,
    );
  return apt.plan(state.apt, aptArgs(args));
}

const { use: _aptHasNoUse, ...aptProperties } = apt.schema.properties as Record<string, unknown>;

export default defineModule<PackageArgs, PackageState>({
  name: 'package',
  aliases: ['ansible.builtin.package'],
  description:
    "Install, remove or upgrade packages with the host's package manager, as Ansible's generic package module: use: auto finds it (the pkg_mgr fact, else the host is asked). On tsplay's hosts (Debian, Raspberry Pi OS, Ubuntu) that is apt, so every apt argument works here too (update_cache, cache_valid_time, ...); arguments for other managers load but fail if the task runs.",
  schema: {
    type: 'object',
    properties: {
      ...aptProperties,
      use: { type: 'string', default: 'auto', description: 'The package manager module to use: auto (detect it) or apt.' },
    },
    mutuallyExclusive: (apt.schema as { mutuallyExclusive?: unknown }).mutuallyExclusive,
    // Arguments of other managers (enablerepo, disable_gpg_check, ...) load: roles give them in
    // tasks for other systems. Given to apt, they fail when the task runs, as in Ansible.
    additionalProperties: true,
  },
  examples: `- name: The tools every node needs
  package:
    name: [rsync, htop]
    state: present`,
  async gather(ctx, args) {
    let manager = args.use === 'auto' ? factManager(ctx) : args.use;
    if (manager === undefined) {
      // no facts: ask the host, as Ansible runs setup for ansible_pkg_mgr
      const r = await ctx.run(sh`command -v apt-get >/dev/null 2>&1 && echo apt || echo auto`);
      manager = r.stdout.trim() || 'auto';
    }
    return manager === 'apt' ? { manager, apt: await apt.gather(ctx, aptArgs(args)) } : { manager };
  },
  plan: planPackage,
  async apply(ctx, changes, args, current) {
    return apt.apply!(ctx, changes, aptArgs(args), current.apt!);
  },
});
