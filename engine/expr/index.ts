// The expression layer: Ansible's {{ }} expressions, when: conditions and .j2 / .ejs templates.
export { checkSyntax, evalCondition, evaluate, isTemplate, markUnsafe, materialize, renderTemplateText, template } from './templar.js';
export { OMIT } from './globals.js';
export { Undefined, isUndefined } from './undefined.js';
export { toBool } from './filters.js';
