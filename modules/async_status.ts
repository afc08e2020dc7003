// async_status: how a task started in the background (async: N, poll: 0) is doing.
import { defineModule, noop, planFailure } from '../engine/index.js';

interface Args {
  jid: string;
  mode: 'status' | 'cleanup';
}

type State = { missing: true } | { finished: boolean; result: Record<string, unknown>; failed?: string };

export default defineModule<Args, State>({
  name: 'async_status',
  aliases: ['ansible.builtin.async_status'],
  description:
    'Report on a background task started with async and poll: 0 (finished: 0 until it is done, then its result); use with until: job.finished.',
  schema: {
    type: 'object',
    properties: {
      jid: { type: 'string', description: 'The ansible_job_id of the background task.' },
      mode: { type: 'string', enum: ['status', 'cleanup'], default: 'status', description: 'status reports; cleanup forgets the job.' },
    },
    required: ['jid'],
    additionalProperties: false,
  },
  examples: `- command: /usr/local/bin/long-job
  async: 600
  poll: 0
  register: job
- async_status:
    jid: "{{ job.ansible_job_id }}"
  register: status
  until: status.finished
  retries: 60
  delay: 10`,
  async gather(ctx, args) {
    const job = ctx.asyncJob?.(args.jid);
    if (!job) return { missing: true };
    return { finished: job.finished, result: job.result, failed: job.failed };
  },
  plan(state, args) {
    const keys = { ansible_job_id: args.jid, results_file: `~/.ansible_async/${args.jid}`, started: 1 };
    if ('missing' in state) return planFailure(`could not find job`, { ...keys, finished: 1 });
    if (args.mode === 'cleanup') return noop('job forgotten', { ansible_job_id: args.jid, erased: keys.results_file });
    if (!state.finished) return noop('still running', { ...keys, finished: 0 });
    // the finished task's own result, changed as it was (a command that ran is changed)
    const result = { ...state.result, ...keys, finished: 1, changed: state.result.changed ?? true };
    if (state.failed) return planFailure(state.failed, result);
    return noop('finished', result);
  },
});
