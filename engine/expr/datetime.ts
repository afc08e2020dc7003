// Python's datetime and timedelta, as far as Ansible users reach them: now(), to_datetime,
// subtraction (a timedelta with days, seconds, total_seconds()), comparison, strftime.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** C strftime for the common directives (%Y %m %d %H %M %S %j %a %b %p %z %s ...). */
export function strftime(fmt: string, date: Date, utc: boolean): string {
  const g = (local: () => number, u: () => number) => (utc ? u() : local());
  const Y = g(
    () => date.getFullYear(),
    () => date.getUTCFullYear(),
  );
  const mo = g(
    () => date.getMonth(),
    () => date.getUTCMonth(),
  );
  const d = g(
    () => date.getDate(),
    () => date.getUTCDate(),
  );
  const H = g(
    () => date.getHours(),
    () => date.getUTCHours(),
  );
  const M = g(
    () => date.getMinutes(),
    () => date.getUTCMinutes(),
  );
  const S = g(
    () => date.getSeconds(),
    () => date.getUTCSeconds(),
  );
  const wd = g(
    () => date.getDay(),
    () => date.getUTCDay(),
  );
  const p2 = (n: number) => String(n).padStart(2, '0');
  const yday = Math.floor((Date.UTC(Y, mo, d) - Date.UTC(Y, 0, 1)) / 86400000) + 1;
  const off = utc ? 0 : -date.getTimezoneOffset();
  const z = `${off >= 0 ? '+' : '-'}${p2(Math.floor(Math.abs(off) / 60))}${p2(Math.abs(off) % 60)}`;
  const map: Record<string, () => string> = {
    Y: () => String(Y),
    y: () => p2(Y % 100),
    m: () => p2(mo + 1),
    d: () => p2(d),
    e: () => String(d).padStart(2, ' '),
    H: () => p2(H),
    I: () => p2(H % 12 || 12),
    M: () => p2(M),
    S: () => p2(S),
    f: () => String(date.getMilliseconds() * 1000).padStart(6, '0'),
    p: () => (H < 12 ? 'AM' : 'PM'),
    j: () => String(yday).padStart(3, '0'),
    a: () => DAYS[wd]!.slice(0, 3),
    A: () => DAYS[wd]!,
    b: () => MONTHS[mo]!.slice(0, 3),
    B: () => MONTHS[mo]!,
    w: () => String(wd),
    z: () => z,
    Z: () =>
      utc
        ? 'UTC'
        : (Intl.DateTimeFormat(undefined, { timeZoneName: 'short' })
            .formatToParts(date)
            .find((x) => x.type === 'timeZoneName')?.value ?? ''),
    s: () => String(Math.floor(date.getTime() / 1000)),
    F: () => `${Y}-${p2(mo + 1)}-${p2(d)}`,
    T: () => `${p2(H)}:${p2(M)}:${p2(S)}`,
    '%': () => '%',
  };
  return fmt.replace(/%([a-zA-Z%])/g, (m, c: string) => (map[c] ? map[c]!() : m));
}

/**
 * A Python datetime: now() (local or UTC) and to_datetime (naive: its fields are kept as UTC, so
 * no time zone moves them). Microseconds are kept to the millisecond.
 */
export class PyDateTime {
  constructor(
    readonly date: Date,
    readonly utc: boolean,
  ) {}

  get year(): number {
    return this.utc ? this.date.getUTCFullYear() : this.date.getFullYear();
  }

  get month(): number {
    return (this.utc ? this.date.getUTCMonth() : this.date.getMonth()) + 1;
  }

  get day(): number {
    return this.utc ? this.date.getUTCDate() : this.date.getDate();
  }

  get hour(): number {
    return this.utc ? this.date.getUTCHours() : this.date.getHours();
  }

  get minute(): number {
    return this.utc ? this.date.getUTCMinutes() : this.date.getMinutes();
  }

  get second(): number {
    return this.utc ? this.date.getUTCSeconds() : this.date.getSeconds();
  }

  get microsecond(): number {
    return this.date.getMilliseconds() * 1000;
  }

  strftime(fmt: string): string {
    return strftime(fmt, this.date, this.utc);
  }

  isoformat(): string {
    return strftime(this.microsecond ? '%Y-%m-%dT%H:%M:%S.%f' : '%Y-%m-%dT%H:%M:%S', this.date, this.utc);
  }

  timestamp(): number {
    return this.date.getTime() / 1000;
  }

  /** The wall-clock time as milliseconds: what Python compares and subtracts for naive datetimes. */
  get wallMs(): number {
    return this.utc ? this.date.getTime() : this.date.getTime() - this.date.getTimezoneOffset() * 60000;
  }

  weekday(): number {
    return (this.utc ? this.date.getUTCDay() + 6 : this.date.getDay() + 6) % 7;
  }

  toString(): string {
    return strftime(this.microsecond ? '%Y-%m-%d %H:%M:%S.%f' : '%Y-%m-%d %H:%M:%S', this.date, this.utc);
  }

  toJSON(): string {
    return this.isoformat();
  }
}

/** A Python timedelta, to the millisecond: days, seconds (0..86399), microseconds, total_seconds(). */
export class PyTimedelta {
  constructor(readonly ms: number) {}

  get days(): number {
    return Math.floor(this.ms / 86400000);
  }

  get seconds(): number {
    return Math.floor((this.ms - this.days * 86400000) / 1000);
  }

  get microseconds(): number {
    return (this.ms - this.days * 86400000 - this.seconds * 1000) * 1000;
  }

  total_seconds(): number {
    return this.ms / 1000;
  }

  toString(): string {
    const d = this.days;
    const s = this.seconds;
    const p2 = (n: number) => String(n).padStart(2, '0');
    const time = `${Math.floor(s / 3600)}:${p2(Math.floor(s / 60) % 60)}:${p2(s % 60)}`;
    const us = this.microseconds ? `.${String(this.microseconds).padStart(6, '0')}` : '';
    return `${d ? `${d} day${Math.abs(d) === 1 ? '' : 's'}, ` : ''}${time}${us}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** datetime - datetime, datetime ± timedelta, timedelta ± timedelta; undefined for anything else. */
export function dateArithmetic(op: string, a: unknown, b: unknown): unknown {
  if (op === '-' && a instanceof PyDateTime && b instanceof PyDateTime) return new PyTimedelta(a.wallMs - b.wallMs);
  if ((op === '-' || op === '+') && a instanceof PyDateTime && b instanceof PyTimedelta)
    return new PyDateTime(new Date(a.date.getTime() + (op === '-' ? -b.ms : b.ms)), a.utc);
  if (op === '+' && a instanceof PyTimedelta && b instanceof PyDateTime) return new PyDateTime(new Date(b.date.getTime() + a.ms), b.utc);
  if ((op === '-' || op === '+') && a instanceof PyTimedelta && b instanceof PyTimedelta)
    return new PyTimedelta(op === '-' ? a.ms - b.ms : a.ms + b.ms);
  return undefined;
}

/** a - b for two datetimes or two timedeltas (ordering); undefined for anything else. */
export function dateOrder(a: unknown, b: unknown): number | undefined {
  if (a instanceof PyDateTime && b instanceof PyDateTime) return a.wallMs - b.wallMs;
  if (a instanceof PyTimedelta && b instanceof PyTimedelta) return a.ms - b.ms;
  return undefined;
}

/** Python's datetime.strptime for the common directives; a naive datetime. */
export function strptime(text: string, fmt: string): PyDateTime {
  const fields: string[] = [];
  const monthIndex = (s: string) => MONTHS.findIndex((m) => m.toLowerCase().startsWith(s.toLowerCase()));
  const names = (list: string[], short: boolean) => list.map((x) => (short ? x.slice(0, 3) : x)).join('|');
  const parts: Record<string, string> = {
    Y: '(\\d{4})',
    y: '(\\d{2})',
    m: '(\\d{1,2})',
    d: '(\\d{1,2})',
    H: '(\\d{1,2})',
    I: '(\\d{1,2})',
    M: '(\\d{1,2})',
    S: '(\\d{1,2})',
    f: '(\\d{1,6})',
    j: '(\\d{1,3})',
    p: '(AM|PM|am|pm)',
    b: `(${names(MONTHS, true)})`,
    B: `(${names(MONTHS, false)})`,
    a: `(?:${names(DAYS, true)})`,
    A: `(?:${names(DAYS, false)})`,
  };
  let source = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '%' && i + 1 < fmt.length) {
      const k = fmt[++i]!;
      if (k === '%') source += '%';
      else if (parts[k]) {
        source += parts[k];
        if (!'aA'.includes(k)) fields.push(k);
      } else throw new Error(`'${k}' is a bad directive in format '%${k}'`);
    } else if (/\s/.test(c)) source += '\\s+';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(`^${source}$`, 'i').exec(text);
  if (!m) throw new Error(`time data '${text}' does not match format '${fmt}'`);
  let [Y, mo, d, H, M, S, us, pm, yday] = [1900, 1, 1, 0, 0, 0, 0, -1, 0];
  fields.forEach((k, i) => {
    const v = m[i + 1]!;
    const n = parseInt(v, 10);
    if (k === 'Y') Y = n;
    else if (k === 'y') Y = n < 69 ? 2000 + n : 1900 + n;
    else if (k === 'm') mo = n;
    else if (k === 'd') d = n;
    else if (k === 'H' || k === 'I') H = n;
    else if (k === 'M') M = n;
    else if (k === 'S') S = n;
    else if (k === 'f') us = parseInt(v.padEnd(6, '0'), 10);
    else if (k === 'p') pm = /pm/i.test(v) ? 1 : 0;
    else if (k === 'j') yday = n;
    else if (k === 'b' || k === 'B') mo = monthIndex(v) + 1;
  });
  if (pm >= 0 && fields.includes('I')) H = (H % 12) + (pm ? 12 : 0);
  if (mo < 1 || mo > 12 || d < 1 || H > 23 || M > 59 || S > 61) throw new Error(`time data '${text}' does not match format '${fmt}'`);
  const byYearDay = fields.includes('j') && !fields.includes('m') && !fields.includes('d');
  const date = new Date(Date.UTC(2000, byYearDay ? 0 : mo - 1, byYearDay ? yday : d, H, M, S, Math.floor(us / 1000)));
  date.setUTCFullYear(Y);
  if (!byYearDay && date.getUTCDate() !== d) throw new Error('day is out of range for month');
  return new PyDateTime(date, true);
}
