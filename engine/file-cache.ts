// What a run reads from a controller file once and uses for every host (known_hosts, key files,
// vault-encrypted sources): read and parsed again only when the file's size or mtime changes.
import { readFileSync, statSync } from 'node:fs';

export class FileCache<T> {
  readonly #entries = new Map<string, { mtimeMs: number; size: number; value: T }>();
  constructor(private readonly parse: (bytes: Buffer, file: string) => T) {}

  /** The parsed file, or undefined when it cannot be read (missing). */
  get(file: string): T | undefined {
    let st;
    try {
      st = statSync(file);
    } catch {
      return undefined;
    }
    const cached = this.#entries.get(file);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.value;
    const value = this.parse(readFileSync(file), file);
    this.#entries.set(file, { mtimeMs: st.mtimeMs, size: st.size, value });
    return value;
  }

  clear(): void {
    this.#entries.clear();
  }
}
