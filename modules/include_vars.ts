// include_vars: load variables from YAML/JSON files on the controller into the host's variables.
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { defineModule, noop, planFailure } from '../engine/index.js';

interface Args {
  file?: string;
  dir?: string;
  name?: string;
  depth: number;
  files_matching?: string;
  ignore_files: string[];
  extensions: string[];
  ignore_unknown_extensions: boolean;
  hash_behaviour?: string;
}

type State = { vars: Record<string, unknown>; files: string[] } | { error: string };

// Ansible's walk: a directory's files in name order, then its subdirectories in name order
function walk(dir: string, depth: number, level = 1): string[] {
  const entries = readdirSync(dir).sort();
  const files: string[] = [];
  const dirs: string[] = [];
  for (const e of entries) {
    const p = join(dir, e);
    (statSync(p).isDirectory() ? dirs : files).push(p);
  }
  if (depth === 0 || level < depth) for (const d of dirs) files.push(...walk(d, depth, level + 1));
  return files;
}

export default defineModule<Args, State>({
  name: 'include_vars',
  aliases: ['ansible.builtin.include_vars'],
  description:
    "Load variables from a YAML/JSON file or a directory of them (on the controller) into the host's variables, optionally under one name.",
  freeForm: 'file',
  schema: {
    type: 'object',
    properties: {
      file: { type: 'string', description: 'The vars file (in vars/ of the role or beside the playbook first).' },
      dir: { type: 'string', description: 'A directory of vars files, read in name order.' },
      name: { type: 'string', description: 'Put the variables under this one variable instead.' },
      depth: { type: 'integer', default: 0, description: 'How deep to read dir (0: all the way).' },
      files_matching: { type: 'string', description: 'Only files whose name matches this regular expression.' },
      ignore_files: { type: 'array', items: { type: 'string' }, default: [], description: 'File names to leave out.' },
      extensions: {
        type: 'array',
        items: { type: 'string' },
        default: ['json', 'yaml', 'yml'],
        description: 'Extensions of the files read from dir.',
      },
      ignore_unknown_extensions: { type: 'boolean', default: false, description: 'Skip other files in dir instead of failing.' },
      hash_behaviour: { type: 'string', enum: ['replace'], description: 'Only replace (the default) is supported.' },
    },
    additionalProperties: false,
  },
  examples: `- include_vars: "{{ ansible_distribution }}.yml"
- include_vars:
    dir: vars/cluster
    name: cluster`,
  async gather(ctx, args) {
    if ((args.file === undefined) === (args.dir === undefined))
      return { error: args.file === undefined ? 'one of file or dir is required' : 'file and dir are mutually exclusive' };
    let files: string[];
    if (args.file !== undefined) files = [ctx.findFile('vars', args.file)];
    else {
      const dir = ctx.findFile('vars', args.dir!);
      if (!statSync(dir).isDirectory()) return { error: `${args.dir} directory does not exist` };
      const matching = args.files_matching ? new RegExp(args.files_matching) : undefined;
      files = [];
      for (const f of walk(dir, args.depth)) {
        const base = f.slice(f.lastIndexOf('/') + 1);
        if (args.ignore_files.includes(base) || (matching && !matching.test(base))) continue;
        if (!args.extensions.includes(extname(f).slice(1))) {
          if (args.ignore_unknown_extensions) continue;
          return { error: `${f} does not have a valid extension: ${args.extensions.join(', ')}` };
        }
        files.push(f);
      }
    }
    const vars: Record<string, unknown> = {};
    for (const f of files) Object.assign(vars, ctx.readVars(f));
    return { vars, files };
  },
  plan(state, args) {
    if ('error' in state) return planFailure(state.error);
    const facts = args.name !== undefined ? { [args.name]: state.vars } : state.vars;
    return noop(`${state.files.length} vars file(s) read`, { ansible_facts: facts, ansible_included_var_files: state.files });
  },
});
