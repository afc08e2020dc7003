import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../engine/errors.js';
import { OMIT, evalCondition, evaluate, isTemplate, markUnsafe, template } from '../../engine/expr/index.js';

const loc = { file: 'site.yml', line: 12, col: 7 };

function failure(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('isTemplate', () => {
  it('detects {{ }}, {% %} and {# #}', () => {
    expect(isTemplate('{{ x }}')).toBe(true);
    expect(isTemplate('{% if x %}y{% endif %}')).toBe(true);
    expect(isTemplate('a {# note #}')).toBe(true);
    expect(isTemplate('plain text, $HOME and {single}')).toBe(false);
  });
});

describe('template: native types', () => {
  const vars = { xs: [1, 2, 3], d: { a: 1, b: [true] }, n: 42, f: 2.5, yes: true, nothing: null, name: 'web' };

  it('keeps the type of a lone expression', () => {
    expect(template('{{ xs }}', vars)).toEqual([1, 2, 3]);
    expect(template('{{ d }}', vars)).toEqual({ a: 1, b: [true] });
    expect(template('{{ n }}', vars)).toBe(42);
    expect(template('{{ f }}', vars)).toBe(2.5);
    expect(template('{{ yes }}', vars)).toBe(true);
    expect(template('{{ nothing }}', vars)).toBeNull();
    // Ansible 2.14 renders any expression but a lone variable to text: a number is its text
    expect(template('{{ 1 + 1 }}', vars)).toBe('2');
    expect(template('{{ n + 0 }}', vars)).toBe('42');
    expect(template('{{ f * 1 }}', vars)).toBe('2.5');
    expect(template('{{ none }}', vars)).toBe('');
    expect(template("{{ {'k': xs[0]} }}", vars)).toEqual({ k: 1 });
  });

  it('allows whitespace around the expression and nested dict braces', () => {
    expect(template('  {{ xs }}\n', vars)).toEqual([1, 2, 3]);
    expect(template('{{xs}}', vars)).toEqual([1, 2, 3]);
    expect(template("{{ {'a': {'b': n}} }}", vars)).toEqual({ a: { b: 42 } });
  });

  it('renders other strings to strings, Python style', () => {
    expect(template('hosts: {{ xs }}', vars)).toBe('hosts: [1, 2, 3]');
    expect(template('{{ name }}-{{ n }}', vars)).toBe('web-42');
    expect(template('enabled={{ yes }}', vars)).toBe('enabled=True');
    expect(template('d={{ d }}', vars)).toBe("d={'a': 1, 'b': [True]}");
    expect(template('value=[{{ nothing }}]', vars)).toBe('value=[]');
    expect(template("{{ 'a' ~ nothing }}", vars)).toBe('aNone');
  });

  it('renders deep structures and leaves non-strings alone', () => {
    class Opaque {}
    const opaque = new Opaque();
    const out = template(
      {
        path: '/srv/{{ name }}',
        mode: 420,
        force: false,
        list: ['{{ n }}', 'x', null],
        nested: { items: '{{ xs }}' },
        '{{ name }}_key': 1,
        obj: opaque,
      },
      vars,
    );
    expect(out).toEqual({
      path: '/srv/web',
      mode: 420,
      force: false,
      list: [42, 'x', null],
      nested: { items: [1, 2, 3] },
      web_key: 1,
      obj: opaque,
    });
    expect((out as { obj: unknown }).obj).toBe(opaque);
    expect(template(7, vars)).toBe(7);
    expect(template(null, vars)).toBeNull();
    expect(template('no templates here', vars)).toBe('no templates here');
  });

  it('returns copies, never the variables themselves', () => {
    const out = template('{{ d }}', vars) as { a: number };
    out.a = 99;
    expect(vars.d.a).toBe(1);
  });

  it('passes omit through default(omit)', () => {
    expect(template('{{ missing | default(omit) }}', {})).toBe(OMIT);
    expect(template('{{ missing | default(omit) }}', { omit: '__custom' })).toBe('__custom');
  });
});

describe('lazy variables', () => {
  it('renders a variable whose value is a template when it is used (group_vars style)', () => {
    const vars = {
      subnet_prefix: '10.0.0',
      dhcp_start: '{{ subnet_prefix }}.100',
      dhcp_range: '{{ dhcp_start }},{{ dhcp_end }}',
      dhcp_end: '{{ subnet_prefix }}.200',
    };
    expect(template('{{ dhcp_start }}', vars)).toBe('10.0.0.100');
    expect(template('range={{ dhcp_range }}', vars)).toBe('range=10.0.0.100,10.0.0.200');
    expect(evaluate("dhcp_start.endswith('.100')", vars)).toBe(true);
  });

  it('keeps the native type of a lazy single-expression variable (a list; a number is text)', () => {
    const vars = { base: [1, 2], more: '{{ base + [3] }}', count: '{{ more | length }}' };
    expect(template('{{ more }}', vars)).toEqual([1, 2, 3]);
    expect(template('{{ count }}', vars)).toBe('3'); // a length, rendered to text as Ansible 2.14 does
  });

  it('renders template strings nested in dicts and lists reached through attributes', () => {
    const vars = {
      prefix: '192.168.50',
      net: { gateway: '{{ prefix }}.1', dns: ['{{ prefix }}.1', '1.1.1.1'] },
      nodes: [
        { name: 'node1', ip: '{{ prefix }}.11' },
        { name: 'node2', ip: '{{ prefix }}.12' },
      ],
    };
    expect(template('{{ net.gateway }}', vars)).toBe('192.168.50.1');
    expect(template("{{ net['dns'][0] }}", vars)).toBe('192.168.50.1');
    expect(template('{{ net }}', vars)).toEqual({ gateway: '192.168.50.1', dns: ['192.168.50.1', '1.1.1.1'] });
    expect(template("{{ nodes | map(attribute='ip') | list }}", vars)).toEqual(['192.168.50.11', '192.168.50.12']);
    expect(template("{{ nodes | selectattr('ip', 'equalto', '192.168.50.12') | map(attribute='name') | first }}", vars)).toBe('node2');
    expect(template('{{ net | to_json }}', vars)).toBe('{"gateway": "192.168.50.1", "dns": ["192.168.50.1", "1.1.1.1"]}');
    expect(template('{% for n in nodes %}{{ n.ip }} {% endfor %}', vars)).toBe('192.168.50.11 192.168.50.12 ');
  });

  it("renders hostvars['h'] values in that host's own variables", () => {
    const vars = {
      inventory_hostname: 'gateway',
      prefix: '10.0.0',
      groups: { all: ['gateway', 'node1'], nodes: ['node1'] },
      hostvars: {
        gateway: { prefix: '10.0.0', ansible_host: '{{ prefix }}.1' },
        node1: { prefix: '10.9.9', ansible_host: '{{ prefix }}.11', peers: '{{ groups.all | length }}' },
      },
    };
    expect(template("{{ hostvars['node1'].ansible_host }}", vars)).toBe('10.9.9.11');
    expect(template('{{ hostvars.node1.peers }}', vars)).toBe('2');
    expect(template("{{ groups['nodes'] | map('extract', hostvars, 'ansible_host') | list }}", vars)).toEqual(['10.9.9.11']);
    expect(template('{{ hostvars[inventory_hostname].ansible_host }}', vars)).toBe('10.0.0.1');
  });

  it('works with a hostvars object that builds host variables on access (runner style)', () => {
    const hosts: Record<string, Record<string, unknown>> = { node1: { prefix: '172.16.0', ansible_host: '{{ prefix }}.5' } };
    const hostvars = new Proxy({} as Record<string, unknown>, {
      get: (_t, p) => (typeof p === 'string' && hosts[p] ? { ...hosts[p] } : undefined),
      has: (_t, p) => typeof p === 'string' && p in hosts,
      ownKeys: () => Object.keys(hosts),
      getOwnPropertyDescriptor: (_t, p) =>
        typeof p === 'string' && hosts[p] ? { enumerable: true, configurable: true, value: { ...hosts[p] } } : undefined,
    });
    expect(template('{{ hostvars.node1.ansible_host }}', { hostvars })).toBe('172.16.0.5');
    expect(failure(() => template("{{ hostvars['nodeX'].ansible_host }}", { hostvars })).message).toBe(
      "'dict object' has no attribute 'nodeX'",
    );
    expect(template("{{ hostvars['nodeX'] is defined }}", { hostvars })).toBe(false);
  });

  it('detects cycles instead of overflowing the stack', () => {
    const e = failure(() => template('{{ a }}', { a: '{{ b }}', b: '{{ a }}' }, loc));
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.message).toBe('recursive loop detected in template: a -> b -> a');
    expect(e.location).toEqual(loc);
    expect(failure(() => template('{{ x }}', { x: 'again {{ x }}' })).message).toContain('x -> x');
    expect(failure(() => evaluate('d.k', { d: { k: '{{ d.k }}' } })).message).toContain('d.k -> d.k');
  });

  it('only renders the variables an expression uses', () => {
    const vars: Record<string, unknown> = { wanted: 'ok' };
    for (let i = 0; i < 2000; i++) vars[`broken${i}`] = `{{ undefined_${i} }}`;
    expect(template('{{ wanted }}', vars)).toBe('ok');
  });

  it('makes a variable that uses an undefined one undefined itself, as Ansible does', () => {
    const vars = { broken: '{{ nope }}-x', ok: 1 };
    expect(template("{{ broken | default('fallback') }}", vars)).toBe('fallback');
    expect(template('{{ broken is defined }}', vars)).toBe(false);
    const e = failure(() => template('{{ broken }}', vars));
    expect(e.code).toBe('E_UNDEFINED');
    expect(e.message).toBe("'nope' is undefined");
    expect(e.hint).toContain('in the value of broken');
  });

  it('reads variables layered with prototypes', () => {
    const base = { prefix: '10.1.1' };
    const vars = Object.assign(Object.create(base) as Record<string, unknown>, { host: '{{ prefix }}.7' });
    expect(template('{{ host }}', vars)).toBe('10.1.1.7');
    expect(template('{{ toString is defined }}', vars)).toBe(false);
  });

  it("exposes the variables themselves as vars['name']", () => {
    expect(template("{{ vars['pre' ~ 'fix'] }}", { prefix: 'p', other: '{{ prefix }}!' })).toBe('p');
    expect(template("{{ vars['other'] }}", { prefix: 'p', other: '{{ prefix }}!' })).toBe('p!');
  });

  it('never renders templates inside values marked unsafe (registered results)', () => {
    const result = markUnsafe({ stdout: 'literal {{ braces }}', rc: 0 });
    expect(template('{{ result.stdout }}', { result })).toBe('literal {{ braces }}');
    expect(template('{{ result }}', { result })).toEqual({ stdout: 'literal {{ braces }}', rc: 0 });
  });
});

describe('undefined variables', () => {
  it('is an error that names the variable', () => {
    const e = failure(() => template('{{ foo }}', {}, loc));
    expect(e.code).toBe('E_UNDEFINED');
    expect(e.message).toBe("'foo' is undefined");
    expect(e.hint).toBe('define foo (vars, group_vars, host_vars or -e) or use {{ foo | default(...) }}');
    expect(e.location).toEqual(loc);
    expect(failure(() => template('prefix {{ foo }} suffix', {})).message).toBe("'foo' is undefined");
  });

  it("names the missing key of a dict, as Ansible's message does", () => {
    const e = failure(() => template('{{ cfg.port }}', { cfg: { host: 'h' } }));
    expect(e.code).toBe('E_UNDEFINED');
    expect(e.message).toBe("'dict object' has no attribute 'port'");
    expect(e.hint).toContain('cfg has no key');
    expect(failure(() => evaluate('xs[5]', { xs: [1] })).message).toBe('list object has no element 5');
    expect(failure(() => evaluate("cfg['a']['b']", { cfg: { a: {} } })).message).toBe("'dict object' has no attribute 'b'");
  });

  it('allows default, defined and undefined tests', () => {
    expect(template("{{ foo | default('x') }}", {})).toBe('x');
    expect(template("{{ foo | d('y') }}", {})).toBe('y');
    expect(evaluate('foo is defined', {})).toBe(false);
    expect(evaluate('foo is undefined', {})).toBe(true);
    expect(evaluate('foo is not defined', {})).toBe(true);
    expect(evaluate('foo.bar is defined', {})).toBe(false);
    expect(evaluate('cfg.bar is defined', { cfg: {} })).toBe(false);
    expect(evaluate("foo.bar.baz | default('deep')", {})).toBe('deep');
    expect(evaluate("(foo | default({})).get('k', 1)", {})).toBe(1);
    expect(evalCondition('foo is defined and foo', {})).toBe(false);
    expect(evalCondition('foo is defined and foo', { foo: 'yes' })).toBe(true);
    expect(evalCondition('foo is not defined or foo == 1', {})).toBe(true);
    expect(template("{{ 'set' if foo is defined else 'unset' }}", {})).toBe('unset');
  });

  it('is an error in conditions, not a silent false', () => {
    for (const cond of ['foo', 'not foo', 'foo == 1', 'foo or true', 'bar and foo', "'x' in foo", 'foo | length > 0']) {
      const e = failure(() => evalCondition(cond, { bar: true }, loc));
      expect(e.code).toBe('E_UNDEFINED');
      expect(e.message).toBe("'foo' is undefined");
      expect(e.location).toEqual(loc);
    }
  });

  it('is an error when iterated, compared or filtered', () => {
    expect(failure(() => template('{% for x in foo %}{{ x }}{% endfor %}', {})).message).toBe("'foo' is undefined");
    expect(failure(() => template('{{ foo | upper }}', {})).message).toBe("'foo' is undefined");
    expect(failure(() => template('{{ [1, foo] }}', {})).message).toBe("'foo' is undefined");
    expect(failure(() => template("{{ 'a' ~ foo }}", {})).message).toBe("'foo' is undefined");
    expect(failure(() => template('{{ foo() }}', {})).message).toBe("'foo' is undefined");
  });

  it('mandatory names the variable', () => {
    const e = failure(() => template('{{ db_password | mandatory }}', {}));
    expect(e.code).toBe('E_UNDEFINED');
    // two spaces, as ansible-core 2.14 words it (test/e2e/vars-compare.test.ts)
    expect(e.message).toBe("Mandatory variable 'db_password'  not defined.");
    expect(failure(() => template("{{ x | mandatory('set x in group_vars') }}", {})).message).toBe('set x in group_vars');
    expect(template('{{ x | mandatory }}', { x: 0 })).toBe('0');
  });
});

describe('expressions', () => {
  const vars = { s: ' Hello, World ', csv: 'a,b,,c', d: { a: 1, b: 2 }, xs: [3, 1, 2], path: '/etc/dnsmasq.conf' };

  it('supports the Python string methods playbooks use', () => {
    expect(evaluate("path.startswith('/etc')", vars)).toBe(true);
    expect(evaluate("path.endswith(('.conf', '.cfg'))", vars)).toBe(true);
    expect(evaluate("csv.split(',')", vars)).toEqual(['a', 'b', '', 'c']);
    expect(evaluate("'  a  b '.split()", vars)).toEqual(['a', 'b']);
    expect(evaluate("csv.split(',', 1)", vars)).toEqual(['a', 'b,,c']);
    expect(evaluate('s.strip()', vars)).toBe('Hello, World');
    expect(evaluate("'xxhixx'.strip('x')", vars)).toBe('hi');
    expect(evaluate('s.lower().strip()', vars)).toBe('hello, world');
    expect(evaluate('s.upper()', vars)).toBe(' HELLO, WORLD ');
    expect(evaluate("path.replace('/', '_')", vars)).toBe('_etc_dnsmasq.conf');
    expect(evaluate("'-'.join(['a', 'b'])", vars)).toBe('a-b');
    expect(evaluate("'{}:{}'.format('host', 22)", vars)).toBe('host:22');
    expect(evaluate("'a=b'.partition('=')", vars)).toEqual(['a', '=', 'b']);
  });

  it('supports dict methods and lookups', () => {
    expect(evaluate("d.get('a')", vars)).toBe(1);
    expect(evaluate("d.get('z', 'dflt')", vars)).toBe('dflt');
    expect(evaluate("d.get('z')", vars)).toBeNull();
    expect(evaluate('d.keys() | list', vars)).toEqual(['a', 'b']);
    expect(evaluate('d.values() | list', vars)).toEqual([1, 2]);
    expect(evaluate('d.items() | list', vars)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(evaluate("d['b'] + d.a", vars)).toBe(3);
    expect(evaluate('xs.0 + xs.1', vars)).toBe(4);
  });

  it('supports indexes, slices, operators and literals', () => {
    expect(evaluate('xs[-1]', vars)).toBe(2);
    expect(evaluate('xs[1:]', vars)).toEqual([1, 2]);
    expect(evaluate('xs[::-1]', vars)).toEqual([2, 1, 3]);
    expect(evaluate("'hello'[1:3]", vars)).toBe('el');
    expect(evaluate("'v' ~ 1 ~ true", vars)).toBe('v1True');
    expect(evaluate('3 in xs and 9 not in xs', vars)).toBe(true);
    expect(evaluate("'a' in d and 'ell' in 'hello'", vars)).toBe(true);
    expect(evaluate("'big' if xs | length > 2 else 'small'", vars)).toBe('big');
    expect(evaluate('1 < 2 < 3 and not (3 < 2 < 5)', vars)).toBe(true);
    expect(evaluate('[1, 2] + [3]', vars)).toEqual([1, 2, 3]);
    expect(evaluate("'=' * 3", vars)).toBe('===');
    expect(evaluate('7 // 2 + 7 % 3 + 2 ** 3', vars)).toBe(12);
    expect(evaluate('-7 % 3', vars)).toBe(2);
    expect(evaluate('7 / 2', vars)).toBe(3.5);
    expect(evaluate("'%s:%05d' % ('port', 22)", vars)).toBe('port:00022');
    expect(evaluate("'%(a)s-%(b)s' % d", vars)).toBe('1-2');
    expect(evaluate('True and not False and None is none', vars)).toBe(true);
    expect(evaluate("[1, 2] == [1, 2] and {'a': 1} == {'a': 1} and '1' != 1 and 1 == 1.0", vars)).toBe(true);
    expect(evaluate("{'k' ~ 1: xs[0]}", vars)).toEqual({ k1: 3 });
    expect(evaluate('(1, 2)', vars)).toEqual([1, 2]);
    expect(evaluate("'it''s'", vars)).toBe('its');
    expect(evaluate("'tab\\there'", vars)).toBe('tab\there');
    expect(evaluate("'\\d+'", vars)).toBe('\\d+');
  });

  it('reports Python type errors clearly', () => {
    const e = failure(() => evaluate("'1' < 2", {}, loc));
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.message).toBe("template error: '<' not supported between instances of 'str' and 'int'");
    expect(e.hint).toContain('| int');
    expect(failure(() => evaluate("1 + 'a'", {})).message).toContain("unsupported operand type(s) for +: 'int' and 'str'");
    expect(failure(() => evaluate('1 / 0', {})).message).toBe('template error: division by zero');
  });

  it('templates an expression given in {{ }}', () => {
    expect(evaluate('{{ xs | length }}', vars)).toBe('3');
  });
});

describe('evalCondition', () => {
  const result = { changed: true, rc: 1, stdout: 'ok: 3 lines', failed: false };

  it('accepts booleans, lists and empty values', () => {
    expect(evalCondition(true, {})).toBe(true);
    expect(evalCondition(false, {})).toBe(false);
    expect(evalCondition(null, {})).toBe(true);
    expect(evalCondition(['1 == 1', 'x > 1'], { x: 2 })).toBe(true);
    expect(evalCondition(['1 == 1', 'x > 1'], { x: 0 })).toBe(false);
    expect(evalCondition([], {})).toBe(true);
  });

  it('uses Jinja truthiness', () => {
    for (const v of ['', [], {}, 0, false, null]) expect(evalCondition('v', { v })).toBe(false);
    for (const v of ['x', [0], { a: 1 }, 1, true, 'False']) expect(evalCondition('v', { v })).toBe(true);
  });

  it('reads registered results', () => {
    expect(evalCondition('result is changed', { result })).toBe(true);
    expect(evalCondition('result.rc != 0', { result })).toBe(true);
    expect(evalCondition("'ok' in result.stdout", { result })).toBe(true);
    expect(evalCondition('result is failed', { result })).toBe(false);
  });

  it('templates strings with {{ }} first, then evaluates what they render to', () => {
    expect(evalCondition('{{ flag }}', { flag: false })).toBe(false);
    expect(evalCondition('{{ flag }}', { flag: 'False' })).toBe(false);
    expect(evalCondition('{{ flag }}', { flag: 'yes' })).toBe(true);
    expect(evalCondition('{{ flag }}', { flag: true })).toBe(true);
    expect(evalCondition('{{ a }} == {{ b }}', { a: 1, b: 1 })).toBe(true);
    expect(evalCondition("{{ inventory_hostname == 'gw' }}", { inventory_hostname: 'gw' })).toBe(true);
  });
});

describe('syntax errors', () => {
  it('are E_TEMPLATE errors that quote the expression', () => {
    const e = failure(() => template('{{ foo( }}', {}, loc));
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.message).toMatch(/^template error: .+ in "\{\{ foo\( \}\}"$/);
    expect(e.location).toEqual(loc);
    expect(failure(() => evalCondition('x ==', { x: 1 }, loc)).code).toBe('E_TEMPLATE');
    expect(failure(() => template('{% if x %}no end', { x: 1 })).code).toBe('E_TEMPLATE');
  });

  it('name unknown filters and tests', () => {
    const e = failure(() => template('{{ x | bogus }}', { x: 1 }));
    expect(e.message).toContain("no filter named 'bogus'");
    expect(e.hint).toContain('builtin filters');
    expect(failure(() => evaluate('x is bogus', { x: 1 })).message).toContain("no test named 'bogus'");
  });

  it('accept the ansible.builtin. prefix on filters and tests', () => {
    expect(evaluate("'a' | ansible.builtin.upper", {})).toBe('A');
    expect(evaluate("'2.1' is ansible.builtin.version('2.0', '>')", {})).toBe(true);
  });
});

describe('*args and **kwargs in calls', () => {
  const vars = { items: ['a', 'b'], ds: [{ a: 1 }, { b: 2, a: 3 }], x: { a: 1, b: 2 }, l: [2, 7, 2], n: 3, s: 'ab' };

  it.each([
    ["'%s-%s' | format(*items)", 'a-b'],
    ['{} | combine(*ds)', { a: 3, b: 2 }],
    ['dict(**x)', { a: 1, b: 2 }],
    ['dict(c=3, **x)', { c: 3, a: 1, b: 2 }],
    ["dict(x, **{'z': 1})", { a: 1, b: 2, z: 1 }],
    ["lookup('items', *items)", 'a,b'],
    ["query('items', *items, wantlist=true)", ['a', 'b']],
    ['range(*l) | list', [2, 4, 6]],
    ['range(1, *[4]) | list', [1, 2, 3]],
    ["'abc' | replace(*['b', 'X'])", 'aXc'],
    ['[3, 1] | max(*[])', 3],
    [
      "x | dict2items(**{'key_name': 'k'})",
      [
        { k: 'a', value: 1 },
        { k: 'b', value: 2 },
      ],
    ],
    ["'x%sy%s' | format(*s)", 'xayb'],
    ['[1, 2] is contains(*[2])', true],
    ['dict(a=1,)', { a: 1 }],
  ])('%s', (expr, expected) => {
    expect(evaluate(expr, vars)).toEqual(expected);
  });

  it('spread into macros too', () => {
    const t = '{% macro m(a, b, c=3) %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ m(*l) }} {{ m(1, **d) }} {{ m(*l, c=9) }}';
    expect(template(t, { l: [1, 2], d: { b: 5, c: 6 } })).toBe('1-2-3 1-5-6 1-2-9');
  });

  // Jinja2's ** is left-associative: 2 ** 3 ** 2 is 64, as ansible-playbook prints.
  it('leave * and ** as arithmetic operators everywhere else', () => {
    expect(evaluate('[2 * 3, 2 ** 3 ** 2, l | length * 2, (2 * 3) ** 2, n*n, n**2]', vars)).toEqual([6, 64, 6, 36, 9, 9]);
    expect(evaluate("['ab' * 2, [1] * 2, range(n * 2) | list | length, dict(a=n ** 2)]", vars)).toEqual(['abab', [1, 1], 6, { a: 9 }]);
    expect(evaluate('[max(*l) if false else 1, (l | first) * 2]', vars)).toEqual([1, 4]);
  });

  it('take the order Jinja2 allows, and say what is wrong with a value', () => {
    for (const bad of ['dict(**x, a=2)', 'dict(*l, 1)', 'dict(a=1, 2)', 'dict(*l, *l)', 'dict(**x, **x)', 'dict(**x, *l)']) {
      expect(failure(() => evaluate(bad, vars)).message, bad).toContain('invalid syntax for function call expression');
    }
    expect(failure(() => evaluate('dict(a=1, **x)', vars)).message).toContain("multiple values for keyword argument 'a'");
    expect(failure(() => evaluate('dict(**l)', vars)).message).toContain('argument after ** must be a mapping, not list');
    expect(failure(() => evaluate('range(*n)', vars)).message).toContain('argument after * must be an iterable, not int');
    expect(failure(() => evaluate('range(*nope)', vars)).message).toContain("'nope' is undefined");
  });
});

describe('isolation', () => {
  it('leaves the nunjucks module itself untouched', () => {
    expect(evaluate("'a' ~ [1]", {})).toBe('a[1]');
    expect(nunjucks.renderString('{{ "a" + 1 }}|{{ x.items }}|{{ none }}', { x: {} })).toBe('a1||');
    expect(() => evaluate("'a' + 1", {})).toThrow(UserError);
  });
});

describe('lookups and globals', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("lookup('env') and query('env')", () => {
    process.env.TSPLAY_TEST_A = 'alpha';
    process.env.TSPLAY_TEST_B = 'beta';
    expect(template("{{ lookup('env', 'TSPLAY_TEST_A') }}", {})).toBe('alpha');
    expect(template("{{ lookup('env', 'TSPLAY_TEST_A', 'TSPLAY_TEST_B') }}", {})).toBe('alpha,beta');
    expect(template("{{ query('env', 'TSPLAY_TEST_A', 'TSPLAY_TEST_B') }}", {})).toEqual(['alpha', 'beta']);
    expect(template("{{ q('env', 'TSPLAY_TEST_A') }}", {})).toEqual(['alpha']);
    expect(template("{{ lookup('env', 'TSPLAY_TEST_UNSET') }}", {})).toBe('');
    expect(template("{{ lookup('env', 'TSPLAY_TEST_UNSET', default='d') }}", {})).toBe('d');
    expect(template("{{ lookup('ansible.builtin.env', 'TSPLAY_TEST_A') }}", {})).toBe('alpha');
  });

  it("lookup('file') reads controller files, relative to playbook_dir/files", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-expr-'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'key.pub'), 'ssh-ed25519 AAAA user@host\n');
    writeFileSync(join(dir, 'motd'), 'welcome\n\n');
    const vars = { playbook_dir: dir };
    expect(template("{{ lookup('file', 'key.pub') }}", vars)).toBe('ssh-ed25519 AAAA user@host');
    expect(template("{{ lookup('file', 'motd') }}", vars)).toBe('welcome');
    expect(template(`{{ lookup('file', '${join(dir, 'motd')}', rstrip=false) }}`, vars)).toBe('welcome\n\n');
    expect(template("{{ query('file', 'key.pub', 'motd') }}", vars)).toEqual(['ssh-ed25519 AAAA user@host', 'welcome']);
    const e = failure(() => template("{{ lookup('file', 'absent.txt') }}", vars));
    expect(e.code).toBe('E_FILE_NOT_FOUND');
    expect(e.message).toContain('absent.txt');
    expect(template("{{ lookup('file', 'absent.txt', errors='ignore') }}", vars)).toBe('');
  });

  it("lookup('vars'), range(), dict(), namespace() and unknown plugins", () => {
    expect(template("{{ lookup('vars', 'pre' ~ 'fix') }}", { prefix: '{{ 1 + 1 }}' })).toBe('2');
    expect(template('{{ range(3) | list }}', {})).toEqual([0, 1, 2]);
    expect(template('{{ range(1, 10, 4) | list }}', {})).toEqual([1, 5, 9]);
    expect(template('{{ dict(a=1, b=2) }}', {})).toEqual({ a: 1, b: 2 });
    expect(template("{{ dict([['a', 1]]) }}", {})).toEqual({ a: 1 });
    expect(template('{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}', {})).toBe('6');
    expect(template("{{ now(fmt='%Y') | int > 2000 }}", {})).toBe(true);
    expect(failure(() => template("{{ lookup('nosuch', 'date') }}", {})).message).toContain("lookup plugin 'nosuch' not found");
  });
});

describe('conditional expressions', () => {
  it('chain: the else part is itself a conditional expression (Jinja2 parse_condexpr)', () => {
    const t = (x: number) => template("{{ 'a' if x == 1 else 'b' if x == 2 else 'c' }}", { x });
    expect([t(1), t(2), t(3)]).toEqual(['a', 'b', 'c']);
    expect(template("{{ 'a' if x == 3 if true else 'z' }}", { x: 3 })).toBe('a');
  });

  it('without else and a false condition: undefined, printed as empty, false, defaultable', () => {
    expect(template("[{{ 'a' if x == 1 }}]", { x: 3 })).toEqual([]);
    expect(template("{{ 'a' if x == 1 }}", { x: 3 })).toBe('');
    expect(template("{{ ('a' if x == 1) is defined }} {{ ('a' if x == 1) | default('dflt') }}", { x: 3 })).toBe('False dflt');
    expect(evalCondition("'a' if x == 1", { x: 3 })).toBe(false);
    expect(template("{{ 'a' if x == 3 }}", { x: 3 })).toBe('a');
  });
});
