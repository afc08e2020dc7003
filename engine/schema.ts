// `tsplay schema`: a JSON Schema of playbooks (play and task keywords, every module's arguments,
// custom modules included) for yaml-language-server and editors: completion and validation.
import { BLOCK_KEYWORDS, PLAY_KEYWORDS, TASK_KEYWORDS, UNSUPPORTED } from './load/playbook.js';
import type { ModuleRegistry } from './run/registry.js';

type Json = Record<string, unknown>;

const LOOKUPS = ['items', 'list', 'dict', 'indexed_items', 'together', 'sequence', 'nested'];

/** Strip our non-standard keywords and add aliases as properties, so editors know them too. */
function argsSchema(schema: Json): Json {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const out: Record<string, Json> = {};
  for (const [k, p] of Object.entries(props)) {
    const { aliases, ...rest } = p as Json & { aliases?: string[] };
    out[k] = rest;
    for (const a of aliases ?? []) out[a] = { ...rest, description: `Alias of ${k}. ${String(rest.description ?? '')}`.trim() };
  }
  const { mutuallyExclusive, requiredOneOf, required, ...rest } = schema as Json & { required?: string[] };
  void mutuallyExclusive;
  void requiredOneOf;
  // a required argument may be given under any of its aliases
  const plain = (required ?? []).filter((k) => !(props[k] as { aliases?: string[] })?.aliases?.length);
  const aliased = (required ?? []).filter((k) => !plain.includes(k));
  const allOf = aliased.map((k) => ({
    anyOf: [k, ...((props[k] as { aliases?: string[] }).aliases ?? [])].map((n) => ({ required: [n] })),
  }));
  return { ...rest, properties: out, ...(plain.length ? { required: plain } : {}), ...(allOf.length ? { allOf } : {}) };
}

function keywordSchema(name: string): Json {
  if (['when', 'changed_when', 'failed_when', 'until'].includes(name))
    return {
      description: `${name}: a Jinja2 condition or a list of them`,
      anyOf: [{ type: 'string' }, { type: 'boolean' }, { type: 'array' }],
    };
  if (['tags', 'notify', 'listen'].includes(name)) return { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
  if (['vars', 'environment', 'args', 'loop_control'].includes(name)) return { type: 'object' };
  if (
    [
      'become',
      'ignore_errors',
      'ignore_unreachable',
      'check_mode',
      'diff',
      'no_log',
      'run_once',
      'any_errors_fatal',
      'safe_network',
    ].includes(name)
  )
    return { anyOf: [{ type: 'boolean' }, { type: 'string' }] };
  if (name === 'rollback_timeout') return { anyOf: [{ type: 'integer', minimum: 5 }, { type: 'string' }] };
  return {};
}

/** The playbook schema for the modules in `registry`. */
export function playbookSchema(registry: ModuleRegistry): Json {
  const keywords: Record<string, Json> = {};
  for (const k of TASK_KEYWORDS) if (!UNSUPPORTED.has(k)) keywords[k] = keywordSchema(k);
  for (const l of LOOKUPS) keywords[`with_${l}`] = {};
  const moduleTasks: Json[] = [];
  for (const m of registry.modules()) {
    const args = argsSchema(m.def.schema as Json);
    const value = m.def.freeForm
      ? { anyOf: [{ type: 'string' }, args] }
      : { anyOf: [args, { type: 'string', description: 'key=value arguments' }, { type: 'null' }] };
    for (const name of [m.def.name, ...(m.def.aliases ?? [])]) {
      moduleTasks.push({
        type: 'object',
        required: [name],
        properties: { ...keywords, [name]: { ...value, description: m.def.description } },
        additionalProperties: false,
      });
    }
  }
  const include = (name: string): Json => ({
    type: 'object',
    required: [name],
    properties: { ...keywords, [name]: { anyOf: [{ type: 'string' }, { type: 'object' }] } },
    additionalProperties: false,
  });
  const meta: Json = {
    type: 'object',
    required: ['meta'],
    properties: {
      ...keywords,
      meta: {
        enum: [
          'flush_handlers',
          'end_play',
          'end_host',
          'end_batch',
          'noop',
          'clear_facts',
          'clear_host_errors',
          'reset_connection',
          'refresh_inventory',
        ],
      },
    },
    additionalProperties: false,
  };
  const blockProps: Record<string, Json> = {};
  for (const k of BLOCK_KEYWORDS)
    blockProps[k] = k === 'block' || k === 'rescue' || k === 'always' ? { $ref: '#/definitions/tasks' } : keywordSchema(k);
  const playProps: Record<string, Json> = {};
  for (const k of PLAY_KEYWORDS) {
    if (UNSUPPORTED.has(k)) continue;
    playProps[k] = ['pre_tasks', 'tasks', 'post_tasks', 'handlers'].includes(k)
      ? { $ref: '#/definitions/tasks' }
      : k === 'hosts'
        ? { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }
        : keywordSchema(k);
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'tsplay playbook',
    description: 'An Ansible-style playbook run by tsplay: a list of plays.',
    type: 'array',
    items: {
      anyOf: [
        { type: 'object', required: ['hosts'], properties: playProps, additionalProperties: false },
        {
          type: 'object',
          required: ['import_playbook'],
          properties: { import_playbook: { type: 'string' }, ...keywords },
          additionalProperties: false,
        },
      ],
    },
    definitions: {
      tasks: {
        type: 'array',
        items: {
          anyOf: [
            { type: 'object', required: ['block'], properties: blockProps, additionalProperties: false },
            include('include_tasks'),
            include('import_tasks'),
            meta,
            ...moduleTasks,
          ],
        },
      },
    },
  };
}
