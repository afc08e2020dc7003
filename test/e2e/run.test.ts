import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, recap, tsplay } from './helpers.js';

const inventory = `[local]\nlocalhost ansible_connection=local\n`;

describe('tsplay run (local connection)', () => {
  it('runs a playbook, prints Ansible lines and recap, exit 0', async () => {
    const dir = project({
      hosts: inventory,
      'site.yml': `
- name: Hello
  hosts: all
  gather_facts: false
  vars:
    who: world
  tasks:
    - name: say hello
      debug:
        msg: "hello {{ who }}"
    - name: run a command
      command: echo hi
      register: out
    - name: show it
      debug:
        var: out.stdout
    - name: skipped
      debug: msg=never
      when: who == 'nobody'
`,
    });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('PLAY [Hello] ****');
    expect(r.out).toContain('TASK [say hello] ****');
    expect(r.out).toContain('ok: [localhost] => {\n    "msg": "hello world"\n}');
    expect(r.out).toContain('changed: [localhost]');
    expect(r.out).toContain('ok: [localhost] => {\n    "out.stdout": "hi"\n}');
    expect(r.out).toContain('skipping: [localhost]');
    expect(recap(r.out, 'localhost')).toEqual({ ok: 3, changed: 1, unreachable: 0, failed: 0, skipped: 1, rescued: 0, ignored: 0 });
  });

  it("fails a host with exit code 2 and Ansible's fatal line", async () => {
    const dir = project({
      hosts: inventory,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - command: /bin/false
    - debug: msg=not reached
`,
    });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/fatal: \[localhost\]: FAILED! => \{.*"msg": "non-zero return code".*"rc": 1/);
    expect(r.out).not.toContain('not reached');
    expect(recap(r.out, 'localhost')).toMatchObject({ ok: 0, failed: 1 });
  });

  it('writes files, then changes nothing the second time, and --check writes nothing', async () => {
    const dir = project({
      hosts: inventory,
      'templates/dnsmasq.conf.j2': `interface={{ iface }}\n{% for n in nodes %}\ndhcp-host={{ n.mac }},{{ n.name }},{{ n.ip }}\n{% endfor %}\n`,
      'site.yml': `
- hosts: all
  gather_facts: false
  vars:
    iface: eth0
    nodes:
      - { name: node1, mac: "aa:bb:cc:00:00:01", ip: 10.0.0.11 }
      - { name: node2, mac: "aa:bb:cc:00:00:02", ip: 10.0.0.12 }
  tasks:
    - name: config dir
      file: path={{ playbook_dir }}/etc state=directory mode=0755
    - name: dnsmasq config
      template:
        src: dnsmasq.conf.j2
        dest: "{{ playbook_dir }}/etc/dnsmasq.conf"
        mode: "0644"
      notify: restart dnsmasq
    - name: forwarding
      lineinfile:
        path: "{{ playbook_dir }}/etc/sysctl.conf"
        regexp: '^#?net.ipv4.ip_forward='
        line: net.ipv4.ip_forward=1
        create: true
    - name: copy
      copy:
        content: "hello\\n"
        dest: "{{ playbook_dir }}/etc/motd"
  handlers:
    - name: restart dnsmasq
      command: echo restarted
`,
    });
    const check = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--check', '--diff']);
    expect(check.code).toBe(0);
    expect(existsSync(join(dir, 'etc'))).toBe(false);
    expect(recap(check.out, 'localhost').changed).toBeGreaterThanOrEqual(1);

    const first = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--diff']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(readFileSync(join(dir, 'etc/dnsmasq.conf'), 'utf8')).toBe(
      'interface=eth0\ndhcp-host=aa:bb:cc:00:00:01,node1,10.0.0.11\ndhcp-host=aa:bb:cc:00:00:02,node2,10.0.0.12\n',
    );
    expect(statSync(join(dir, 'etc/dnsmasq.conf')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(dir, 'etc/sysctl.conf'), 'utf8')).toBe('net.ipv4.ip_forward=1\n');
    expect(first.out).toContain('RUNNING HANDLER [restart dnsmasq]');
    expect(first.out).toContain('+dhcp-host=aa:bb:cc:00:00:01,node1,10.0.0.11');
    expect(recap(first.out, 'localhost')).toMatchObject({ changed: 5, failed: 0 });

    const second = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(second.code).toBe(0);
    expect(recap(second.out, 'localhost')).toMatchObject({ changed: 0, failed: 0 });
    expect(second.out).not.toContain('RUNNING HANDLER');
  });
});
