// Filters, with the examples of Ansible's and Jinja2's documentation where they have one.
import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../engine/errors.js';
import { evaluate, template } from '../../engine/expr/index.js';
import { FILTERS } from '../../engine/expr/filters.js';

const vars = {
  list1: [1, 2, 5, 1, 3, 4, 10],
  list2: [1, 2, 3, 4, 5, 11, 99],
  users: [
    { name: 'bob', age: 30, admin: true, groups: ['wheel', 'dev'] },
    { name: 'al', age: 19, admin: false, groups: ['dev'] },
    { name: 'cy', age: 25, admin: true, groups: [] },
  ],
  tags: { Application: 'payment', Environment: 'dev' },
  status: 'needs_restart',
  empty: '',
  nothing: null,
};

function check(rows: [string, unknown][]): void {
  it.each(rows)('%s', (expr, expected) => {
    expect(evaluate(expr, vars)).toEqual(expected);
  });
}

function failure(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('default / mandatory / ternary / type_debug', () => {
  check([
    ["undefined_var | default('x')", 'x'],
    ["undefined_var | d('x')", 'x'],
    ["empty | default('x')", ''],
    ["empty | default('x', true)", 'x'],
    ["nothing | default('x')", null],
    ["nothing | default('x', boolean=true)", 'x'],
    ['0 | default(5, true)', 5],
    ['undefined_var | default(omit) | length > 0', true],
    ["(status == 'needs_restart') | ternary('restart', 'continue')", 'restart'],
    ["false | ternary('yes', 'no')", 'no'],
    ["nothing | ternary('yes', 'no', 'null')", 'null'],
    ["[] | ternary('yes', 'no')", 'no'],
    ["'x' | type_debug", 'str'],
    ['1 | type_debug', 'int'],
    ['1.5 | type_debug', 'float'],
    ['true | type_debug', 'bool'],
    ['nothing | type_debug', 'NoneType'],
    ['users | type_debug', 'list'],
    ['tags | type_debug', 'dict'],
    ["'v' | mandatory", 'v'],
  ]);
});

describe('type conversions', () => {
  check([
    ["'yes' | bool", true],
    ["'on' | bool", true],
    ["'1' | bool", true],
    ["'TRUE' | bool", true],
    ['1 | bool', true],
    ["'no' | bool", false],
    ["'off' | bool", false],
    ["'y' | bool", false],
    ['nothing | bool', false],
    ['0 | bool', false],
    ['true | bool', true],
    ["'42' | int", 42],
    ["' 42 ' | int", 42],
    ["'42.7' | int", 42],
    ["'abc' | int", 0],
    ["'abc' | int(7)", 7],
    ["'0x1F' | int(0, 16)", 31],
    ["'0x1F' | int(base=16)", 31],
    ["'755' | int(base=8)", 493],
    ['3.99 | int', 3],
    ['true | int', 1],
    ["'3.5' | float", 3.5],
    ["'1e3' | float", 1000],
    ["'x' | float", 0],
    ["'x' | float(1.5)", 1.5],
    ['4 | float', 4],
    ['42 | string', '42'],
    ["[1, 'a'] | string", "[1, 'a']"],
    ["{'a': true} | string", "{'a': True}"],
    ['nothing | string', 'None'],
    ["'ab' | list", ['a', 'b']],
    ['tags | list', ['Application', 'Environment']],
    ['-3 | abs', 3],
    ['3.14159 | round(2)', 3.14],
    ['2.5 | round', 2],
    ['3.5 | round', 4],
    ["2.1 | round(0, 'ceil')", 3],
    ["2.9 | round(0, 'floor')", 2],
    ["[['a', 1], ['b', 2]] | dict", { a: 1, b: 2 }],
  ]);
});

describe('strings', () => {
  check([
    ["'Hello' | lower", 'hello'],
    ["'Hello' | upper", 'HELLO'],
    ["'hello wORLD' | capitalize", 'Hello world'],
    ["'hello world-wide (web)' | title", 'Hello World-Wide (Web)'],
    ["'  padded  ' | trim", 'padded'],
    ["'--x--' | trim('-')", 'x'],
    ["'a.b.c' | replace('.', '/')", 'a/b/c'],
    ["'aaa' | replace('a', 'b', 2)", 'bba'],
    ["'a,b,c' | split(',')", ['a', 'b', 'c']],
    ["'  one two\tthree ' | split", ['one', 'two', 'three']],
    ["'k=v=w' | split('=', 1)", ['k', 'v=w']],
    ["['a', 'b', 'c'] | join(',')", 'a,b,c'],
    ['[1, 2, 3] | join', '123'],
    ["users | join(', ', attribute='name')", 'bob, al, cy'],
    ["'abc' | center(9)", '   abc   '],
    ["'ab' | center(7)", '   ab  '],
    ["'one two  three' | wordcount", 3],
    ["'foo bar baz qux' | truncate(11)", 'foo bar baz qux'],
    ["'foo bar baz qux quux corge' | truncate(11)", 'foo bar...'],
    ["'foo bar baz qux quux corge' | truncate(11, true)", 'foo bar ...'],
    ["'foo bar baz qux quux corge' | truncate(9, false, '..', 0)", 'foo..'],
    ["'%s=%d' | format('port', 22)", 'port=22'],
    ["'line1\\nline2\\n\\nline4' | indent(2)", 'line1\n  line2\n\n  line4'],
    ["'line1\\nline2' | indent(2, true)", '  line1\n  line2'],
    ["'l1\\n\\nl3' | indent(4, blank=true)", 'l1\n    \n    l3'],
    ["'key: v\\n' | indent(2)", 'key: v\n'],
    ["'hello world' | quote", "'hello world'"],
    ["'safe-path_1.txt' | quote", 'safe-path_1.txt'],
    ['"it\'s" | quote', "'it'\"'\"'s'"],
    ["'' | quote", "''"],
    ["'<b>&' | escape", '&lt;b&gt;&amp;'],
    ["['a', 1] | pprint", "['a', 1]"],
  ]);
});

describe('comment', () => {
  check([
    ["'Plain style (default)' | comment", '#\n# Plain style (default)\n#'],
    ["'C style' | comment('c')", '//\n// C style\n//'],
    ["'C block style' | comment('cblock')", '/*\n *\n * C block style\n *\n */'],
    ["'Erlang style' | comment('erlang')", '%\n% Erlang style\n%'],
    ["'XML style' | comment('xml')", '<!--\n -\n - XML style\n -\n-->'],
    ["'two\\nlines' | comment", '#\n# two\n# lines\n#'],
    [
      "'Custom style' | comment('plain', prefix='#######\\n#', postfix='#\\n#######\\n   ###\\n    #')",
      '#######\n#\n# Custom style\n#\n#######\n   ###\n    #',
    ],
    ["'x' | comment(decoration='; ')", ';\n; x\n;'],
  ]);
});

describe('regular expressions (Python syntax)', () => {
  check([
    ["'ansible' | regex_replace('^a.*i(.*)$', 'a\\\\1')", 'able'],
    ["'foobar' | regex_replace('^f.*o(.*)$', '\\\\1')", 'bar'],
    ["'localhost:80' | regex_replace('^(?P<host>.+):(?P<port>\\\\d+)$', '\\\\g<host>, \\\\g<port>')", 'localhost, 80'],
    ["'localhost:80' | regex_replace(':80')", 'localhost'],
    ["'CAR\\ntar\\nfoo\\nbar\\n' | regex_replace('^(.ar)$', '#\\\\1', multiline=True, ignorecase=True)", '#CAR\n#tar\nfoo\n#bar\n'],
    ["'a-b-c' | regex_replace('-', '+', count=1)", 'a+b-c'],
    ["'dhcp-range=1' | regex_replace('^dhcp-range=(\\\\d)$', 'dhcp-range=\\\\g<1>0')", 'dhcp-range=10'],
    ["'server1/database42' | regex_search('database[0-9]+')", 'database42'],
    ["'ansible' | regex_search('foobar')", null],
    ["'foo\\nBAR' | regex_search('^bar', multiline=True, ignorecase=True)", 'BAR'],
    ["'server1/database42' | regex_search('server([0-9]+)/database([0-9]+)', '\\\\1', '\\\\2')", ['1', '42']],
    ["'21/42' | regex_search('(?P<dividend>[0-9]+)/(?P<divisor>[0-9]+)', '\\\\g<dividend>', '\\\\g<divisor>')", ['21', '42']],
    ["'Some DNS servers are 8.8.8.8 and 8.8.4.4' | regex_findall('\\\\b(?:[0-9]{1,3}\\\\.){3}[0-9]{1,3}\\\\b')", ['8.8.8.8', '8.8.4.4']],
    ["'CAR\\ntar\\nfoo\\nbar\\n' | regex_findall('^.ar$', multiline=True, ignorecase=True)", ['CAR', 'tar', 'bar']],
    [
      "'k1=v1 k2=v2' | regex_findall('(\\\\w+)=(\\\\w+)')",
      [
        ['k1', 'v1'],
        ['k2', 'v2'],
      ],
    ],
    ["'^f.*o(.*)$' | regex_escape", '\\^f\\.\\*o\\(\\.\\*\\)\\$'],
    ["'^f.*o(.*)$' | regex_escape('posix_basic')", '\\^f\\.\\*o(\\.\\*)\\$'],
    ["'trailing\\n' | regex_search('trailing$')", 'trailing'],
    ["'(?i)MiXeD' | regex_search('(?i)mixed')", 'MiXeD'],
    // Python's semantics where JavaScript's differ (one translation, engine/expr/regex.ts)
    ["'a\rb' | regex_search('a.b')", 'a\rb'],
    ["'a\r\nb' | regex_search('a$', multiline=True)", null],
    ["'a\nb' | regex_search('\\\\Ab', multiline=True)", null],
    ["'xab' | regex_search('(?x) a b  # comment')", 'ab'],
    ["'ab' | regex_search('a(?#note)b')", 'ab'],
    ["'a' | regex_replace('a', '<\\\\0>')", '<\0>'],
  ]);

  it('reports a replacement with a group the pattern does not have, as Python does', () => {
    expect(failure(() => evaluate("'a' | regex_replace('a', '\\\\2')", {})).message).toContain('invalid group reference 2');
  });

  it('reports an invalid pattern', () => {
    expect(failure(() => evaluate("'x' | regex_search('(')", {})).message).toContain('invalid regular expression');
  });
});

describe('lists', () => {
  check([
    ['list1 | length', 7],
    ['tags | count', 2],
    ["'abc' | length", 3],
    ['list1 | first', 1],
    ['list1 | last', 10],
    ['list1 | min', 1],
    ['list1 | max', 10],
    ["users | min(attribute='age') | attr('name')", 'al'],
    ["users | max(attribute='age') | attr('name')", 'bob'],
    ['list1 | sum', 26],
    ["users | sum(attribute='age')", 74],
    ['[[1, 2], [3]] | sum(start=[])', [1, 2, 3]],
    ['list1 | unique', [1, 2, 5, 3, 4, 10]],
    ["['a', 'A', 'b'] | unique", ['a', 'b']],
    ["['a', 'A', 'b'] | unique(case_sensitive=true)", ['a', 'A', 'b']],
    ["users | unique(attribute='admin') | map(attribute='name') | list", ['bob', 'al']],
    ['list1 | union(list2)', [1, 2, 5, 3, 4, 10, 11, 99]],
    ['list1 | intersect(list2)', [1, 2, 5, 3, 4]],
    ['list1 | difference(list2)', [10]],
    ['list1 | symmetric_difference(list2)', [10, 11, 99]],
    ['[3, 1, 2] | sort', [1, 2, 3]],
    ['[3, 1, 2] | sort(reverse=true)', [3, 2, 1]],
    ["['b', 'A', 'a', 'C'] | sort", ['A', 'a', 'b', 'C']],
    ["['b', 'A', 'a', 'C'] | sort(case_sensitive=true)", ['A', 'C', 'a', 'b']],
    ["users | sort(attribute='age') | map(attribute='name') | list", ['al', 'cy', 'bob']],
    ["users | sort(attribute='admin,name') | map(attribute='name') | list", ['al', 'bob', 'cy']],
    ['[1, 2, 3] | reverse | list', [3, 2, 1]],
    ["'abc' | reverse", 'cba'],
    ["users | map(attribute='name') | list", ['bob', 'al', 'cy']],
    ["users | map(attribute='missing', default='?') | list", ['?', '?', '?']],
    ["['a', 'b'] | map('upper') | list", ['A', 'B']],
    ["['1', '2'] | map('int') | list", [1, 2]],
    ["['a-b', 'c-d'] | map('replace', '-', '_') | list", ['a_b', 'c_d']],
    ["[[1, 2], [3, 4]] | map('first') | list", [1, 3]],
    ["list1 | select('odd') | list", [1, 5, 1, 3]],
    ["list1 | reject('odd') | list", [2, 4, 10]],
    ["list1 | select('gt', 3) | list", [5, 4, 10]],
    ["[0, 1, '', 'a', none] | select | list", [1, 'a']],
    ["users | selectattr('admin') | map(attribute='name') | list", ['bob', 'cy']],
    ["users | rejectattr('admin') | map(attribute='name') | list", ['al']],
    ["users | selectattr('age', 'ge', 25) | map(attribute='name') | list", ['bob', 'cy']],
    ["users | selectattr('name', 'equalto', 'al') | map(attribute='age') | first", 19],
    ["users | selectattr('name', 'in', ['al', 'cy']) | list | length", 2],
    ["users | selectattr('nope', 'defined') | list", []],
    ["users | groupby('admin') | map('first') | list", [false, true]],
    ["(users | groupby('admin'))[1][1] | map(attribute='name') | list", ['bob', 'cy']],
    ['[1, 2, 3, 4, 5] | batch(2) | list', [[1, 2], [3, 4], [5]]],
    [
      '[1, 2, 3] | batch(2, 0) | list',
      [
        [1, 2],
        [3, 0],
      ],
    ],
    ['[3, [4, 2]] | flatten', [3, 4, 2]],
    ['[3, [4, [2]]] | flatten(levels=1)', [3, 4, [2]]],
    ['[1, none, [2, none]] | flatten', [1, 2]],
    ['[1, none] | flatten(skip_nulls=false)', [1, null]],
    [
      "[1, 2, 3, 4, 5, 6] | zip(['a', 'b', 'c', 'd', 'e', 'f']) | list",
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
        [4, 'd'],
        [5, 'e'],
        [6, 'f'],
      ],
    ],
    [
      "[1, 2, 3] | zip(['a', 'b', 'c', 'd', 'e', 'f']) | list",
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ],
    ],
    [
      "[1, 2, 3] | zip_longest(['a', 'b', 'c', 'd'], [21, 22, 23], fillvalue='X') | list",
      [
        [1, 'a', 21],
        [2, 'b', 22],
        [3, 'c', 23],
        ['X', 'd', 'X'],
      ],
    ],
    ["['foo', 'bar'] | product(['com']) | map('join', '.') | join(',')", 'foo.com,bar.com'],
    [
      '[1, 2] | product(repeat=2) | list',
      [
        [1, 1],
        [1, 2],
        [2, 1],
        [2, 2],
      ],
    ],
    ['[1, 2, 3] | permutations(2) | list | length', 6],
    [
      '[1, 2, 3] | combinations(2) | list',
      [
        [1, 2],
        [1, 3],
        [2, 3],
      ],
    ],
    ["[0, 2] | map('extract', ['x', 'y', 'z']) | list", ['x', 'z']],
    ["['x', 'y'] | map('extract', {'x': 42, 'y': 31}) | list", [42, 31]],
    ["['a'] | map('extract', {'a': {'b': {'c': 1}}}, ['b', 'c']) | list", [1]],
    ["users | subelements('groups') | map('last') | list", ['wheel', 'dev', 'dev']],
    ["users | subelements('groups') | map('first') | map(attribute='name') | list", ['bob', 'bob', 'al']],
  ]);

  it('subelements reports a missing key unless skip_missing', () => {
    expect(failure(() => evaluate("[{'a': 1}] | subelements('groups')", {})).message).toContain("could not find 'groups'");
    expect(evaluate("[{'a': 1}] | subelements('groups', skip_missing=True)", {})).toEqual([]);
  });

  it('first of an empty list is undefined, default() rescues it', () => {
    expect(evaluate("[] | first | default('none')", {})).toBe('none');
    expect(failure(() => evaluate('[] | first', {})).code).toBe('E_UNDEFINED');
  });
});

describe('dictionaries', () => {
  check([
    [
      "{'a': 1, 'b': 2} | dict2items",
      [
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
      ],
    ],
    ["{'a': 1} | dict2items(key_name='file', value_name='path')", [{ file: 'a', path: 1 }]],
    [
      "[{'key': 'Application', 'value': 'payment'}, {'key': 'Environment', 'value': 'dev'}] | items2dict",
      { Application: 'payment', Environment: 'dev' },
    ],
    ["[{'fruit': 'apple', 'color': 'red'}] | items2dict(key_name='fruit', value_name='color')", { apple: 'red' }],
    ['tags | dict2items | items2dict', { Application: 'payment', Environment: 'dev' }],
    ["{'a': 1, 'b': 2} | combine({'b': 3})", { a: 1, b: 3 }],
    ["{'a': {'foo': 1, 'bar': 2}, 'b': 2} | combine({'a': {'bar': 3, 'baz': 4}})", { a: { bar: 3, baz: 4 }, b: 2 }],
    ["{'a': {'foo': 1, 'bar': 2}, 'b': 2} | combine({'a': {'bar': 3, 'baz': 4}}, recursive=True)", { a: { foo: 1, bar: 3, baz: 4 }, b: 2 }],
    ["{'a': 1} | combine({'b': 2}, {'c': 3})", { a: 1, b: 2, c: 3 }],
    ["[{'a': 1}, {'a': 2}] | combine", { a: 2 }],
    ["{'a': ['default']} | combine({'a': ['patch']}, list_merge='append')", { a: ['default', 'patch'] }],
    ["{'a': ['default']} | combine({'a': ['patch']}, list_merge='prepend')", { a: ['patch', 'default'] }],
    ["{'a': ['default']} | combine({'a': ['patch']}, list_merge='keep')", { a: ['default'] }],
    ["{'a': [1, 1, 2, 3]} | combine({'a': [3, 4, 5, 5]}, list_merge='append_rp')", { a: [1, 1, 2, 3, 4, 5, 5] }],
    ["{'a': [1, 1, 2, 3]} | combine({'a': [3, 4, 5, 5]}, list_merge='prepend_rp')", { a: [3, 4, 5, 5, 1, 1, 2] }],
    [
      "{'b': 1, 'a': 2} | dictsort",
      [
        ['a', 2],
        ['b', 1],
      ],
    ],
    [
      "{'b': 1, 'a': 2} | dictsort(by='value')",
      [
        ['b', 1],
        ['a', 2],
      ],
    ],
    [
      "{'b': 1, 'a': 2} | items | list",
      [
        ['b', 1],
        ['a', 2],
      ],
    ],
  ]);

  it('dict2items refuses a list', () => {
    expect(failure(() => evaluate('[1] | dict2items', {})).message).toBe(
      'template error: dict2items requires a dictionary, got list instead.',
    );
  });

  it('does not modify its input', () => {
    const base = { a: { x: 1 } };
    evaluate("base | combine({'a': {'y': 2}}, recursive=True)", { base });
    expect(base).toEqual({ a: { x: 1 } });
  });
});

describe('data formats', () => {
  const data = { b: 1, a: [1, 2], é: 'ü' };
  it.each([
    ['d | to_json', '{"b": 1, "a": [1, 2], "\\u00e9": "\\u00fc"}'],
    ['d | to_json(sort_keys=true)', '{"a": [1, 2], "b": 1, "\\u00e9": "\\u00fc"}'],
    ['d | to_json(ensure_ascii=false)', '{"b": 1, "a": [1, 2], "é": "ü"}'],
    ['d | to_nice_json', '{\n    "a": [\n        1,\n        2\n    ],\n    "b": 1,\n    "\\u00e9": "\\u00fc"\n}'],
    ['d | to_nice_json(indent=2)', '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1,\n  "\\u00e9": "\\u00fc"\n}'],
    ['{} | to_nice_json', '{}'],
    [
      "{'a': 1, 'b': [1, 2], 'c': {'d': 'x', 'e': 'yes'}, 'f': [{'g': 1}]} | to_yaml",
      "a: 1\nb: [1, 2]\nc: {d: x, e: 'yes'}\nf:\n- {g: 1}\n",
    ],
    ["{'a': [1, 2], 'c': {'d': [{'x': 1, 'y': 2}]}} | to_nice_yaml", 'a:\n- 1\n- 2\nc:\n    d:\n    -   x: 1\n        y: 2\n'],
    [
      "{'a': [1, 2], 'c': {'d': [{'x': 1, 'y': 2}, [3, [4]]]}} | to_nice_yaml(indent=2)",
      'a:\n- 1\n- 2\nc:\n  d:\n  - x: 1\n    y: 2\n  - - 3\n    - - 4\n',
    ],
    [
      "{'e': '', 'n': none, 'num': '123', 'q': \"it's\", 't': true, 'y': 'n'} | to_nice_yaml",
      "e: ''\nn: null\nnum: '123'\nq: it's\nt: true\ny: n\n",
    ],
    ["'abc' | to_yaml", 'abc\n...\n'],
  ])('%s', (expr, expected) => {
    expect(evaluate(expr, { d: data })).toBe(expected);
  });

  check([
    ['\'{"a": [1, 2], "b": null}\' | from_json', { a: [1, 2], b: null }],
    ["'a: 1\\nb: [x, y]\\nc: yes\\nn: n' | from_yaml", { a: 1, b: ['x', 'y'], c: true, n: 'n' }],
    ["'a: 1\\n---\\na: 2\\n' | from_yaml_all", [{ a: 1 }, { a: 2 }]],
    ["{'k': [1, 'two']} | to_nice_yaml | from_yaml", { k: [1, 'two'] }],
    ["{'k': 'multi\\nline\\n'} | to_yaml | from_yaml", { k: 'multi\nline\n' }],
  ]);

  it('reports invalid JSON', () => {
    expect(failure(() => evaluate("'{bad' | from_json", {})).message).toContain('from_json');
  });
});

describe('encoding, hashing, paths and sizes', () => {
  check([
    ["'hello' | b64encode", 'aGVsbG8='],
    ["'aGVsbG8=' | b64decode", 'hello'],
    ["'ünï' | b64encode | b64decode", 'ünï'],
    ["'test1' | hash('sha1')", 'b444ac06613fc8d63795be9ad0beaf55011936ac'],
    ["'test1' | hash('md5')", '5a105e8b9d40e1329780d62ea2265d8a'],
    ["'test1' | hash", 'b444ac06613fc8d63795be9ad0beaf55011936ac'],
    ["'test1' | checksum", 'b444ac06613fc8d63795be9ad0beaf55011936ac'],
    ["'test1' | md5", '5a105e8b9d40e1329780d62ea2265d8a'],
    ["'test1' | hash('sha256')", '1b4f0e9851971998e732078544c96b36c3d01cedf7caa332359d6f1d83567014'],
    ["'www.example.com' | to_uuid", '69680a13-a686-5d20-a166-0e7b3b17ef84'],
    ["'/etc/asdf/foo.txt' | basename", 'foo.txt'],
    ["'/etc/asdf/foo.txt' | dirname", '/etc/asdf'],
    ["'nginx.conf' | splitext", ['nginx', '.conf']],
    ["['/etc', 'subdir', 'file'] | path_join", '/etc/subdir/file'],
    ["['/etc', '/root', 'x'] | path_join", '/root/x'],
    ['1 | human_readable', '1.00 Bytes'],
    ['10240 | human_readable', '10.00 KB'],
    ['134217728 | human_readable', '128.00 MB'],
    ["1024 | human_readable(unit='M')", '0.00 MB'],
    ["'0.9M' | human_to_bytes", 943718],
    ["'10 MB' | human_to_bytes", 10485760],
    ["'2' | human_to_bytes(default_unit='K')", 2048],
    ["'http://user:pw@www.acme.com:9000/dir/index.html?query=term#frag' | urlsplit('hostname')", 'www.acme.com'],
    ["'http://user:pw@www.acme.com:9000/dir/index.html?query=term#frag' | urlsplit('port')", 9000],
    ["'http://www.acme.com/dir/index.html?query=term' | urlsplit('query')", 'query=term'],
    ["{'a': 'b c', 'd': 1} | urlencode", 'a=b%20c&d=1'],
    ["'%Y-%m-%d %H:%M:%S' | strftime(0, utc=true)", '1970-01-01 00:00:00'],
    ["'%j %a %b %s' | strftime(86400 * 40, utc=true)", '041 Tue Feb 3456000'],
  ]);

  it('expanduser uses the home directory of the controller', () => {
    expect(evaluate("'~/.ssh/id_ed25519' | expanduser", {})).toBe(`${homedir()}/.ssh/id_ed25519`);
  });

  it('applies filters inside a rendered string too', () => {
    // a literal's backslashes in playbook data are kept as written (Ansible doubles them first):
    // one backslash is the regex's \d, two are a backslash the regex must match
    expect(template("addr={{ '10.0.0.1/24' | regex_replace('/\\d+$', '') }}", {})).toBe('addr=10.0.0.1');
    expect(template("addr={{ '10.0.0.1/24' | regex_replace('/\\\\d+$', '') }}", {})).toBe('addr=10.0.0.1/24');
  });
});

describe('ansible.utils.ipwrap', () => {
  it('brackets IPv6 addresses and networks (normalized as netaddr prints them), leaves the rest', () => {
    const input = [
      '2001:DB8::1',
      '2001:db8:0:0:1:0:0:1',
      '2001:db8::/64',
      '2001:db8::1/64',
      '192.168.001.1',
      'example.com',
      '::',
      'fe80::1%eth0',
      '::ffff:1.2.3.4',
      '::1.2.3.4',
      '1:0:1:1:1:1:1:1',
      '10.0.0.0/8',
      '2001:db8::1/129',
      '1.2.3.4/08',
      '[::1]',
      '',
      5,
    ];
    expect(template('{{ input | ansible.utils.ipwrap }}', { input })).toEqual([
      '[2001:db8::1]',
      '[2001:db8::1:0:0:1]',
      '[2001:db8::]/64',
      '[2001:db8::1]/64',
      '192.168.1.1',
      'example.com',
      '[::]',
      'fe80::1%eth0',
      '[::ffff:1.2.3.4]',
      '[::1.2.3.4]',
      '[1:0:1:1:1:1:1:1]',
      '10.0.0.0/8',
      '2001:db8::1/129',
      '1.2.3.4/08',
      '[::1]',
      '',
      '0.0.0.5/32',
    ]);
    expect(template("{{ '::1' | ipwrap }}:6443", {})).toBe('[::1]:6443');
    expect(() => template('{{ 5 | ipwrap }}', {})).toThrow(/Unrecognized type <<class 'int'>> for ipwrap filter/);
  });
});

describe('to_datetime / urlize', () => {
  check([
    ["(('2016-08-14 20:00:12' | to_datetime) - ('2015-12-25' | to_datetime('%Y-%m-%d'))).days", 233],
    ["(('2016-08-14 20:00:12' | to_datetime) - ('2016-08-13 18:00:00' | to_datetime)).total_seconds()", 93612],
    ["(('2016-08-14 20:00:12' | to_datetime) - ('2016-08-14 20:00:12.5' | to_datetime('%Y-%m-%d %H:%M:%S.%f'))).total_seconds()", -0.5],
    ["(('2016-08-14 20:00:12' | to_datetime) - ('2016-08-16 21:30:00' | to_datetime)) | string", '-3 days, 22:30:12'],
    [
      "('2016-08-14 20:00:12' | to_datetime) - ('2016-08-16 21:30:00' | to_datetime) < ('2016-08-14' | to_datetime('%Y-%m-%d')) - ('2016-08-13' | to_datetime('%Y-%m-%d'))",
      true,
    ],
    ["('2016-08-14 20:00:12' | to_datetime).strftime('%d.%m.%Y')", '14.08.2016'],
    [
      "['2016-02-01 00:00:00' | to_datetime, '2016-01-01 00:00:00' | to_datetime] | sort | map('string') | list",
      ['2016-01-01 00:00:00', '2016-02-01 00:00:00'],
    ],
    ["('29 Feb 2016' | to_datetime('%d %b %Y')).month", 2],
    ["'www.example.org' | urlize", '<a href="https://www.example.org" rel="noopener">www.example.org</a>'],
    ["'a <b> & c' | urlize", 'a &lt;b&gt; &amp; c'],
  ]);

  it('subtracts now() (local, naive) and a parsed datetime by wall clock, as Python does', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(evaluate("((now() - (now().strftime('%Y-%m-%d %H:%M:%S') | to_datetime)).total_seconds() | abs) < 2", vars)).toBe(true);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('fails as strptime does', () => {
    expect(failure(() => evaluate("'2016-13-14' | to_datetime('%Y-%m-%d')", vars)).message).toContain(
      "time data '2016-13-14' does not match format '%Y-%m-%d'",
    );
    expect(failure(() => evaluate("'2015-02-29' | to_datetime('%Y-%m-%d')", vars)).message).toContain('day is out of range for month');
    expect(failure(() => evaluate("'x' | urlize(extra_schemes=['no scheme'])", vars)).message).toContain(
      'is not a valid URI scheme prefix',
    );
  });
});

// Every builtin filter of Jinja2 3.1 (jinja2.filters.FILTERS) and ansible-core 2.14 (the filter
// plugins core, mathstuff, urls, urlsplit, encryption), as their Python modules list them.
const JINJA2_FILTERS = (
  'abs attr batch capitalize center count d default dictsort e escape filesizeformat first float ' +
  'forceescape format groupby indent int items join last length list lower map max min pprint ' +
  'random reject rejectattr replace reverse round safe select selectattr slice sort string ' +
  'striptags sum title tojson trim truncate unique upper urlencode urlize wordcount wordwrap ' +
  'xmlattr '
)
  .trim()
  .split(' ');
const ANSIBLE_FILTERS = (
  'b64decode b64encode basename bool checksum combinations combine comment dict2items difference ' +
  'dirname expanduser expandvars extract fileglob flatten from_json from_yaml from_yaml_all hash ' +
  'human_readable human_to_bytes intersect items2dict log mandatory md5 password_hash path_join ' +
  'permutations pow product quote random realpath regex_escape regex_findall regex_replace ' +
  'regex_search rekey_on_member relpath root sha1 shuffle split splitext strftime subelements ' +
  'symmetric_difference ternary to_datetime to_json to_nice_json to_nice_yaml to_uuid to_yaml ' +
  'type_debug union unique unvault urldecode urlsplit vault win_basename win_dirname win_splitdrive ' +
  'zip zip_longest '
)
  .trim()
  .split(' ');

describe('builtin filters', () => {
  it('has every filter Jinja2 3.1 and ansible-core 2.14 ship', () => {
    expect([...JINJA2_FILTERS, ...ANSIBLE_FILTERS].filter((n) => !FILTERS[n])).toEqual([]);
  });
});
