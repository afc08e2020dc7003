// Jinja2 and Ansible tests (`x is defined`, `result is changed`, `v is version('12', '>=')`).
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../engine/errors.js';
import { evalCondition, evaluate } from '../../engine/expr/index.js';

const vars = {
  changed_result: { changed: true, failed: false, rc: 0 },
  failed_result: { changed: false, failed: true, rc: 2, msg: 'boom' },
  skipped_result: { changed: false, skipped: true },
  loop_result: { results: [{ changed: false }, { changed: true }], msg: 'All items completed' },
  unreachable_result: { unreachable: true, msg: 'timed out' },
  distro_version: '12.4',
  kernel: '6.1.0-18-amd64',
  url: 'https://example.com/users/alice/resources/42',
  nums: [1, 2, 3, 4, 5],
  small: [2, 3],
  nothing: null,
  text: 'Hello',
};

function check(rows: [string, boolean][]): void {
  it.each(rows)('%s', (expr, expected) => {
    expect(evaluate(expr, vars)).toBe(expected);
  });
}

describe('definedness and types', () => {
  check([
    ['text is defined', true],
    ['missing is defined', false],
    ['missing is undefined', true],
    ['text is undefined', false],
    ['missing.deeper is defined', false],
    ['nothing is none', true],
    ['text is none', false],
    ['missing is none', false],
    ['text is string', true],
    ['1 is string', false],
    ['1 is number', true],
    ['1.5 is number', true],
    ['1 is integer', true],
    ['1.5 is integer', false],
    ['1.5 is float', true],
    ['true is boolean', true],
    ['1 is boolean', false],
    ['vars is mapping', true],
    ['nums is mapping', false],
    ['nums is sequence', true],
    ['text is sequence', true],
    ['nums is iterable', true],
    ['5 is iterable', false],
    ['lookup is callable', true],
    ['missing is string', false],
  ]);
});

describe('comparisons and membership', () => {
  check([
    ['2 is eq 2', true],
    ['2 is equalto 2', true],
    ["'2' is eq 2", false],
    ['2 is ne 3', true],
    ['2 is lt 3', true],
    ['3 is le 3', true],
    ['4 is gt 3', true],
    ['3 is ge 4', false],
    ['2 is in nums', true],
    ['9 is in nums', false],
    ["'ell' is in 'hello'", true],
    ['small is subset(nums)', true],
    ['nums is subset(small)', false],
    ['nums is superset(small)', true],
    ['nums is contains(3)', true],
    ['[true, false] is any', true],
    ['[true, false] is all', false],
    ['4 is divisibleby 2', true],
    ['4 is divisibleby(3)', false],
    ['3 is odd', true],
    ['4 is even', true],
    ["'abc' is lower", true],
    ["'ABC' is upper", true],
    ['nothing is sameas none', true],
    ['1 is sameas true', false],
    ["'' is falsy", true],
    ["'x' is truthy", true],
    ["'no' is truthy", true],
    ["'no' is truthy(convert_bool=True)", false],
    ["'yes' is falsy(convert_bool=True)", false],
  ]);
});

describe('regular expressions', () => {
  check([
    ["url is match('https://example.com/users/.*/resources')", true],
    ["url is match('users')", false],
    ["url is search('users/.*/resources/\\\\d+')", true],
    ["url is search('USERS', ignorecase=true)", true],
    ["url is regex('example\\\\.(com|org)')", true],
    ["url is regex('^https', match_type='match')", true],
    ["'a\\nb' is search('^b$', multiline=true)", true],
    ["'a\\nb' is search('^b$')", false],
  ]);
});

describe('task results', () => {
  check([
    ['changed_result is changed', true],
    ['failed_result is changed', false],
    ['loop_result is changed', true],
    ['changed_result is succeeded', true],
    ['changed_result is success', true],
    ['failed_result is failed', true],
    ['failed_result is succeeded', false],
    ['changed_result is failed', false],
    ['skipped_result is skipped', true],
    ['changed_result is skipped', false],
    ['unreachable_result is unreachable', true],
    ['changed_result is reachable', true],
    ['changed_result is not failed and changed_result.rc == 0', true],
  ]);

  it('needs a registered result', () => {
    expect(() => evaluate("'text' is changed", {})).toThrow(UserError);
    expect(() => evaluate("'text' is changed", {})).toThrow(/expects a dictionary/);
  });

  it('works in when-style conditions', () => {
    expect(evalCondition(['changed_result is changed', 'failed_result is failed'], vars)).toBe(true);
  });
});

describe('version', () => {
  check([
    ["distro_version is version('12', '>=')", true],
    ["distro_version is version('12.10', '<')", true],
    ["distro_version is version('12.4', '==')", true],
    ["distro_version is version('12.4')", true],
    ["distro_version is version('13', 'lt')", true],
    ["distro_version is version('12.4.0', 'ne')", true],
    ["kernel is version('5.10', 'gt')", true],
    ["'1.10' is version('1.9', '>')", true],
    ["'2.0' is version('1.0', operator='gt', strict=true)", true],
    ["'2.0.0-rc.1' is version('2.0.0', 'lt', version_type='semver')", true],
    ["'2.0.0-rc.1' is version('1.0.0', 'gt', version_type='semver')", true],
    ["'1.0.0-alpha' is version('1.0.0-alpha.1', 'lt', version_type='semver')", true],
    ["'2.14.1' is version_compare('2.9', '>=')", true],
  ]);

  it('rejects bad operators and strict versions', () => {
    expect(() => evaluate("'1.0' is version('1.0', 'bigger')", {})).toThrow(/invalid operator 'bigger'/);
    expect(() => evaluate("'1.0.0.1' is version('1.0', '>', strict=true)", {})).toThrow(/invalid version number/);
    expect(() => evaluate("'' is version('1.0', '>')", {})).toThrow(/empty version/);
  });
});

describe('controller paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-tests-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'file.txt'), 'x');
  symlinkSync(join(dir, 'file.txt'), join(dir, 'link'));
  const paths = { dir, file: join(dir, 'file.txt'), link: join(dir, 'link'), absent: join(dir, 'absent') };

  it.each([
    ['file is file', true],
    ['dir is file', false],
    ['dir is directory', true],
    ['file is directory', false],
    ['file is exists', true],
    ['absent is exists', false],
    ['link is link', true],
    ['file is link', false],
    ['file is abs', true],
    ["'relative/x' is abs", false],
  ])('%s', (expr, expected) => {
    expect(evaluate(expr, paths)).toBe(expected);
  });
});

describe('true, false, filter, test and the Ansible aliases', () => {
  check([
    ['nothing is false', false],
    ['(nums | length == 5) is true', true],
    ['0 is false', false],
    ['false is false', true],
    ['missing is false', false],
    ['1 is true', false],
    ["'upper' is filter", true],
    ["'ansible.builtin.to_json' is filter", true],
    ["'nope' is filter", false],
    ["'version' is test", true],
    ['small is issubset(nums)', true],
    ['nums is issuperset(small)', true],
    ["'/' is is_mount", true],
  ]);
});
