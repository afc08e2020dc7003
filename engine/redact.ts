// Values that must never be printed: passwords (every Secret registers its value here) and values
// decrypted from Ansible Vault. Reporters and error output pass their text through redact(), which
// replaces each such value, also in its JSON-escaped forms, with ********.

const MASK = '********';
/** Shorter values are not masked by value (masking "1" or "no" everywhere would garble output). */
const MIN_LENGTH = 3;

export class SecretValues {
  readonly #forms = new Set<string>();
  #sorted: string[] | undefined;

  /**
   * Register a value (and, for a multi-line one, each of its longer lines), with the values the
   * usual filters derive from it: `| upper`, `| lower`, `| b64encode`. Other derived values (a
   * slice, a hash, a value joined into a longer text) are new values that cannot be recognised.
   */
  add(value: string): void {
    const lines = value.includes('\n') ? value.split(/\r?\n/).filter((l) => l.trim().length >= 8) : [];
    const parts = [value, value.toUpperCase(), value.toLowerCase(), Buffer.from(value).toString('base64'), ...lines];
    for (const p of parts) {
      if (p.length < MIN_LENGTH) continue;
      const json = JSON.stringify(p).slice(1, -1);
      const ascii = json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
      for (const f of [p, json, ascii]) this.#forms.add(f);
    }
    this.#sorted = undefined;
  }

  /** `text` with every registered value replaced by ********. */
  redact(text: string): string {
    if (this.#forms.size === 0) return text;
    this.#sorted ??= [...this.#forms].sort((a, b) => b.length - a.length);
    let out = text;
    for (const f of this.#sorted) if (out.includes(f)) out = out.split(f).join(MASK);
    return out;
  }
}

/** The process's secret values. */
export const secretValues = new SecretValues();
