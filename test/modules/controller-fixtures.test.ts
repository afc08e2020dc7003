// Plan fixtures of the modules that run on the controller (group_by, add_host, include_vars,
// validate_argument_spec, async_status): test/modules/fixtures/<module>/<case>.json, in the format
// of fixtures.test.ts, with "current" the module's state as its gather returns it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import type { AnyModuleDefinition, Plan } from '../../engine/module.js';
import addHost from '../../modules/add_host.js';
import asyncStatus from '../../modules/async_status.js';
import groupBy from '../../modules/group_by.js';
import includeVars from '../../modules/include_vars.js';
import validateArgumentSpec from '../../modules/validate_argument_spec.js';
import { completeArgs, expectPlan } from './harness.js';

const modules: Record<string, AnyModuleDefinition> = {
  add_host: addHost,
  async_status: asyncStatus,
  group_by: groupBy,
  include_vars: includeVars,
  validate_argument_spec: validateArgumentSpec,
};
const root = join(import.meta.dirname, 'fixtures');

for (const [name, module] of Object.entries(modules)) {
  describe(`${name} plans`, () => {
    for (const caseFile of readdirSync(join(root, name))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const c = JSON.parse(readFileSync(join(root, name, caseFile), 'utf8'));
      it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
        const plan: Plan = module.plan(c.current, completeArgs(module, c.args));
        expectPlan(plan, c);
      });
    }
  });
}
