// INI inventory values as Ansible reads them: a host line is split like Python's shlex.split (quotes
// removed, `#` starts a comment), and each value goes through ast.literal_eval, falling back to the
// plain string when it is not a Python literal (`mac=dc:a6:32:00:00:01`, `ip=10.0.0.11`).

/** Python's shlex.split(line, comments=True) in POSIX mode; throws Error on an unclosed quote. */
export function shlexSplit(line: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let quoted = false;
  let inToken = false;
  let i = 0;
  const emit = () => {
    if (inToken || quoted) tokens.push(token);
    token = '';
    quoted = false;
    inToken = false;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      emit();
      i++;
    } else if (c === '#') {
      emit();
      const nl = line.indexOf('\n', i);
      i = nl < 0 ? line.length : nl + 1;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error('No escaped character');
      token += line[i + 1];
      inToken = true;
      i += 2;
    } else if (c === "'" || c === '"') {
      quoted = true;
      inToken = true;
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('No closing quotation');
        const q = line[i]!;
        if (q === c) {
          i++;
          break;
        }
        if (c === '"' && q === '\\' && i + 1 < line.length) {
          const n = line[i + 1]!;
          token += n === '"' || n === '\\' ? n : `\\${n}`;
          i += 2;
          continue;
        }
        token += q;
        i++;
      }
    } else {
      token += c;
      inToken = true;
      i++;
    }
  }
  emit();
  return tokens;
}

/** An INI inventory value: the Python literal it spells (lists, dicts, numbers, True/None, 'quoted'), else the text itself. */
export function iniValue(text: string): unknown {
  const r = pyLiteral(text);
  return r === undefined ? text : r.value;
}

/** Python's ast.literal_eval, or undefined when the text is not a literal (where Ansible keeps the string). */
export function pyLiteral(text: string): { value: unknown } | undefined {
  try {
    const p = new LiteralParser(text.replace(/^[ \t]+/, ''));
    const node = p.parseTop();
    return { value: convert(node) };
  } catch (e) {
    if (e instanceof NotLiteral) return undefined;
    throw e;
  }
}

class NotLiteral extends Error {}

type Complex = { re: number; im: number };
type PyNode =
  | { kind: 'int' | 'float'; value: number }
  | { kind: 'complex'; value: Complex }
  | { kind: 'str'; value: string }
  | { kind: 'bytes'; value: number[] }
  | { kind: 'const'; value: boolean | null | '...' }
  | { kind: 'list' | 'tuple' | 'set'; items: PyNode[] }
  | { kind: 'dict'; keys: PyNode[]; values: PyNode[] }
  | { kind: 'unary'; op: '+' | '-'; operand: PyNode }
  | { kind: 'binop'; op: '+' | '-'; left: PyNode; right: PyNode };

const fail = (): never => {
  throw new NotLiteral();
};

// Recursive descent over the part of Python's expression grammar that literal_eval accepts; any
// other syntax (names, calls, operators) is "not a literal", which is all the caller needs to know.
class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseTop(): PyNode {
    this.ws();
    const first = this.expr();
    this.ws();
    let node = first;
    if (this.peek() === ',') {
      const items = [first];
      while (this.eat(',')) {
        this.ws();
        if (this.i >= this.s.length) break;
        items.push(this.expr());
        this.ws();
      }
      node = { kind: 'tuple', items };
    }
    this.ws();
    if (this.i < this.s.length) fail();
    return node;
  }

  private peek(): string | undefined {
    return this.s[this.i];
  }

  private eat(c: string): boolean {
    if (this.s.startsWith(c, this.i)) {
      this.i += c.length;
      return true;
    }
    return false;
  }

  // Whitespace and `# comments`; newlines only matter inside brackets, where Python allows them.
  private ws(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\f' || c === '\n' || c === '\r') this.i++;
      else if (c === '\\' && this.s[this.i + 1] === '\n') this.i += 2;
      else if (c === '#') {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      } else return;
    }
  }

  private expr(): PyNode {
    let left = this.unary();
    this.ws();
    while (this.peek() === '+' || this.peek() === '-') {
      const op = this.s[this.i++] as '+' | '-';
      this.ws();
      const right = this.unary();
      left = { kind: 'binop', op, left, right };
      this.ws();
    }
    const c = this.peek();
    if (c !== undefined && !',:)]}'.includes(c)) fail();
    return left;
  }

  private unary(): PyNode {
    const c = this.peek();
    if (c === '+' || c === '-') {
      this.i++;
      this.ws();
      return { kind: 'unary', op: c, operand: this.unary() };
    }
    return this.atom();
  }

  private atom(): PyNode {
    const c = this.peek();
    if (c === undefined) return fail();
    if (c === '(') return this.group();
    if (c === '[') return this.list();
    if (c === '{') return this.braces();
    if (this.s.startsWith('...', this.i)) {
      this.i += 3;
      return { kind: 'const', value: '...' };
    }
    if (/[0-9.]/.test(c)) return this.number();
    if (/^[rRuUbBfF]{0,2}['"]/.test(this.s.slice(this.i))) return this.strings();
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (!name) return fail();
    this.i += name[0].length;
    if (name[0] === 'True') return { kind: 'const', value: true };
    if (name[0] === 'False') return { kind: 'const', value: false };
    if (name[0] === 'None') return { kind: 'const', value: null };
    if (name[0] === 'set') {
      this.ws();
      if (this.eat('(')) {
        this.ws();
        if (this.eat(')')) return { kind: 'set', items: [] };
      }
    }
    return fail();
  }

  private group(): PyNode {
    this.i++;
    this.ws();
    if (this.eat(')')) return { kind: 'tuple', items: [] };
    const first = this.expr();
    this.ws();
    if (this.eat(')')) return first;
    const items = [first];
    while (this.eat(',')) {
      this.ws();
      if (this.eat(')')) return { kind: 'tuple', items };
      items.push(this.expr());
      this.ws();
    }
    if (!this.eat(')')) fail();
    return { kind: 'tuple', items };
  }

  private list(): PyNode {
    this.i++;
    const items: PyNode[] = [];
    this.ws();
    while (!this.eat(']')) {
      items.push(this.expr());
      this.ws();
      if (this.eat(']')) break;
      if (!this.eat(',')) fail();
      this.ws();
    }
    return { kind: 'list', items };
  }

  private braces(): PyNode {
    this.i++;
    this.ws();
    if (this.eat('}')) return { kind: 'dict', keys: [], values: [] };
    const first = this.expr();
    this.ws();
    if (this.eat(':')) {
      const keys = [first];
      const values: PyNode[] = [];
      this.ws();
      values.push(this.expr());
      this.ws();
      while (this.eat(',')) {
        this.ws();
        if (this.peek() === '}') break;
        keys.push(this.expr());
        this.ws();
        if (!this.eat(':')) fail();
        this.ws();
        values.push(this.expr());
        this.ws();
      }
      if (!this.eat('}')) fail();
      return { kind: 'dict', keys, values };
    }
    const items = [first];
    while (this.eat(',')) {
      this.ws();
      if (this.peek() === '}') break;
      items.push(this.expr());
      this.ws();
    }
    if (!this.eat('}')) fail();
    return { kind: 'set', items };
  }

  private number(): PyNode {
    const rest = this.s.slice(this.i);
    const digits = '[0-9](?:_?[0-9])*';
    const exp = `[eE][+-]?${digits}`;
    const forms: Array<[RegExp, (m: string) => PyNode]> = [
      [/^0[xX](?:_?[0-9a-fA-F])+/, intNode],
      [/^0[oO](?:_?[0-7])+/, intNode],
      [/^0[bB](?:_?[01])+/, intNode],
      [new RegExp(`^(?:(?:${digits})?\\.${digits}|${digits}\\.)(?:${exp})?[jJ]?|^${digits}${exp}[jJ]?|^${digits}[jJ]`), floatOrImag],
      [/^(?:[1-9](?:_?[0-9])*|0(?:_?0)*)/, intNode],
    ];
    for (const [re, build] of forms) {
      const m = re.exec(rest);
      if (!m) continue;
      const after = rest[m[0].length];
      if (after !== undefined && /[A-Za-z0-9_.]/.test(after)) fail();
      this.i += m[0].length;
      return build(m[0]);
    }
    return fail();
  }

  // Adjacent string literals concatenate ('a' "b" == 'ab'); str and bytes may not be mixed, and an
  // f-string is an expression, not a literal.
  private strings(): PyNode {
    let text: string | undefined;
    let bytes: number[] | undefined;
    for (;;) {
      const m = /^([rRuUbBfF]{0,2})('''|"""|'|")/.exec(this.s.slice(this.i));
      if (!m) break;
      const prefix = m[1]!.toLowerCase();
      if (!['', 'r', 'u', 'b', 'br', 'rb'].includes(prefix)) fail();
      this.i += m[0].length;
      const body = this.stringBody(m[2]!);
      if (prefix.includes('b')) {
        if (text !== undefined) fail();
        bytes = [...(bytes ?? []), ...bytesOf(body, prefix.includes('r'))];
      } else {
        if (bytes !== undefined) fail();
        text = (text ?? '') + (prefix.includes('r') ? body : unescape(body));
      }
      this.ws();
    }
    return bytes !== undefined ? { kind: 'bytes', value: bytes } : { kind: 'str', value: text! };
  }

  private stringBody(quote: string): string {
    let body = '';
    for (;;) {
      if (this.i >= this.s.length) fail();
      if (this.s.startsWith(quote, this.i)) {
        this.i += quote.length;
        return body;
      }
      const c = this.s[this.i]!;
      if (c === '\n' && quote.length === 1) fail();
      if (c === '\\') {
        if (this.i + 1 >= this.s.length) fail();
        body += c + this.s[this.i + 1];
        this.i += 2;
        continue;
      }
      body += c;
      this.i++;
    }
  }
}

// Python ints are unbounded; beyond 2**53 the value is rounded like any JavaScript number.
function intNode(text: string): PyNode {
  return { kind: 'int', value: Number(BigInt(text.replace(/_/g, ''))) };
}

function floatOrImag(text: string): PyNode {
  const imag = /[jJ]$/.test(text);
  const n = Number(text.replace(/[jJ]$/, '').replace(/_/g, ''));
  return imag ? { kind: 'complex', value: { re: 0, im: n } } : { kind: 'float', value: n };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

// Python's escape sequences in a non-raw str literal; unknown escapes keep their backslash.
function unescape(body: string): string {
  return body.replace(/\\(?:([0-7]{1,3})|x(.{0,2})|u(.{0,4})|U(.{0,8})|N\{[^}]*\}|([\s\S]))/g, (all, oct, x, u, U, simple) => {
    if (oct !== undefined) return String.fromCodePoint(parseInt(oct, 8));
    const hex = x ?? u ?? U;
    if (hex !== undefined) {
      const want = x !== undefined ? 2 : u !== undefined ? 4 : 8;
      if (hex.length !== want || !/^[0-9a-fA-F]+$/.test(hex)) fail();
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) fail();
      return String.fromCodePoint(cp);
    }
    if (simple === undefined) return fail();
    return SIMPLE_ESCAPES[simple] ?? all;
  });
}

function bytesOf(body: string, raw: boolean): number[] {
  if (/[^\x00-\x7f]/.test(body)) fail();
  const text = raw
    ? body
    : body.replace(/\\(?:([0-7]{1,3})|x(.{0,2})|([\s\S]))/g, (all, oct, x, simple) => {
        if (oct !== undefined) return String.fromCharCode(parseInt(oct, 8) & 0xff);
        if (x !== undefined) {
          if (!/^[0-9a-fA-F]{2}$/.test(x)) fail();
          return String.fromCharCode(parseInt(x, 16));
        }
        return SIMPLE_ESCAPES[simple] ?? all;
      });
  return [...text].map((ch) => ch.charCodeAt(0));
}

function convertNumber(node: PyNode): number | Complex {
  if (node.kind === 'int' || node.kind === 'float' || node.kind === 'complex') return node.value;
  return fail();
}

function convertSigned(node: PyNode): number | Complex {
  if (node.kind === 'unary') {
    const v = convertNumber(node.operand);
    if (node.op === '+') return v;
    return typeof v === 'number' ? -v : { re: -v.re, im: -v.im };
  }
  return convertNumber(node);
}

// ast.literal_eval's _convert, producing the values Ansible stores: tuples and sets become lists,
// complex numbers and Ellipsis become their text, bytes are decoded as UTF-8.
function convert(node: PyNode): unknown {
  switch (node.kind) {
    case 'str':
      return node.value;
    case 'bytes':
      return new TextDecoder().decode(new Uint8Array(node.value));
    case 'const':
      return node.value;
    case 'list':
    case 'tuple':
    case 'set':
      return node.items.map(convert);
    case 'dict': {
      const out: Record<string, unknown> = {};
      node.keys.forEach((k, idx) => {
        const key = convert(k);
        if (typeof key === 'object' && key !== null) fail();
        out[pyKey(key)] = convert(node.values[idx]!);
      });
      return out;
    }
    case 'binop': {
      const left = convertSigned(node.left);
      const right = convertNumber(node.right);
      if (typeof left !== 'number' || typeof right === 'number') return fail();
      return complexText({ re: left + (node.op === '+' ? right.re : -right.re), im: node.op === '+' ? right.im : -right.im }, true);
    }
    default: {
      const v = convertSigned(node);
      return typeof v === 'number' ? v : complexText(v, false);
    }
  }
}

function pyKey(k: unknown): string {
  if (k === null) return 'None';
  if (k === true) return 'True';
  if (k === false) return 'False';
  return String(k);
}

function complexText(c: Complex, parens: boolean): string {
  const im = `${c.im}j`;
  if (c.re === 0 && !Object.is(c.re, -0) && !parens) return im;
  return `(${c.re}${c.im < 0 || Object.is(c.im, -0) ? '' : '+'}${im})`;
}
