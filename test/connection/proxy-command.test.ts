// What a ProxyCommand means (ssh_config, -o ProxyCommand=...): the guides' `ssh -W %h:%p gw` is a
// jump host; any other command runs, with OpenSSH's tokens expanded; `none` is none.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandProxyCommand, parseSshArgs, proxyRoute, resolveEndpoint } from '../../engine/connection/ssh.js';

describe('ProxyCommand', () => {
  it.each([
    ['ssh -W %h:%p pi@gw', { jump: 'pi@gw' }],
    ['ssh -q -W %h:%p -p 2222 gw', { jump: 'gw:2222' }],
    ['/usr/bin/ssh -l pi -W %h:%p gw', { jump: 'pi@gw' }],
    // anything more is not a plain jump: it runs as the user wrote it
    ['ssh -i ~/.ssh/gw -W %h:%p gw', { command: 'ssh -i ~/.ssh/gw -W %h:%p gw' }],
    ['ssh gw nc %h %p', { command: 'ssh gw nc %h %p' }],
    ['nc -X 5 -x proxy:1080 %h %p', { command: 'nc -X 5 -x proxy:1080 %h %p' }],
    ['none', {}],
  ])('%s', (value, route) => {
    expect(proxyRoute(value)).toEqual(route);
  });

  it('expands %h %p %r %n and %%', () => {
    expect(expandProxyCommand('ssh -l %r gw nc %h %p # %n 100%%', { host: '10.0.0.11', port: 22, user: 'pi', alias: 'node1' })).toBe(
      'ssh -l pi gw nc 10.0.0.11 22 # node1 100%',
    );
  });

  it('is never ignored: from the common args and from ssh_config, the first one given wins', () => {
    expect(parseSshArgs(`-o ProxyCommand='nc -x p:1080 %h %p'`).proxyCommand).toBe('nc -x p:1080 %h %p');
    const cmdFirst = parseSshArgs(`-o ProxyCommand='nc a %h %p' -J gw`);
    expect([cmdFirst.proxyCommand, cmdFirst.jump]).toEqual(['nc a %h %p', undefined]);
    const jumpFirst = parseSshArgs(`-J gw -o ProxyCommand='nc a %h %p'`);
    expect([jumpFirst.proxyCommand, jumpFirst.jump]).toEqual([undefined, 'gw']);
    const cfg = join(mkdtempSync(join(tmpdir(), 'tsplay-proxy-')), 'config');
    writeFileSync(cfg, 'Host node*\n  ProxyCommand ssh gw nc %h %p\nHost plain\n  ProxyCommand none\n');
    const e = resolveEndpoint('node1', { ansible_host: 'node1', ansible_ssh_common_args: `-F ${cfg}` }, { env: {} });
    expect(e).toMatchObject({ proxyCommand: 'ssh gw nc %h %p', alias: 'node1', jumps: [] });
    expect(resolveEndpoint('plain', { ansible_ssh_common_args: `-F ${cfg}` }, { env: {} }).proxyCommand).toBeUndefined();
    // the command line beats ssh_config
    expect(
      resolveEndpoint('node2', { ansible_ssh_common_args: `-F ${cfg} -o ProxyCommand=none` }, { env: {} }).proxyCommand,
    ).toBeUndefined();
  });
});
