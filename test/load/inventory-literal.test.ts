import { describe, expect, it } from 'vitest';
import { iniValue, pyLiteral, shlexSplit } from '../../engine/expr/py-literal.js';

describe('iniValue (ast.literal_eval, else the text)', () => {
  it.each([
    ['2222', 2222],
    ['-5', -5],
    ['+5', 5],
    ['0', 0],
    ['00', 0],
    ['1_000', 1000],
    ['0x1F', 31],
    ['0o755', 493],
    ['0b101', 5],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1.', 1],
    ['1e3', 1000],
    ['01.5', 1.5],
    ['True', true],
    ['False', false],
    ['None', null],
    ["'a b'", 'a b'],
    ['"a b"', 'a b'],
    ["'5'", '5'],
    ["'a' 'b'", 'ab'],
    ["'tab\\there'", 'tab\there'],
    ["'\\x41\\u00e9\\101'", 'Aé\u0041'],
    ["r'\\d+'", '\\d+'],
    ["b'bytes'", 'bytes'],
    ["u'unicode'", 'unicode'],
    ['"""triple"""', 'triple'],
    ["'unknown \\q escape'", 'unknown \\q escape'],
    ['[1, 2, 3]', [1, 2, 3]],
    ["['sda', 'sdb',]", ['sda', 'sdb']],
    ['[]', []],
    ['(1, 2)', [1, 2]],
    ['(1,)', [1]],
    ['()', []],
    ['(5)', 5],
    ['80, 443', [80, 443]],
    ['{1, 2}', [1, 2]],
    ['set()', []],
    ["{'a': 1, 'b': [True, None]}", { a: 1, b: [true, null] }],
    ['{}', {}],
    ['{1: "one"}', { 1: 'one' }],
    ['8080 # a comment', 8080],
    ['  7', 7],
    ['1j', '1j'],
    ['1+2j', '(1+2j)'],
    ['...', '...'],
  ])('%s -> %j', (text, value) => {
    expect(iniValue(text)).toEqual(value);
  });

  it.each([
    'dc:a6:32:00:00:01',
    '10.0.0.11',
    '192.168.1.0/24',
    '0022',
    '1.2.3',
    'yes',
    'true',
    'FALSE',
    'none',
    'null',
    'a b',
    'foo',
    '-J pi@gateway',
    '5abc',
    '1__0',
    '0x',
    '1e',
    '--5',
    '-True',
    '1+2',
    '1j+1',
    '[1, 2][0]',
    "'a'.upper()",
    "f'x'",
    "'unclosed",
    "'a' b'b'",
    '{**x}',
    '[1, 2',
    'set(1)',
    "'\\x4'",
    '',
    'x=1',
    'abc#def',
  ])('%j stays a string', (text) => {
    expect(pyLiteral(text)).toBeUndefined();
    expect(iniValue(text)).toBe(text);
  });
});

describe('shlexSplit (shlex.split with comments)', () => {
  it.each([
    ['h a=1 b=2', ['h', 'a=1', 'b=2']],
    ['h foo="a b"', ['h', 'foo=a b']],
    ['h foo=\'a "b"\'', ['h', 'foo=a "b"']],
    ['h foo="\'03#pa33w0rd\'"', ['h', "foo='03#pa33w0rd'"]],
    ['h pass=abc#def ghi', ['h', 'pass=abc']],
    ['h # comment a=1', ['h']],
    ['h x="" y=1', ['h', 'x=', 'y=1']],
    ['h a=b\\ c', ['h', 'a=b c']],
    ['h a="q\\"uote\\n"', ['h', 'a=q"uote\\n']],
    ['  h\t a=1  ', ['h', 'a=1']],
  ])('%s', (line, tokens) => {
    expect(shlexSplit(line)).toEqual(tokens);
  });

  it('rejects an unclosed quote', () => {
    expect(() => shlexSplit('h a="b')).toThrow('No closing quotation');
  });
});
