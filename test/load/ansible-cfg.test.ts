// ansible.cfg: found and read as Ansible does, for the settings tsplay has.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPaths, configValue, findAnsibleConfig, parseAnsibleConfig } from '../../engine/load/ansible-cfg.js';
import { project, tsplay } from '../e2e/helpers.js';

describe('ansible.cfg', () => {
  it('parses sections, key = value and key: value, comments, inline ; comments and continuation lines', () => {
    const cfg = parseAnsibleConfig(
      '# top\n[defaults]\nforks = 7 ; seven\nRemote_User: pi\nroles_path = a\n  b\n;x\n[ssh_connection]\nssh_common_args=-o X=1\n',
    );
    expect(cfg.sections.get('defaults')?.get('forks')).toBe('7');
    expect(cfg.sections.get('defaults')?.get('remote_user')).toBe('pi');
    expect(cfg.sections.get('defaults')?.get('roles_path')).toBe('a\nb');
    expect(cfg.sections.get('ssh_connection')?.get('ssh_common_args')).toBe('-o X=1');
  });

  it('refuses a setting before any section, with the line', () => {
    expect(() => parseAnsibleConfig('forks = 3\n', '/x/ansible.cfg')).toThrow(/before any \[section\]/);
  });

  it('the environment wins over the file; path lists are relative to the file and expand ~', () => {
    const cfg = parseAnsibleConfig('[defaults]\nforks = 7\nroles_path = roles:~/more:/abs\n', '/p/ansible.cfg');
    expect(configValue(cfg, {}, 'defaults', 'forks', 'ANSIBLE_FORKS')).toBe('7');
    expect(configValue(cfg, { ANSIBLE_FORKS: '3' }, 'defaults', 'forks', 'ANSIBLE_FORKS')).toBe('3');
    const paths = configPaths(cfg, {}, '/cwd', 'defaults', 'roles_path', 'ANSIBLE_ROLES_PATH')!;
    expect(paths[0]).toBe('/p/roles');
    expect(paths[1]).toMatch(/\/more$/);
    expect(paths[1]).not.toContain('~');
    expect(paths[2]).toBe('/abs');
    expect(configPaths(cfg, { ANSIBLE_ROLES_PATH: 'r1' }, '/cwd', 'defaults', 'roles_path', 'ANSIBLE_ROLES_PATH')).toEqual(['/cwd/r1']);
  });

  it('is found through ANSIBLE_CONFIG (a file or a directory), then ./ansible.cfg unless the directory is world-writable', () => {
    const dir = project({ 'ansible.cfg': '[defaults]\n', 'other/ansible.cfg': '[defaults]\n' });
    expect(findAnsibleConfig({ ANSIBLE_CONFIG: 'other' }, dir)).toBe(join(dir, 'other/ansible.cfg'));
    expect(findAnsibleConfig({}, dir)).toBe(join(dir, 'ansible.cfg'));
    chmodSync(dir, 0o777);
    expect(findAnsibleConfig({ HOME: '/nonexistent' }, dir)).not.toBe(join(dir, 'ansible.cfg'));
    chmodSync(dir, 0o755);
  });

  it('a run takes the inventory and remote_user from ansible.cfg when no option gives them', async () => {
    const dir = project({
      'ansible.cfg': '[defaults]\ninventory = inv/hosts\nremote_user = someone\nforks = 2\n',
      'inv/hosts': 'h ansible_connection=local\n',
      'site.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ ansible_forks }} {{ inventory_hostname }}"\n',
    });
    const r = await tsplay(dir, ['run', 'site.yml'], { ANSIBLE_CONFIG: '' });
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('"msg": "2 h"');
    const f = await tsplay(dir, ['run', 'site.yml', '-f', '4']);
    expect(f.out).toContain('"msg": "4 h"');
  });
});
