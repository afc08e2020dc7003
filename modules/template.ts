// template: render a controller-side template (.j2 with Jinja2 semantics, .ejs with ejs) with the
// task's variables, then write it as copy does: atomically, only when the content differs.
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import { defineModule, filesFact, formatMode, readVaultFile, type ModuleContext, type TemplateOptions } from '../engine/index.js';
import { applyWrite, destProbes, planWrite, writeProperties, type CopyState, type WriteArgs } from './copy.js';

/** template's arguments, complete after validation. */
export interface TemplateArgs extends WriteArgs, TemplateOptions {
  src: string;
  unsafe_writes: boolean;
  output_encoding: string;
}

const J2_KEYS = [
  'trim_blocks',
  'lstrip_blocks',
  'newline_sequence',
  'block_start_string',
  'block_end_string',
  'variable_start_string',
  'variable_end_string',
  'comment_start_string',
  'comment_end_string',
] as const;

// Python's names for the encodings Node can write (Ansible's output_encoding default is utf-8)
const ENCODINGS: Record<string, BufferEncoding> = {
  'utf-8': 'utf8',
  utf8: 'utf8',
  'latin-1': 'latin1',
  latin1: 'latin1',
  'iso-8859-1': 'latin1',
  ascii: 'ascii',
  'utf-16-le': 'utf16le',
  'utf-16le': 'utf16le',
};

// Rendering happens on the controller during gather (it reads, never writes): the plan then
// compares the rendered text with what the host has.
async function gatherTemplate(ctx: ModuleContext, args: TemplateArgs): Promise<CopyState> {
  const path = ctx.findFile('templates', args.src);
  const j2 = Object.fromEntries(J2_KEYS.filter((k) => args[k] !== undefined).map((k) => [k, args[k]])) as TemplateOptions;
  // as Ansible: '\r\n' written with backslashes means the characters
  if (j2.newline_sequence) j2.newline_sequence = j2.newline_sequence.replace(/\\r/g, '\r').replace(/\\n/g, '\n');
  const text = ctx.renderTemplate(path, undefined, j2);
  const encoding = ENCODINGS[args.output_encoding.toLowerCase()]!;
  const basename = posix.basename(args.src);
  const facts = await ctx.fact(filesFact, destProbes(args.dest, basename));
  // a vault-encrypted template (decrypted by renderTemplate) is a secret: no diff shows it
  const vaulted = readVaultFile(path) !== undefined;
  return {
    dest: facts[0]!,
    inDir: facts[1],
    source: {
      content: Buffer.from(text, encoding).toString('base64'),
      mode: formatMode(statSync(path).mode),
      basename,
      ...(vaulted ? { vaulted } : {}),
    },
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
      trim_blocks: { type: 'boolean', default: true, description: 'Remove the first newline after a block tag ({% ... %}).' },
      lstrip_blocks: { type: 'boolean', default: false, description: 'Strip spaces and tabs from the start of a line up to a block tag.' },
      newline_sequence: {
        type: 'string',
        enum: ['\n', '\r', '\r\n', '\\n', '\\r', '\\r\\n'],
        default: '\n',
        description:
          "The template's line breaks in the output: '\\n', '\\r' or '\\r\\n' (written with backslashes, as in YAML's single quotes, or as the characters).",
      },
      block_start_string: { type: 'string', default: '{%', description: 'Marks the start of a block.' },
      block_end_string: { type: 'string', default: '%}', description: 'Marks the end of a block.' },
      variable_start_string: { type: 'string', default: '{{', description: 'Marks the start of a print statement.' },
      variable_end_string: { type: 'string', default: '}}', description: 'Marks the end of a print statement.' },
      comment_start_string: { type: 'string', description: 'Marks the start of a comment ({# by default).' },
      comment_end_string: { type: 'string', description: 'Marks the end of a comment (#} by default).' },
      output_encoding: { type: 'string', enum: Object.keys(ENCODINGS), default: 'utf-8', description: 'The encoding of the written file.' },
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
