import { describe, expect, it } from 'vitest';
import { checkArgs } from '../../engine/load/args.js';
import { defineModule, noop } from '../../engine/index.js';

const lineinfileLike = defineModule<Record<string, unknown>, null>({
  name: 'lineinfile',
  description: 'test',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', aliases: ['dest', 'destfile', 'name'] },
      line: { type: 'string', aliases: ['value'] },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present' },
      backup: { type: 'boolean', default: false },
      port: { type: 'integer' },
      names: { type: 'array', items: { type: 'string' } },
      mode: { type: 'string' },
    },
    required: ['path'],
    additionalProperties: false,
  },
  gather: async () => null,
  plan: () => noop('x'),
});

describe('checkArgs', () => {
  it('renames aliases, fills defaults', () => {
    const r = checkArgs(lineinfileLike, { dest: '/etc/hosts', value: 'x' });
    expect(r).toEqual({ ok: true, args: { path: '/etc/hosts', line: 'x', state: 'present', backup: false } });
  });
  it('rejects unknown parameters with the Ansible message shape', () => {
    const r = checkArgs(lineinfileLike, { pth: '/etc/hosts' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toBe(
      'Unsupported parameters for (lineinfile) module: pth. Supported parameters include: backup, line (value), mode, names, path (dest, destfile, name), port, state.',
    );
  });
  it('reports missing required arguments', () => {
    const r = checkArgs(lineinfileLike, { line: 'x' });
    expect(!r.ok && r.message).toBe('missing required arguments: path');
  });
  it('reports bad choices like Ansible', () => {
    const r = checkArgs(lineinfileLike, { path: '/x', state: 'presnt' });
    expect(!r.ok && r.message).toBe('value of state must be one of: present, absent, got: presnt');
  });
  it("coerces Ansible's loose booleans and numbers", () => {
    const r = checkArgs(lineinfileLike, { path: '/x', backup: 'yes', port: '2222', mode: 420 });
    expect(r.ok && r.args).toMatchObject({ backup: true, port: 2222, mode: '420' });
    const off = checkArgs(lineinfileLike, { path: '/x', backup: 'off' });
    expect(off.ok && off.args.backup).toBe(false);
  });
  it('refuses a value that is not a boolean', () => {
    const r = checkArgs(lineinfileLike, { path: '/x', backup: 'maybe' });
    expect(!r.ok && r.message).toMatch(/^argument 'backup' is of type <class 'str'> and we were unable to convert to bool/);
  });
  it('refuses a non-numeric integer', () => {
    const r = checkArgs(lineinfileLike, { path: '/x', port: 'ssh' });
    expect(!r.ok && r.message).toMatch(/argument 'port' is of type str and we were unable to convert to int/);
  });
  it('turns a comma string into a list', () => {
    const r = checkArgs(lineinfileLike, { path: '/x', names: 'a, b' });
    expect(r.ok && r.args.names).toEqual(['a', 'b']);
  });
  it('treats a null value as not given', () => {
    const r = checkArgs(lineinfileLike, { path: '/x', line: null });
    expect(r.ok && 'line' in r.args).toBe(false);
  });
});
