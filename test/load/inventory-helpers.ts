// Temporary inventory trees for tests: write files, load them, and catch the UserError they raise.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../engine/errors.js';
import { loadInventory, type Inventory } from '../../engine/load/inventory.js';

/** test/fixtures/inventory/<name>. */
export const fixture = (...parts: string[]): string => join(dirname(fileURLToPath(import.meta.url)), '../fixtures/inventory', ...parts);

/** Write `files` (relative path -> text) under a new temporary directory and return it. */
export function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tsplay-inv-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

/** Load one inventory file with this text and name. */
export function inventoryOf(text: string, name = 'hosts'): Inventory {
  const root = tree({ [name]: text });
  return loadInventory([join(root, name)]);
}

/** The UserError that fn throws (fails the test if it throws nothing or something else). */
export function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError, got none');
}
