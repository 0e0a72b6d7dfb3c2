/**
 * `npm run bench -- [--json] [--only steady|latency|pass] [--tasks 1000,10000] [--sessions-without-usage]
 *   [--events 50] [--modes sse,poll] [--streams upstream,instant] [--kinds approval-to-discord,done-to-delivered,idle-to-stalled]
 *   [--pass-peers simulator,real-gateway] [--pass-tasks 100,1000,10000] [--real-tasks 100,1000]`
 * `--streams`: the sandbox's SSE timing in sse mode, upstream's 2 s poll (what users see) and/or instant pushes.
 * Steady-state passes, pass costs against the simulator and the real gateway, and event latencies.
 * Not part of `npm test`.
 */
import { passBench, type PassPeer } from './pass.js';
import { steadyPass } from './steady.js';
import type { StreamMode } from '../src/sandbox/mission-control/sse.js';
import { LATENCY_EVENTS, latencyBench, type LatencyEvent } from './latency.js';

interface Args {
  json: boolean;
  only: 'steady' | 'latency' | 'pass' | null;
  passPeers: PassPeer[];
  passTasks: number[];
  realTasks: number[];
  tasks: number[];
  events: number;
  modes: ('sse' | 'poll')[];
  streams: StreamMode[];
  kinds: LatencyEvent[];
  usage: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, only: null, tasks: [1000, 10000], events: 50, modes: ['sse', 'poll'], streams: ['upstream', 'instant'], kinds: ['approval-to-discord', 'done-to-delivered', 'idle-to-stalled'], usage: true, passPeers: ['simulator', 'real-gateway'], passTasks: [100, 1000, 10000], realTasks: [100, 1000] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') args.json = true;
    else if (a === '--only') {
      const v = next();
      if (v !== 'steady' && v !== 'latency' && v !== 'pass') throw new Error('--only takes steady, latency or pass');
      args.only = v;
    } else if (a === '--tasks') args.tasks = next().split(',').map(Number);
    else if (a === '--events') args.events = Number(next());
    else if (a === '--kinds') {
      args.kinds = next().split(',') as LatencyEvent[];
      const unknown = args.kinds.filter((k) => !LATENCY_EVENTS.includes(k));
      if (unknown.length > 0) throw new Error(`unknown latency event(s): ${unknown.join(', ')}`);
    } else if (a === '--modes') {
      args.modes = next().split(',') as Args['modes'];
      if (args.modes.some((m) => m !== 'sse' && m !== 'poll')) throw new Error('--modes takes sse and/or poll');
    }
    else if (a === '--streams') {
      args.streams = next().split(',') as Args['streams'];
      if (args.streams.some((m) => m !== 'upstream' && m !== 'instant')) throw new Error('--streams takes upstream and/or instant');
    } else if (a === '--sessions-without-usage') args.usage = false;
    else if (a === '--pass-peers') {
      args.passPeers = next().split(',') as PassPeer[];
      if (args.passPeers.some((p) => p !== 'simulator' && p !== 'real-gateway')) throw new Error('--pass-peers takes simulator and/or real-gateway');
    } else if (a === '--pass-tasks') args.passTasks = next().split(',').map(Number);
    else if (a === '--real-tasks') args.realTasks = next().split(',').map(Number);
    else throw new Error(`unknown option ${a}`);
  }
  for (const list of [args.tasks, args.passTasks, args.realTasks])
    if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--tasks, --pass-tasks and --real-tasks take positive integers');
  if (!Number.isInteger(args.events) || args.events < 1) throw new Error('--events takes a positive integer');
  return args;
}

function print(args: Args, result: Record<string, unknown>): void {
  if (args.json) {
    const { detail: _detail, ...flat } = result;
    process.stdout.write(`${JSON.stringify(flat)}\n`);
  } else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  if (args.only === null || args.only === 'steady') for (const n of args.tasks) print(args, { ...(await steadyPass(n, { usage: args.usage })) });
  if (args.only === null || args.only === 'pass')
    for (const peer of args.passPeers)
      for (const n of peer === 'simulator' ? args.passTasks : args.realTasks) for (const r of await passBench(peer, n, log)) print(args, { ...r });
  if (args.only === null || args.only === 'latency')
    for (const mode of args.modes) {
      // poll mode blocks the streams, so their timing does not matter there
      for (const streams of mode === 'sse' ? args.streams : (['upstream'] as const)) {
        for (const r of await latencyBench(mode, args.kinds, args.events, streams)) print(args, { ...r });
      }
    }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
