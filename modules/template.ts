// template: render a controller-side template (.j2 with Jinja2 semantics, .ejs with ejs) with the
// task's variables, then write it as copy does: atomically, only when the content differs.
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import { defineModule, type ModuleContext } from '../engine/index.js';
import { formatMode } from '../engine/files.js';
import { readVaultFile } from '../engine/load/vault.js';
import { applyWrite, destProbes, planWrite, writeProperties, type CopyState, type WriteArgs } from './copy.js';
import { filesFact } from './facts/file.js';

/** template's arguments, complete after validation. */
export interface TemplateArgs extends WriteArgs {
  src: string;
  unsafe_writes: boolean;
}

// Rendering happens on the controller during gather (it reads, never writes): the plan then
// compares the rendered text with what the host has.
async function gatherTemplate(ctx: ModuleContext, args: TemplateArgs): Promise<CopyState> {
  const path = ctx.findFile('templates', args.src);
  const text = ctx.renderTemplate(path);
  const basename = posix.basename(args.src);
  const facts = await ctx.fact(filesFact, destProbes(args.dest, basename));
  // a vault-encrypted template (decrypted by renderTemplate) is a secret: no diff shows it
  const vaulted = readVaultFile(path) !== undefined;
  return {
    dest: facts[0]!,
    inDir: facts[1],
    source: { content: Buffer.from(text, 'utf8').toString('base64'), mode: formatMode(statSync(path).mode), basename, ...(vaulted ? { vaulted } : {}) },
  };
}

export default defineModule<TemplateArgs, CopyState>({
  name: 'template',
  aliases: ['ansible.builtin.template'],
  description:
    'Render a template from the controller (src, looked up in templates/; .j2 files with Jinja2 semantics, .ejs with ejs) with the task variables and write the result to dest on the host, atomically and only when it differs; optionally validated and backed up. Mode, owner and group are set either way.',
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', description: 'Template file on the controller (searched in templates/).' },
      ...writeProperties,
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  examples: `- name: Configure dnsmasq
  template:
    src: dnsmasq.conf.j2
    dest: /etc/dnsmasq.conf
    owner: root
    group: root
    mode: '0644'
    validate: dnsmasq --test -C %s
  notify: restart dnsmasq`,
  gather: gatherTemplate,
  plan: (state, args) => planWrite(state, args, { inline: false }),
  apply: (ctx, changes) => applyWrite(ctx, changes),
});
