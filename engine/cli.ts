#!/usr/bin/env node
// The command line: the only file that reads process.argv and sets the exit code.
// Exit codes are ansible-playbook's: 0 ok, 1 error, 2 host failed, 4 unreachable or parse error,
// 5 bad options, 99 interrupted, 250 internal error.
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { ModuleCrash, OptionsError, UserError } from './errors.js';
import { expandLimit, loadInventory, type Inventory } from './load/inventory.js';
import { loadPlaybooks, loadPlayObject, type Node, type Play } from './load/playbook.js';
import { parseYaml, loadYamlFile } from './load/yaml.js';
import { parseKv } from './kv.js';
import { ModuleRegistry } from './run/registry.js';
import { globMatch, runPlays, selectPlayHosts } from './run/runner.js';
import { ConnectionPool, defaultOpener, type ConnectionOpener } from './connection/pool.js';
import { parseSize } from './connection/exec.js';
import { DefaultReporter, processOutput, type Output } from './report/default.js';
import { JsonReporter } from './report/json.js';
import { AdhocReporter } from './report/adhoc.js';
import type { Reporter } from './run/results.js';
import { Secret } from './sh.js';
import { secretValues } from './redact.js';
import { promptSecret } from './connection/prompt.js';
import { builtinModules } from '../modules/index.js';
import { registerLabCommands } from '../lab/cli.js';
import { playbookSchema } from './schema.js';
import { addVaultOptions, registerVaultCommand, vaultSecretsFrom, type VaultOpts } from './vault-cli.js';
import { setVaultSecrets } from './vault.js';
import { configPaths, configValue, loadAnsibleConfig } from './load/ansible-cfg.js';
import { defaultRolesPath } from './load/roles.js';
import { importAtRunTime, packageJsonPath } from './paths.js';
import { template } from './expr/index.js';
import { UnsafeText } from './unsafe.js';
import * as api from './index.js';

export const EXIT = { ok: 0, error: 1, failed: 2, unreachable: 4, parse: 4, options: 5, interrupted: 99, internal: 250 } as const;

const VERSION: string = JSON.parse(readFileSync(packageJsonPath(), 'utf8')).version;

/** Side effects the CLI uses, swappable in tests. */
export interface CliIO {
  output: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  opener?: ConnectionOpener;
  /** Ask for a secret on the terminal (-K, --ask-vault-pass). */
  prompt?: (question: string) => Promise<string>;
  /** Read all of standard input (tsplay vault with - or no file). */
  stdin?: () => Promise<string>;
  signal?: AbortSignal;
}

const defaultIO = (): CliIO => ({ output: processOutput, env: process.env, cwd: process.cwd() });

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** -e values: k=v text, inline YAML/JSON, or @file; later ones win. */
export function parseExtraVars(values: string[], cwd: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values) {
    if (v.startsWith('@')) {
      const file = resolve(cwd, v.slice(1));
      const data = loadYamlFile(file);
      if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
        throw new OptionsError(`extra vars file ${file} must hold a mapping`, 'write one `name: value` per line at the top level');
      }
      Object.assign(out, data);
    } else if (/^\s*[{[]/.test(v)) {
      let data: unknown;
      try {
        data = parseYaml(v, '-e');
      } catch (e) {
        // the place of an error in inline extra vars is the -e argument itself
        if (e instanceof UserError)
          throw new UserError(e.code, `${e.message} (in -e '${v}')`, { location: e.location, hint: e.hint, cause: e });
        throw e;
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data))
        throw new OptionsError(`-e ${v}: inline extra vars must be a mapping`, `e.g. -e '{"upstream_if": "eth1"}'`);
      Object.assign(out, data);
    } else if (v.trim() !== '') {
      const { args, free } = parseKv(v);
      if (free)
        throw new OptionsError(`-e '${v}': expected key=value, inline YAML/JSON or @file`, "e.g. -e 'upstream_if=eth1' or -e @vars.yml");
      Object.assign(out, args);
    }
  }
  return out;
}

function splitList(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

function truthyEnv(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

/** Build the module registry: built-ins, then library/ beside playbooks, -M paths, TSPLAY_LIBRARY. */
export async function buildRegistry(playbookDirs: string[], modulePaths: string[], env: NodeJS.ProcessEnv): Promise<ModuleRegistry> {
  const registry = new ModuleRegistry();
  for (const m of builtinModules) registry.register(m, { builtin: true });
  const dirs = [
    ...playbookDirs.map((d) => join(d, 'library')),
    ...modulePaths.flatMap((p) => p.split(':')),
    ...(env.TSPLAY_LIBRARY ?? env.ANSIBLE_LIBRARY ?? '').split(':').filter(Boolean),
  ];
  for (const d of [...new Set(dirs.map((d) => resolve(d)))]) await registry.loadDir(d);
  for (const d of [...new Set(playbookDirs.map((p) => resolve(p)))]) await registry.loadPackages(nearestNodeModules(d));
  return registry;
}

// The node_modules that Node would search first from a playbook directory.
function nearestNodeModules(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return join(d, 'node_modules');
    if (dirname(d) === d) return join(dir, 'node_modules');
  }
}

function allTasks(nodes: Node[]): { name: string; tags: string[] }[] {
  const out: { name: string; tags: string[] }[] = [];
  const visit = (n: Node, inherited: string[]) => {
    const tags = [...new Set([...inherited, ...n.tags])];
    if (n.kind === 'block') [...n.block, ...n.rescue, ...n.always].forEach((c) => visit(c, tags));
    // as ansible-playbook lists them: a named task as "role : name" in a role, an unnamed one by
    // its action; includes are listed themselves (their files are read when they run), imports expanded
    else out.push({ name: n.name === undefined ? n.action : n.role ? `${n.role.name} : ${n.name}` : n.name, tags });
  };
  nodes.forEach((n) => visit(n, []));
  return out;
}

function listing(
  plays: Play[],
  files: string[],
  inventory: Inventory,
  limit: string[] | undefined,
  extraVars: Record<string, unknown>,
  what: { hosts?: boolean; tasks?: boolean; tags?: boolean },
  out: (s: string) => void,
): void {
  out(`\nplaybook: ${files.join(', ')}\n`);
  plays.forEach((p, i) => {
    const name = p.name ?? p.hosts.join(',');
    out(`\n  play #${i + 1} (${p.hosts.join(',')}): ${name}\tTAGS: [${p.tags.join(',')}]\n`);
    if (what.hosts) {
      const hosts = selectPlayHosts(inventory, p, limit, extraVars);
      out(`    pattern: [${p.hosts.map((h) => `'${h}'`).join(', ')}]\n    hosts (${hosts.length}):\n`);
      for (const h of hosts) out(`      ${h}\n`);
    }
    const tasks = allTasks([...p.pre_tasks, ...p.tasks, ...p.post_tasks]);
    if (what.tasks) {
      out('    tasks:\n');
      for (const t of tasks) out(`      ${t.name}\tTAGS: [${[...new Set([...p.tags, ...t.tags])].sort().join(', ')}]\n`);
    }
    if (what.tags) {
      const tags = [...new Set([...p.tags, ...tasks.flatMap((t) => t.tags)])].sort();
      out(`      TASK TAGS: [${tags.join(', ')}]\n`);
    }
  });
}

// --start-at-task naming no task would silently run nothing (Ansible prints an error and exits 0).
// Task files chosen at run time (include_tasks with variables) may hold it: then it is not checked.
function checkStartAtTask(plays: Play[], wanted: string): void {
  const names: string[] = [];
  let dynamic = false;
  const visit = (n: Node): void => {
    if (n.kind === 'block') return [...n.block, ...n.rescue, ...n.always].forEach(visit);
    if (n.name !== undefined) names.push(n.name);
    if (n.include && !n.include.preloaded) dynamic = true;
    n.include?.preloaded?.forEach(visit);
  };
  for (const p of plays) [...p.pre_tasks, ...p.tasks, ...p.post_tasks].forEach(visit);
  if (!dynamic && !names.some((n) => globMatch(wanted, n))) {
    throw new OptionsError(
      `No matching task "${wanted}" found`,
      'tsplay run PLAYBOOK --list-tasks shows the task names (* and ? match any text)',
    );
  }
}

// vars_prompt, asked before any host is contacted: a variable given with -e is not asked for; a
// private one is read without echo; without a terminal the default answers (or the run stops).
async function askVarsPrompts(plays: Play[], extraVars: Record<string, unknown>, io: CliIO): Promise<void> {
  for (const play of plays) {
    const answers: Record<string, unknown> = {};
    for (const q of play.vars_prompt) {
      if (q.name in extraVars) continue;
      const dflt = q.default === undefined ? undefined : template(q.default, { ...play.vars, ...extraVars }, q.location);
      const tty = io.prompt !== undefined || process.stdin.isTTY;
      if (!tty) {
        if (dflt === undefined) {
          throw new UserError('E_OPTIONS', `vars_prompt '${q.name}' needs an answer and there is no terminal to ask on`, {
            location: q.location,
            hint: `pass it with -e ${q.name}=..., or give the prompt a default`,
          });
        }
        answers[q.name] = dflt;
        continue;
      }
      const ask = (question: string) => (io.prompt ?? (q.private ? readSecretFromTerminal : readLineFromTerminal))(question);
      const question = `${q.prompt}${dflt !== undefined ? ` [${String(dflt)}]` : ''}: `;
      let value: string;
      for (;;) {
        value = await ask(question);
        if (!q.confirm || (await ask(`confirm ${q.prompt}: `)) === value) break;
        io.output.err('***** VALUES ENTERED DO NOT MATCH ****\n');
      }
      let answer: unknown = value === '' && dflt !== undefined ? dflt : value;
      if (q.encrypt)
        answer = template(`{{ __v | password_hash('${q.encrypt.replace('_crypt', '')}'${q.salt ? ', __salt' : ''}) }}`, {
          __v: String(answer),
          __salt: q.salt,
        });
      answers[q.name] = q.unsafe ? new UnsafeText(String(answer)) : answer;
    }
    // vars_prompt sits between play vars and vars_files in Ansible's precedence
    play.vars = { ...play.vars, ...answers };
  }
}

async function readLineFromTerminal(question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((res) => rl.question(question, res));
  } finally {
    rl.close();
  }
}

function readSecretFromTerminal(question: string): Promise<string> {
  return promptSecret(question, 'use --become-password-file / --connection-password-file, or ansible_become_password / ansible_password');
}

function readVaultPassFromTerminal(question: string): Promise<string> {
  return promptSecret(question, 'use --vault-password-file FILE or --vault-id label@FILE');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface RunOpts extends VaultOpts {
  inventory?: string[];
  limit?: string[];
  extraVars?: string[];
  tags?: string[];
  skipTags?: string[];
  check?: boolean;
  diff?: boolean;
  forks?: string;
  user?: string;
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  askBecomePass?: boolean;
  becomePasswordFile?: string;
  connection?: string;
  modulePath?: string[];
  verbose: number;
  listHosts?: boolean;
  listTasks?: boolean;
  listTags?: boolean;
  syntaxCheck?: boolean;
  startAtTask?: string;
  forceHandlers?: boolean;
  output: string;
  timeout?: string;
  privateKey?: string;
  askPass?: boolean;
  connectionPasswordFile?: string;
  sshCommonArgs?: string;
  sshExtraArgs?: string;
}

/** What run and adhoc share: checked options, extra vars, inventory, secrets. */
interface Prepared {
  forks: number;
  extraVars: Record<string, unknown>;
  inventory: Inventory;
  limit?: string[];
  becomePassword?: Secret;
  sshPassword?: Secret;
  maxOutputBytes?: number;
}

async function prepare(o: RunOpts, io: CliIO): Promise<Prepared> {
  const forks = Number(o.forks ?? '5');
  const maxOutputBytes = io.env.TSPLAY_MAX_OUTPUT === undefined ? undefined : parseSize(io.env.TSPLAY_MAX_OUTPUT);
  if (io.env.TSPLAY_MAX_OUTPUT !== undefined && maxOutputBytes === undefined) {
    throw new OptionsError(
      `TSPLAY_MAX_OUTPUT must be a size in bytes, got '${io.env.TSPLAY_MAX_OUTPUT}'`,
      'e.g. TSPLAY_MAX_OUTPUT=500M (K, M, G: powers of 1000; KiB, MiB, GiB: of 1024)',
    );
  }
  if (!Number.isInteger(forks) || forks < 1)
    throw new OptionsError(`--forks must be a positive integer, got '${o.forks}'`, 'e.g. -f 10 to work on ten hosts at once');
  if (o.output !== 'default' && o.output !== 'json')
    throw new OptionsError(`--output must be default or json, got '${o.output}'`, '--output json prints one JSON event per line');
  if (o.becomeMethod && o.becomeMethod !== 'sudo')
    throw new OptionsError(`become method '${o.becomeMethod}' is not supported`, 'tsplay becomes other users with sudo');
  // vault secrets first: extra vars files, the inventory and the playbooks may all be encrypted
  setVaultSecrets(await vaultSecretsFrom(o, { cwd: io.cwd, env: io.env, prompt: io.prompt ?? readVaultPassFromTerminal }));
  const extraVars = parseExtraVars(o.extraVars ?? [], io.cwd);
  const sources = o.inventory?.length
    ? o.inventory
    : io.env.ANSIBLE_INVENTORY
      ? io.env.ANSIBLE_INVENTORY.split(',')
      : existsSync('/etc/ansible/hosts')
        ? ['/etc/ansible/hosts']
        : [];
  const inventory = loadInventory(
    sources.map((s) => (existsSync(resolve(io.cwd, s)) ? resolve(io.cwd, s) : s)),
    { cwd: io.cwd },
  );
  const limit = o.limit?.length ? expandLimit(o.limit, io.cwd) : undefined;
  for (const w of inventory.warnings) io.output.err(`[WARNING]: ${w}\n`);
  // as Ansible: without an inventory only the implicit localhost exists, and `all` matches nothing
  if (!sources.some((s) => s.trim()))
    io.output.err(
      '[WARNING]: No inventory was parsed, only implicit localhost is available (give one with -i, or set ANSIBLE_INVENTORY)\n',
    );
  if (inventory.hosts.size === 0)
    io.output.err(
      "[WARNING]: provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'\n",
    );
  return { forks, extraVars, inventory, limit, maxOutputBytes };
}

// A password file's first line; a missing or unreadable file is the user's to fix.
function readPasswordFile(file: string, cwd: string, option: string): Secret {
  const path = resolve(cwd, file);
  try {
    return new Secret(readFileSync(path, 'utf8').replace(/\r?\n$/, ''));
  } catch (e) {
    throw new UserError(
      'E_FILE_NOT_FOUND',
      `The password file ${path} was not found (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      {
        hint: `check the path given to ${option}; it is relative to the current directory`,
      },
    );
  }
}

async function secrets(o: RunOpts, io: CliIO, p: Prepared): Promise<void> {
  if (o.becomePasswordFile) p.becomePassword = readPasswordFile(o.becomePasswordFile, io.cwd, '--become-password-file');
  else if (o.askBecomePass) p.becomePassword = new Secret(await (io.prompt ?? readSecretFromTerminal)('BECOME password: '));
  if (o.connectionPasswordFile) p.sshPassword = readPasswordFile(o.connectionPasswordFile, io.cwd, '--connection-password-file');
  else if (o.askPass) p.sshPassword = new Secret(await (io.prompt ?? readSecretFromTerminal)('SSH password: '));
}

// ansible.cfg's settings, as the environment variables Ansible reads for them (a variable set in
// the environment wins over the file); the options not given on the command line take them.
function withAnsibleConfig<O extends RunOpts>(o: O, io: CliIO): { o: O; io: CliIO; rolesPath: string[] } {
  const cfg = loadAnsibleConfig(io.env, io.cwd);
  const env: NodeJS.ProcessEnv = { ...io.env };
  const set = (name: string, section: string, key: string): void => {
    const v = configValue(cfg, io.env, section, key, name);
    if (v !== undefined) env[name] = v;
  };
  const setPaths = (name: string, section: string, key: string): void => {
    const v = configPaths(cfg, io.env, io.cwd, section, key, name);
    if (v !== undefined) env[name] = v.join(name === 'ANSIBLE_INVENTORY' ? ',' : ':');
  };
  setPaths('ANSIBLE_INVENTORY', 'defaults', 'inventory');
  setPaths('ANSIBLE_LIBRARY', 'defaults', 'library');
  setPaths('ANSIBLE_VAULT_PASSWORD_FILE', 'defaults', 'vault_password_file');
  setPaths('ANSIBLE_PRIVATE_KEY_FILE', 'defaults', 'private_key_file');
  set('ANSIBLE_FORKS', 'defaults', 'forks');
  set('ANSIBLE_REMOTE_USER', 'defaults', 'remote_user');
  set('ANSIBLE_TIMEOUT', 'defaults', 'timeout');
  set('ANSIBLE_HOST_KEY_CHECKING', 'defaults', 'host_key_checking');
  set('ANSIBLE_BECOME', 'privilege_escalation', 'become');
  set('ANSIBLE_BECOME_USER', 'privilege_escalation', 'become_user');
  set('ANSIBLE_BECOME_METHOD', 'privilege_escalation', 'become_method');
  set('ANSIBLE_SSH_COMMON_ARGS', 'ssh_connection', 'ssh_common_args');
  set('ANSIBLE_SSH_EXTRA_ARGS', 'ssh_connection', 'ssh_extra_args');
  const rolesPath = configPaths(cfg, io.env, io.cwd, 'defaults', 'roles_path', 'ANSIBLE_ROLES_PATH') ?? defaultRolesPath();
  const filled = {
    ...o,
    forks: o.forks ?? env.ANSIBLE_FORKS,
    timeout: o.timeout ?? env.ANSIBLE_TIMEOUT,
    privateKey: o.privateKey ?? env.ANSIBLE_PRIVATE_KEY_FILE,
    becomeMethod: o.becomeMethod ?? env.ANSIBLE_BECOME_METHOD,
    sshCommonArgs: o.sshCommonArgs ?? env.ANSIBLE_SSH_COMMON_ARGS,
    sshExtraArgs: o.sshExtraArgs ?? env.ANSIBLE_SSH_EXTRA_ARGS,
  };
  return { o: filled, io: { ...io, env }, rolesPath };
}

async function runCommand(files: string[], opts: RunOpts, io0: CliIO): Promise<number> {
  const { o, io, rolesPath } = withAnsibleConfig(opts, io0);
  const p = await prepare(o, io);
  const { inventory, limit, extraVars } = p;
  const playbooks = files.map((f) => resolve(io.cwd, f));
  for (const f of playbooks) {
    if (!existsSync(f))
      throw new UserError('E_FILE_NOT_FOUND', `the playbook: ${f} could not be found`, { hint: 'check the path to the playbook' });
  }
  const registry = await buildRegistry(
    [...new Set(playbooks.map((f) => dirname(f)))],
    splitList(o.modulePath?.flatMap((m) => m.split(':'))),
    io.env,
  );
  const plays = loadPlaybooks(playbooks, { registry, extraVars, rolesPath });

  if (o.startAtTask !== undefined) checkStartAtTask(plays, o.startAtTask);
  const out = (s: string) => io.output.out(s);
  if (o.syntaxCheck) {
    out(`\nplaybook: ${files.join(', ')}\n`);
    return EXIT.ok;
  }
  if (o.listHosts || o.listTasks || o.listTags) {
    listing(plays, files, inventory, limit, extraVars, { hosts: o.listHosts, tasks: o.listTasks, tags: o.listTags }, out);
    return EXIT.ok;
  }
  if (limit) {
    const matched = inventory.select(limit);
    if (matched.length === 0)
      throw new UserError('E_INVENTORY', `Specified inventory, host pattern and/or --limit leaves us with no hosts to target.`, {
        hint: `check --limit ${limit.join(',')} against the inventory (tsplay run ... --list-hosts shows what a play targets)`,
      });
  }
  await askVarsPrompts(plays, extraVars, io);
  await secrets(o, io, p);
  // the spinner (ora) is loaded only for a terminal
  // (a terminal that reports no width, as some ptys do, would make ora clear lines forever)
  const spinnerOk = io.output.isTTY && process.stderr.isTTY && (process.stderr.columns ?? 0) > 0 && !io.env.CI && o.output !== 'json';
  const ora = spinnerOk ? (await importAtRunTime<typeof import('ora')>('ora')).default : undefined;
  const reporter: Reporter =
    o.output === 'json'
      ? new JsonReporter((l) => io.output.out(l))
      : new DefaultReporter(o.verbose, io.output, {
          spinner: ora ? (text) => ora({ text, stream: process.stderr, discardStdin: false }) : undefined,
        });
  for (const f of playbooks) reporter.playbookStart(f);
  return execute(plays, o, io, p, registry, reporter, rolesPath);
}

async function adhocCommand(pattern: string, opts: RunOpts & { moduleName: string; args?: string }, io0: CliIO): Promise<number> {
  const { o, io } = withAnsibleConfig(opts, io0);
  const p = await prepare(o, io);
  const registry = await buildRegistry([io.cwd], splitList(o.modulePath?.flatMap((m) => m.split(':'))), io.env);
  if (!registry.has(o.moduleName)) {
    const s = registry.suggest(o.moduleName);
    throw new OptionsError(
      `module ${o.moduleName} not found`,
      s.length ? `did you mean ${s.join(' or ')}?` : 'tsplay doc --list shows every module',
    );
  }
  const argsText = o.args ?? '';
  const args: unknown = /^\s*{/.test(argsText) ? parseYaml(argsText, '<-a>') : argsText === '' ? null : argsText;
  const play = loadPlayObject(
    { name: 'Ansible Ad-Hoc', hosts: pattern, gather_facts: false, tasks: [{ [o.moduleName]: args }] },
    join(io.cwd, '<adhoc>'),
    { registry, extraVars: p.extraVars },
  );
  if (o.listHosts) {
    const hosts = selectPlayHosts(p.inventory, play, p.limit);
    io.output.out(`  hosts (${hosts.length}):\n${hosts.map((h) => `    ${h}\n`).join('')}`);
    return EXIT.ok;
  }
  await secrets(o, io, p);
  const reporter: Reporter =
    o.output === 'json' ? new JsonReporter((l) => io.output.out(l)) : new AdhocReporter(o.moduleName, o.verbose, io.output);
  return execute([play], o, io, p, registry, reporter);
}

async function execute(
  plays: Play[],
  o: RunOpts,
  io: CliIO,
  p: Prepared,
  registry: ModuleRegistry,
  reporter: Reporter,
  rolesPath?: string[],
): Promise<number> {
  const { inventory, limit, extraVars, forks, becomePassword, sshPassword } = p;
  const verbosity = o.verbose;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  if (!io.signal) process.once('SIGINT', onSigint);
  io.signal?.addEventListener('abort', () => abort.abort());
  const pool = new ConnectionPool(
    io.opener ??
      defaultOpener({
        env: io.env,
        timeout: o.timeout !== undefined ? Number(o.timeout) : undefined,
        privateKeyFile: o.privateKey,
        password: sshPassword,
        sshCommonArgs: o.sshCommonArgs,
        sshExtraArgs: o.sshExtraArgs,
      }),
  );
  // Ctrl-C during a handshake: a connect waits for no command, so it must be told itself
  abort.signal.addEventListener('abort', () => pool.interrupt(), { once: true });
  try {
    const summary = await runPlays({
      plays,
      inventory,
      registry,
      reporter,
      pool,
      limit,
      startAtTask: o.startAtTask,
      signal: abort.signal,
      rolesPath,
      settings: {
        check: Boolean(o.check),
        diff: Boolean(o.diff),
        verbosity,
        forks,
        extraVars,
        become: o.become ? true : truthyEnv(io.env.ANSIBLE_BECOME),
        becomeUser: o.becomeUser ?? io.env.ANSIBLE_BECOME_USER,
        becomePassword,
        remoteUser: o.user ?? io.env.ANSIBLE_REMOTE_USER,
        connection: o.connection,
        tags: splitList(o.tags),
        skipTags: splitList(o.skipTags),
        verifyIdempotence: truthyEnv(io.env.TSPLAY_VERIFY_IDEMPOTENCE) ?? false,
        maxOutputBytes: p.maxOutputBytes,
        forceHandlers: o.forceHandlers ? true : (truthyEnv(io.env.ANSIBLE_FORCE_HANDLERS) ?? false),
      },
    });
    if (summary.interrupted) return EXIT.interrupted;
    if (summary.anyUnreachable) return EXIT.unreachable;
    if (summary.anyFailed) return EXIT.failed;
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSigint);
    reporter.close();
  }
}

// The first sentence of a description, for one line of `doc --list`: it ends at a full stop
// followed by a capital letter or the end, so that "e.g." or "i.e." does not cut it short.
export function firstSentence(text: string): string {
  const m = /^[\s\S]*?[.!?](?=\s+[A-Z`(]|\s*$)/.exec(text.trim());
  return (m ? m[0] : text.trim()).replace(/\s+/g, ' ');
}

async function docCommand(name: string | undefined, o: { list?: boolean; modulePath?: string[] }, io: CliIO): Promise<number> {
  const registry = await buildRegistry([join(io.cwd)], o.modulePath ?? [], io.env);
  const out = (s: string) => io.output.out(s);
  if (o.list || !name) {
    const rows: [string, string][] = [];
    for (const m of registry.modules()) {
      rows.push([m.def.name, firstSentence(m.def.description)]);
      // collection names (ansible.builtin.copy) would double the list: each module answers to them
      for (const a of m.def.aliases ?? []) if (!a.includes('.')) rows.push([a, `alias of ${m.def.name}`]);
    }
    rows.sort(([a], [b]) => a.localeCompare(b));
    for (const [n, d] of rows) out(`${n.padEnd(24)} ${d}\n`);
    return EXIT.ok;
  }
  const m = registry.get(name);
  if (!m) {
    const close = registry.suggest(name);
    throw new OptionsError(
      `module ${name} not found`,
      close.length ? `did you mean ${close.join(' or ')}? (tsplay doc --list shows every module)` : 'tsplay doc --list shows every module',
    );
  }
  out(`> ${m.def.name.toUpperCase()}${m.file ? `    (${m.file})` : ''}\n\n  ${m.def.description}\n\nOPTIONS (= is mandatory):\n`);
  const schema = m.def.schema as { properties: Record<string, Record<string, unknown>>; required?: string[] };
  for (const [k, p] of Object.entries(schema.properties ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const req = schema.required?.includes(k) ? '=' : '-';
    out(`\n${req} ${k}\n        ${String(p.description ?? '')}\n`);
    if (p.aliases) out(`        aliases: [${(p.aliases as string[]).join(', ')}]\n`);
    if (p.enum) out(`        choices: [${(p.enum as unknown[]).join(', ')}]\n`);
    if (p.default !== undefined) out(`        default: ${JSON.stringify(p.default)}\n`);
    if (p.type) out(`        type: ${Array.isArray(p.type) ? p.type.join('|') : String(p.type)}\n`);
  }
  if (m.def.examples) out(`\nEXAMPLES:\n\n${m.def.examples}\n`);
  return EXIT.ok;
}

function printError(e: unknown, io: CliIO): number {
  const err = (s: string) => io.output.err(secretValues.redact(s) + '\n');
  if (e instanceof OptionsError) {
    err(`ERROR! ${e.format()}`);
    return EXIT.options;
  }
  if (e instanceof UserError) {
    err(`ERROR! ${e.format()}`);
    // as ansible-playbook: what its parser refuses is 4, a missing file or a bad inventory (in
    // Ansible's strict inventory mode) is an AnsibleError, 1
    return ['E_YAML', 'E_PLAYBOOK', 'E_UNKNOWN_MODULE', 'E_MODULE_ARGS', 'E_TEMPLATE', 'E_UNDEFINED'].includes(e.code)
      ? EXIT.parse
      : EXIT.error;
  }
  if (e instanceof ModuleCrash) {
    err(`ERROR! ${e.message}\n${(e.cause as Error)?.stack ?? ''}`);
    return EXIT.error;
  }
  err(
    `ERROR! internal error in tsplay: ${(e as Error)?.message ?? String(e)}\n${(e as Error)?.stack ?? ''}\nThis is a bug in tsplay; please report it with the command line and the stack above.`,
  );
  return EXIT.internal;
}

/** The options `run` and `adhoc` share, with Ansible's names and letters. */
function addRunOptions(cmd: Command, playbook: boolean): Command {
  cmd
    .option('-i, --inventory <source>', 'inventory file, directory or comma list (repeatable)', collect)
    .option('-l, --limit <pattern>', 'limit to hosts matching this pattern (or @file)', collect)
    .option('-e, --extra-vars <vars>', 'key=value, inline YAML/JSON or @file (repeatable)', collect)
    .option('-C, --check', 'predict changes without making them')
    .option('-D, --diff', 'show the differences in changed files')
    .option('-f, --forks <n>', 'hosts to run in parallel (default 5)')
    .option('-u, --user <user>', 'connect as this user')
    .option('-b, --become', 'run with sudo')
    .option('--become-user <user>', 'user to become')
    .addOption(new Option('--become-method <method>', 'how to become (sudo)'))
    .option('-K, --ask-become-pass', 'ask for the sudo password')
    .option('--become-password-file <file>', 'read the sudo password from a file')
    .option('-c, --connection <type>', 'connection type: ssh or local')
    .option('-M, --module-path <paths>', 'directories of custom modules (colon separated, repeatable)', collect)
    .option('-T, --timeout <seconds>', 'connection timeout in seconds (default 10)')
    .option('--private-key, --key-file <file>', 'SSH private key file')
    .option('-k, --ask-pass', 'ask for the SSH password')
    .option('--connection-password-file <file>', 'read the SSH password from a file')
    .option('--ssh-common-args <args>', 'OpenSSH options for every host (e.g. "-J pi@gateway")')
    .option('--ssh-extra-args <args>', 'more OpenSSH options')
    .option('-v, --verbose', 'more output (-vvvv for the most)', (_v: string, prev: number) => prev + 1, 0)
    .option('--list-hosts', 'list the hosts that would be targeted')
    .option('--output <format>', 'default or json (NDJSON events)', 'default');
  addVaultOptions(cmd);
  if (playbook) {
    cmd
      .option('-t, --tags <tags>', 'only run tasks with these tags', collect)
      .option('--skip-tags <tags>', 'skip tasks with these tags', collect)
      .option('--list-tasks', 'list the tasks each play would run')
      .option('--list-tags', 'list the tags')
      .option('--syntax-check', 'check the playbook and exit')
      .option('--start-at-task <name>', 'start at the task with this name')
      .option('--force-handlers', 'run notified handlers even on hosts that failed');
  }
  return cmd;
}

/** Run the CLI with these arguments; returns the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('tsplay')
    .description('Ansible-style, agentless playbooks in TypeScript: fast, with check mode you can trust')
    .version(VERSION, '--version', 'print the version')
    .configureOutput({ writeOut: (s) => io.output.out(s), writeErr: (s) => io.output.err(s) })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  const run = program
    .command('run')
    .description('run one or more playbooks (as ansible-playbook)')
    .argument('<playbook...>', 'playbook files');
  addRunOptions(run, true).action(async (files: string[], o: RunOpts) => {
    code = await runCommand(files, o, io);
  });

  const adhoc = program
    .command('adhoc')
    .description('run one module on hosts (as the ansible command)')
    .argument('<pattern>', 'host pattern')
    .option('-m, --module-name <module>', 'module to run', 'command')
    .option('-a, --args <args>', 'module arguments (k=v, free form, or inline YAML/JSON)');
  addRunOptions(adhoc, false).action(async (pattern: string, o: RunOpts & { moduleName: string; args?: string }) => {
    code = await adhocCommand(pattern, o, io);
  });

  program
    .command('schema')
    .description('write the JSON Schema of playbooks (for editors: yaml-language-server)')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('-M, --module-path <paths>', 'directories of custom modules', collect)
    .action(async (o: { output?: string; modulePath?: string[] }) => {
      const registry = await buildRegistry([io.cwd], splitList(o.modulePath?.flatMap((m) => m.split(':'))), io.env);
      const text = JSON.stringify(playbookSchema(registry), null, 2) + '\n';
      if (o.output) writeFileSync(resolve(io.cwd, o.output), text);
      else io.output.out(text);
    });

  program
    .command('doc')
    .description("show a module's documentation (as ansible-doc)")
    .argument('[module]', 'module name')
    .option('-l, --list', 'list all modules')
    .option('-M, --module-path <paths>', 'directories of custom modules', collect)
    .action(async (name: string | undefined, o: { list?: boolean; modulePath?: string[] }) => {
      code = await docCommand(name, o, io);
    });

  registerVaultCommand(
    program,
    () => ({
      cwd: io.cwd,
      env: io.env,
      out: (t) => io.output.out(t),
      err: (t) => io.output.err(t),
      prompt: io.prompt ?? readVaultPassFromTerminal,
      stdin: io.stdin ?? readStdin,
    }),
    (n) => {
      code = n;
    },
  );

  registerLabCommands(program, { out: (t) => io.output.out(t), err: (t) => io.output.err(t) }, (n) => {
    code = n;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.options;
    }
    return printError(e, io);
  }
}

/** Run as the `tsplay` process: argv from the command line, the exit code set when done. */
export function runAsProcess(): void {
  // `tsplay run ... | head`: a closed pipe ends the output quietly, as other CLIs do
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

// Custom modules importing 'tsplay' get these very objects (engine/api-bridge.ts).
(globalThis as Record<symbol, unknown>)[Symbol.for('tsplay.api')] ??= api;

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
})();
if (invokedDirectly) runAsProcess();
