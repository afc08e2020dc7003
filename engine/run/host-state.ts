// Per-host state that lives for the whole run: facts, set_fact / register variables, status.
import { emptyStats, type HostStats } from './results.js';
import type { AsyncJob } from '../module.js';

export class HostState {
  /** Gathered facts (ansible_facts), also exposed as top-level ansible_* variables. */
  facts: Record<string, unknown> = {};
  /**
   * The top-level variable of a fact when it is not `ansible_<key>`: Ansible injects a module's
   * facts under the names the module returned (service_facts' `services`), setup's with ansible_.
   */
  factVarNames = new Map<string, string>();
  /** Variables from set_fact and register: they outlive the play, as in Ansible. */
  vars: Record<string, unknown> = {};
  stats: HostStats = emptyStats();
  /** Failed in this run: left out of the rest of the play and of later plays. */
  failed = false;
  unreachable = false;
  /** The failed and unreachable counts when meta: clear_host_errors last ran for this host. */
  clearedFailures = 0;
  clearedUnreachable = 0;
  /** meta: end_host / end_play for this host. */
  ended = false;
  /** Handler names / listen topics notified and not yet run. */
  notified = new Set<string>();
  /** The last failure that was not ignored: a rescue section's ansible_failed_task / _result. */
  lastFailure?: { task: Record<string, unknown>; result: Record<string, unknown> };
  /** Background jobs of async tasks with poll: 0, by job id (async_status reads them). */
  jobs = new Map<string, AsyncJob>();
  /** Check runs: what planned changes would have made true (Plan.publishes). */
  predicted = new Map<string, unknown>();

  constructor(readonly name: string) {}

  /** Still running tasks in this play. */
  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }
}
