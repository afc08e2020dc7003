// Template files: .j2 with Ansible's Jinja2 settings, .ejs without HTML escaping.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../engine/errors.js';
import { renderTemplateText } from '../../engine/expr/index.js';

function failure(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

const j2 = (text: string, vars: Record<string, unknown>, file = '/srv/templates/t.j2') =>
  renderTemplateText(text, vars, { file, kind: 'j2' });

const DNSMASQ_J2 = `# {{ ansible_managed }}
interface={{ lan_interface }}
bind-interfaces
domain={{ cluster_domain }}
dhcp-range={{ dhcp_start }},{{ dhcp_end }},{{ dhcp_lease_time | default('12h') }}
dhcp-option=option:router,{{ gateway_ip }}
dhcp-option=option:dns-server,{{ dns_servers | join(',') }}

{% for node in nodes %}
{% if node.mac is defined %}
dhcp-host={{ node.mac | lower }},{{ node.name }},{{ node.ip }}
{% endif %}
{% endfor %}
{% if enable_tftp | default(false) | bool %}
enable-tftp
tftp-root={{ tftp_root }}
{% endif %}
`;

const DNSMASQ_VARS = {
  ansible_managed: 'Ansible managed',
  lan_interface: 'eth1',
  cluster_domain: 'cluster.lan',
  subnet_prefix: '192.168.50',
  gateway_ip: '{{ subnet_prefix }}.1',
  dhcp_start: '{{ subnet_prefix }}.100',
  dhcp_end: '{{ subnet_prefix }}.200',
  dns_servers: ['{{ gateway_ip }}', '1.1.1.1'],
  nodes: [
    { name: 'node1', mac: 'DC:A6:32:00:00:01', ip: '{{ subnet_prefix }}.11' },
    { name: 'node2', ip: '{{ subnet_prefix }}.12' },
    { name: 'node3', mac: 'dc:a6:32:00:00:03', ip: '{{ subnet_prefix }}.13' },
  ],
  enable_tftp: 'yes',
  tftp_root: '/srv/tftp',
};

describe('.j2 templates', () => {
  it('renders a realistic dnsmasq.conf with trim_blocks and keep_trailing_newline', () => {
    expect(j2(DNSMASQ_J2, DNSMASQ_VARS, '/srv/templates/dnsmasq.conf.j2')).toBe(`# Ansible managed
interface=eth1
bind-interfaces
domain=cluster.lan
dhcp-range=192.168.50.100,192.168.50.200,12h
dhcp-option=option:router,192.168.50.1
dhcp-option=option:dns-server,192.168.50.1,1.1.1.1

dhcp-host=dc:a6:32:00:00:01,node1,192.168.50.11
dhcp-host=dc:a6:32:00:00:03,node3,192.168.50.13
enable-tftp
tftp-root=/srv/tftp
`);
  });

  it('drops the tftp block when the flag is off', () => {
    const out = j2(DNSMASQ_J2, { ...DNSMASQ_VARS, enable_tftp: false });
    expect(out).not.toContain('tftp');
    expect(out.endsWith('node3,192.168.50.13\n')).toBe(true);
  });

  it('removes the newline after a block tag but not after {{ }}, and keeps indentation (lstrip_blocks off)', () => {
    expect(j2('{% if true %}\nyes\n{% endif %}\nafter\n', {})).toBe('yes\nafter\n');
    expect(j2('{{ 1 }}\n{{ 2 }}\n', {})).toBe('1\n2\n');
    expect(j2('  {% if true %}\n  x\n  {% endif %}\n', {})).toBe('    x\n  ');
    expect(j2('a {# note #}\nb\n', {})).toBe('a b\n');
    expect(j2('{%- if true -%}\n  x  \n{%- endif %}\n', {})).toBe('x');
    expect(j2('no newline at end', {})).toBe('no newline at end');
    expect(j2('two newlines\n\n', {})).toBe('two newlines\n\n');
  });

  it('supports loops over dicts, loop variables, else, macros, set blocks, raw and filter blocks', () => {
    const text = [
      '{% macro opt(k, v="x") %}{{ k }}={{ v }}{% endmacro %}',
      '{% for k, v in settings | dictsort %}',
      '{{ loop.index }}/{{ loop.length }} {{ opt(k, v) }}{{ "," if not loop.last }}',
      '{% endfor %}',
      '{% for x in [] %}x{% else %}none{% endfor %}',
      '',
      '{% set banner %}Host {{ name | upper }}{% endset %}',
      '{{ banner }} {% raw %}{{ literal }}{% endraw %} {% filter upper %}shout {{ name }}{% endfilter %}',
      '{% set a, b = pair %}{{ b }}{{ a }} {{ opt("k") }}',
      '',
    ].join('\n');
    expect(j2(text, { settings: { b: 2, a: 1 }, name: 'gw', pair: [1, 2] })).toBe(
      '1/2 a=1,\n2/2 b=2\nnone\nHost GW {{ literal }} SHOUT GW21 k=x\n',
    );
  });

  it('filters loops with `for x in xs if cond`, loop.index counting kept items', () => {
    const text = '{% for u in users if u.admin %}{{ loop.index }}/{{ loop.length }} {{ u.name }}\n{% endfor %}';
    const users = [
      { name: 'bob', admin: true },
      { name: 'al', admin: false },
      { name: 'cy', admin: true },
    ];
    expect(j2(text, { users })).toBe('1/2 bob\n2/2 cy\n');
  });

  it('renders Python values the way Jinja2 prints them', () => {
    expect(j2('{{ xs }} {{ d }} {{ t }} {{ n }}|{{ f }}', { xs: ['a', 1], d: { k: null }, t: true, n: null, f: false })).toBe(
      "['a', 1] {'k': None} True |False",
    );
  });

  it('includes and imports templates relative to the template directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-j2-'));
    mkdirSync(join(dir, 'parts'));
    writeFileSync(join(dir, 'parts', 'header.j2'), '# header for {{ name }}\n');
    writeFileSync(join(dir, 'macros.j2'), '{% macro kv(k, v) %}{{ k }} = {{ v }}{% endmacro %}\n');
    const text =
      "{% include 'parts/header.j2' %}\n{% import 'macros.j2' as m %}\n{{ m.kv('port', port) }}\n{% from 'macros.j2' import kv %}\n{{ kv('a', 1) }}\n";
    expect(j2(text, { name: 'web', port: 8080 }, join(dir, 'main.j2'))).toBe('# header for web\nport = 8080\na = 1\n');
  });

  it('reports undefined variables with the template file and line', () => {
    const e = failure(() =>
      j2('line 1\n{% for n in nodes %}\nhost {{ n.name }} {{ n.ip }}\n{% endfor %}\n', { nodes: [{ name: 'a' }] }, '/srv/t/hosts.j2'),
    );
    expect(e.code).toBe('E_UNDEFINED');
    expect(e.message).toBe("'dict object' has no attribute 'ip'");
    expect(e.location).toEqual({ file: '/srv/t/hosts.j2', line: 3 });
    const u = failure(() => j2('a\nb\n{{ missing_var }}\n', {}, '/srv/t/x.j2'));
    expect(u.message).toBe("'missing_var' is undefined");
    expect(u.location).toEqual({ file: '/srv/t/x.j2', line: 3 });
  });

  it('reports syntax errors with the template file and line', () => {
    const e = failure(() => j2('ok\n\n{% if x %}\n{{ x + }}\n{% endif %}\n', { x: 1 }, '/srv/t/bad.j2'));
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.message).toMatch(/^template error: /);
    expect(e.location?.file).toBe('/srv/t/bad.j2');
    expect(e.location?.line).toBe(4);
  });

  it('reports errors inside an included file at that file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-j2-'));
    writeFileSync(join(dir, 'inc.j2'), 'one\n{{ nope }}\n');
    const e = failure(() => j2("x\n{% include 'inc.j2' %}\n", {}, join(dir, 'main.j2')));
    expect(e.message).toBe("'nope' is undefined");
    expect(e.location).toEqual({ file: join(dir, 'inc.j2'), line: 2 });
    const missing = failure(() => j2("{% include 'absent.j2' %}", {}, join(dir, 'main.j2')));
    expect(missing.code).toBe('E_TEMPLATE');
    expect(missing.message).toContain('absent.j2');
  });

  it('uses lookup(template) relative to playbook_dir/templates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-j2-'));
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates', 'snippet.j2'), 'port {{ port }}\n');
    expect(j2("[{{ lookup('template', 'snippet.j2') }}]", { playbook_dir: dir, port: 22 })).toBe('[port 22\n]');
  });
});

describe('.ejs templates', () => {
  const ejs = (text: string, vars: Record<string, unknown>, file = '/srv/templates/t.ejs') =>
    renderTemplateText(text, vars, { file, kind: 'ejs' });

  it('renders <%= %> without HTML escaping, with the variables as locals', () => {
    expect(ejs('<%= a %> <%- b %> <%= "<b>&" %>', { a: '<x y="1">', b: 'raw' })).toBe('<x y="1"> raw <b>&');
  });

  it('runs JavaScript control flow over the variables, lazy templates rendered', () => {
    const text = '<% for (const n of nodes) { -%>\ndhcp-host=<%= n.mac %>,<%= n.ip %>\n<% } -%>\nrouter=<%= gateway_ip %>\n';
    const vars = { prefix: '10.0.0', gateway_ip: '{{ prefix }}.1', nodes: [{ mac: 'aa', ip: '{{ prefix }}.11' }] };
    expect(ejs(text, vars)).toBe('dhcp-host=aa,10.0.0.11\nrouter=10.0.0.1\n');
  });

  it('reports an undefined variable with file and line', () => {
    const e = failure(() => ejs('line1\n<%= nope %>\n', {}, '/srv/t/x.ejs'));
    expect(e.code).toBe('E_UNDEFINED');
    expect(e.message).toBe("'nope' is undefined");
    expect(e.location).toEqual({ file: '/srv/t/x.ejs', line: 2 });
  });

  it('reports a syntax error as E_TEMPLATE', () => {
    const e = failure(() => ejs('<% if ( { %>', {}, '/srv/t/bad.ejs'));
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.location?.file).toBe('/srv/t/bad.ejs');
  });
});
