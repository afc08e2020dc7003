// The system modules on booted hosts: apt (the lab's package from the lab's repository), systemd
// and service (a unit written with copy, reloaded, enabled, started, restarted by a handler),
// facts (every host's MAC addresses), replace and hostname, wait_for, and a reboot of the gateway
// in the middle of a play. Each playbook runs in check mode (nothing changes), for real, and again
// (nothing changes); the real state is read from inside the hosts (nsenter), not from tsplay.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';

const FILES: Record<string, string> = {
  'apt.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: the lab's apt repository
      copy:
        content: "{{ lab_apt_source }}\\n"
        dest: /etc/apt/sources.list.d/tsplay-lab.list
    - name: the lab's package
      apt:
        name: "{{ lab_apt_package }}"
        update_cache: true
      register: pkg
    - debug:
        msg: "installed=[{{ pkg.installed | join(',') }}]"
`,
  'apt-remove.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: the lab's package removed
      apt:
        name: "{{ lab_apt_package }}"
        state: absent
        purge: true
      register: pkg
    - debug:
        msg: "removed=[{{ pkg.removed | join(',') }}]"
`,
  'service.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: the unit
      copy:
        dest: /etc/systemd/system/tsplay-hello.service
        content: |
          [Unit]
          Description=tsplay lab test service
          [Service]
          ExecStart=/bin/sh -c 'exec sleep infinity'
          [Install]
          WantedBy=multi-user.target
      notify: restart hello
    - name: running and enabled
      systemd:
        name: tsplay-hello.service
        daemon_reload: true
        enabled: true
        state: started
      register: unit
    - service_facts:
    - debug:
        msg: "service_facts: {{ (ansible_facts.services['tsplay-hello.service'] | default({'state': 'none', 'status': 'none'})).values() | list | join(' ') }}"
    - name: its configuration
      copy:
        dest: /etc/tsplay-hello.conf
        content: "greeting={{ greeting | default('hello') }}\\n"
      notify: restart hello
    - debug:
        msg: "load_state={{ unit.status.LoadState }}"
  handlers:
    - name: restart hello
      service:
        name: tsplay-hello
        state: restarted
`,
  'facts.yml': `- hosts: all
  gather_facts: true
  tasks:
    - debug:
        msg: "mac {{ inventory_hostname }} {{ ansible_eth0.macaddress }} {{ ansible_facts['eth0']['macaddress'] }} {{ ansible_interfaces | sort | join(',') }} default={{ ansible_default_ipv4.interface | default('none') }}"
- hosts: gateway
  gather_facts: false
  become: true
  tasks:
    - setup:
        gather_subset: ['!all']
      register: minimal
    - debug:
        msg: "minimal has eth0: {{ 'eth0' in minimal.ansible_facts }}"
`,
  'edit.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - replace:
        path: /etc/tsplay-replace.conf
        regexp: '^server (\\S+) iburst$'
        replace: 'server 10.213.1.1 iburst # was \\1'
- hosts: node1
  become: true
  gather_facts: false
  tasks:
    - hostname:
        name: worker1
        use: systemd
`,
  'reboot.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - command: cat /proc/sys/kernel/random/boot_id
      register: before
      changed_when: false
      check_mode: false
    - reboot:
        reboot_timeout: 120
      register: rebooted
    - command: cat /proc/sys/kernel/random/boot_id
      register: after
      changed_when: false
      check_mode: false
    - wait_for:
        port: 22
        timeout: 30
    - wait_for_connection:
        timeout: 30
    - wait_for:
        path: /etc/hostname
        search_regex: 'gate(?P<rest>way)'
      register: found
    - debug:
        msg: "boot before={{ before.stdout }} after={{ after.stdout }} group={{ found.match_groupdict.rest }}"
`,
};

describe.skipIf(!enabled)('system modules on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  const timings: Record<string, number> = {};

  const sh = async (host: string, script: string) => (await labExec(host, ['sh', '-c', script])).stdout;
  const run = async (label: string, playbook: string, extra: string[] = []) => {
    const t = Date.now();
    const r = await tsplay(dir, ['run', playbook, '-i', lab.inventory, ...extra]);
    timings[label] = Date.now() - t;
    return r;
  };
  /** Check mode, the real run, the second run: recaps, for a playbook on one host. */
  const threeRuns = async (playbook: string, host: string) => {
    const check = await run(`${playbook} check`, playbook, ['--check']);
    expect(check.code, check.out + check.err).toBe(0);
    const first = await run(`${playbook} first`, playbook);
    expect(first.code, first.out + first.err).toBe(0);
    const second = await run(`${playbook} second`, playbook);
    expect(second.code, second.out + second.err).toBe(0);
    expect(recap(second.out, host).changed, second.out).toBe(0);
    return { check, first, second };
  };

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 1 }, () => {});
    dir = project(FILES);
    // what dhcp-setup will do, by hand: addresses on the cluster switch, so node1 can be reached
    await labExec('gateway', ['ip', 'addr', 'add', '10.213.1.1/24', 'dev', 'eth0']);
    await labExec('node1', ['ip', 'addr', 'add', '10.213.1.11/24', 'dev', 'eth0']);
    await labExec('gateway', [
      'sh',
      '-c',
      'printf "server a.example iburst\\nserver b.example iburst\\n# keep\\n" > /etc/tsplay-replace.conf',
    ]);
  }, 10 * 60_000);

  afterAll(async () => {
    process.stderr.write(`system-modules timings (ms): ${JSON.stringify(timings)}\n`);
    await labDown();
  }, 120_000);

  it('apt installs the lab package from the lab repository, once, and check mode installs nothing', async () => {
    const installed = () =>
      sh(
        'gateway',
        "dpkg-query -W -f '${db:Status-Abbrev}' tsplay-lab-hello 2>/dev/null; test -x /usr/bin/tsplay-lab-hello && echo ' bin'",
      );
    expect((await installed()).trim()).toBe('');
    const check = await run('apt check', 'apt.yml', ['--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed).toBe(2);
    expect((await installed()).trim()).toBe('');
    expect(await sh('gateway', 'ls /etc/apt/sources.list.d/')).toBe('');

    const first = await run('apt first', 'apt.yml');
    expect(first.code, first.out + first.err).toBe(0);
    expect(recap(first.out, 'gateway').changed).toBe(2);
    expect(first.out).toContain('installed=[tsplay-lab-hello]');
    expect(await installed()).toBe('ii  bin\n');
    expect((await labExec('gateway', ['tsplay-lab-hello'])).code).toBe(0);

    const second = await run('apt second', 'apt.yml');
    expect(second.code, second.out + second.err).toBe(0);
    expect(recap(second.out, 'gateway').changed).toBe(0);
    const check2 = await run('apt check after', 'apt.yml', ['--check']);
    expect(recap(check2.out, 'gateway').changed).toBe(0);
  }, 300_000);

  it('apt removes and purges it, once', async () => {
    const check = await run('apt-remove check', 'apt-remove.yml', ['--check']);
    expect(recap(check.out, 'gateway').changed).toBe(1);
    expect(check.out).toContain('removed=[tsplay-lab-hello]');
    expect(await sh('gateway', "dpkg-query -W -f '${db:Status-Abbrev}' tsplay-lab-hello")).toBe('ii ');
    const first = await run('apt-remove first', 'apt-remove.yml');
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out).toContain('removed=[tsplay-lab-hello]');
    expect(
      await sh(
        'gateway',
        "dpkg-query -W -f '${db:Status-Abbrev}' tsplay-lab-hello 2>/dev/null; test -e /usr/bin/tsplay-lab-hello && echo present",
      ),
    ).not.toMatch(/^i|present/);
    const second = await run('apt-remove second', 'apt-remove.yml');
    expect(recap(second.out, 'gateway').changed).toBe(0);
  }, 300_000);

  it('systemd: a unit written, reloaded, enabled, started, and restarted by a handler only when its configuration changes', async () => {
    const unit = async () =>
      (
        await sh(
          'gateway',
          'systemctl is-enabled tsplay-hello; systemctl is-active tsplay-hello; systemctl show -p MainPID --value tsplay-hello',
        )
      )
        .trim()
        .split('\n');
    // As in Ansible, check mode on a fresh host cannot restart a unit whose file was never written:
    // the handler fails with Ansible's message, and nothing on the host changed.
    const check = await run('service check', 'service.yml', ['--check']);
    expect(recap(check.out, 'gateway')).toMatchObject({ changed: 3, failed: 1 });
    expect(check.out).toMatch(/RUNNING HANDLER \[restart hello\][\s\S]*Could not find the requested service tsplay-hello: host/);
    expect(check.out).toContain('service_facts: none none');
    expect(await sh('gateway', 'ls /etc/systemd/system/tsplay-hello.service 2>&1; systemctl is-active tsplay-hello')).toMatch(
      /No such file[\s\S]*inactive/,
    );

    const first = await run('service first', 'service.yml');
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out).toMatch(/RUNNING HANDLER \[restart hello\]/);
    expect(first.out).toContain('load_state=loaded');
    expect(first.out).toContain('service_facts: tsplay-hello.service running enabled systemd');
    const [enabledState, active, pid] = await unit();
    expect([enabledState, active]).toEqual(['enabled', 'active']);
    expect(Number(pid)).toBeGreaterThan(0);

    const second = await run('service second', 'service.yml');
    expect(second.code, second.out + second.err).toBe(0);
    expect(recap(second.out, 'gateway').changed).toBe(0);
    expect(second.out).not.toMatch(/RUNNING HANDLER/);
    expect((await unit())[2]).toBe(pid);

    const check2 = await run('service check changed', 'service.yml', ['--check', '-e', 'greeting=hi']);
    expect(recap(check2.out, 'gateway').changed).toBeGreaterThan(0);
    expect((await unit())[2]).toBe(pid);
    expect(await sh('gateway', 'cat /etc/tsplay-hello.conf')).toBe('greeting=hello\n');

    const third = await run('service config changed', 'service.yml', ['-e', 'greeting=hi']);
    expect(third.code, third.out + third.err).toBe(0);
    expect(third.out).toMatch(/RUNNING HANDLER \[restart hello\]/);
    const after = await unit();
    expect(after.slice(0, 2)).toEqual(['enabled', 'active']);
    expect(after[2]).not.toBe(pid);
  }, 300_000);

  it("facts show every host's interfaces and MAC addresses", async () => {
    const r = await run('facts', 'facts.yml');
    expect(r.code, r.out + r.err).toBe(0);
    for (const host of ['gateway', 'node1']) {
      const mac = (await sh(host, 'cat /sys/class/net/eth0/address')).trim();
      const ifaces = (await sh(host, 'ls /sys/class/net')).trim().split(/\s+/).sort().join(',');
      expect(r.out).toContain(`mac ${host} ${mac} ${mac} ${ifaces}`);
    }
    expect(r.out).toContain('mac gateway 02:74:73:00:01:01 02:74:73:00:01:01 eth0,lo,wlan0 default=wlan0');
    expect(r.out).toContain('mac node1 02:74:73:00:01:11 02:74:73:00:01:11 eth0,lo default=none');
    expect(r.out).toContain('minimal has eth0: False');
  }, 120_000);

  it('replace edits every match once; hostname renames node1', async () => {
    const { check, second } = await threeRuns('edit.yml', 'gateway');
    expect(recap(check.out, 'node1').changed).toBe(1);
    expect(recap(second.out, 'node1').changed).toBe(0);
    expect(await sh('gateway', 'cat /etc/tsplay-replace.conf')).toBe(
      'server 10.213.1.1 iburst # was a.example\nserver 10.213.1.1 iburst # was b.example\n# keep\n',
    );
    expect((await sh('node1', 'hostname; cat /etc/hostname')).trim()).toBe('worker1\nworker1');
  }, 120_000);

  it('reboots the gateway in the middle of a play, which goes on with the new boot', async () => {
    const boots = async () => (await labStatus()).hosts.find((h) => h.name === 'gateway')!.boots;
    const before = await boots();
    const check = await run('reboot check', 'reboot.yml', ['--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed).toBe(1);
    expect(await boots()).toBe(before);

    const r = await run('reboot', 'reboot.yml');
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 1, failed: 0, unreachable: 0 });
    const m = /boot before=(\S+) after=(\S+) group=way/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(m![1]).not.toBe(m![2]);
    expect(await boots()).toBe(before + 1);
    expect((await sh('gateway', 'cat /proc/sys/kernel/random/boot_id')).trim()).toBe(m![2]);
  }, 300_000);
});
