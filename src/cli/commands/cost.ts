import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { DiscordApi } from '../../clients/discord/api.js';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import { refLine } from '../../model/discord-text.js';
import type { DiscordPostAction } from '../../model/index.js';
import { buildCostReport, costReportPost, costReportText, type BoardTasks } from '../../../reconcilers/cost/report.js';
import { CliExit, EXIT } from '../exit-codes.js';
import { Progress } from '../progress.js';
import { commandDoor, loadOrExit, loggerFor, missionControl, type GlobalFlags } from '../context.js';
import { discordClient, handlersFor } from '../handlers.js';
import type { EffectsDoor } from '../../runtime/effects/door.js';
import { applyOrDescribe, oneShotExecutor, wasApplied } from '../../runtime/one-shot.js';

interface ReportOptions {
  days: string;
  top: string;
  post?: boolean;
  json?: boolean;
}

function positiveInt(name: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliExit(EXIT.invalid, `invalid ${name}: expected an integer 1..${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Every page of every status: the client pages at limit 200 (the kit's limit=500 got a 422). */
async function boardTasks(mc: MissionControlApi, boardId: string, logger: Logger): Promise<BoardTasks> {
  const [board, listed] = await Promise.all([mc.getBoard(boardId).catch(() => null), mc.listTasks(boardId)]);
  for (const r of listed.rejected) logger.warn({ boardId, taskId: r.id }, `skipped malformed task row: ${r.problem}`);
  return { boardId, name: board?.name ?? null, tasks: listed.items };
}

type PostResult = { posted: boolean; messageId: string; channelId: string; detail: string } | { dryRun: true; content: string };

/**
 * The report as a `discord.post` through the executor, once per (boards, range, UTC day): Discord drops a
 * repeated nonce within its window, and after it the ref line is found among the channel's recent messages, so
 * nothing is planned. Behind a shut door the post is only described (`dry-run: would discord.post: …`). Its
 * ledger lives for this run only: the channel is the record, and a cron run writes nothing into the state folder.
 */
async function post(config: Config, logger: Logger, door: EffectsDoor, mc: MissionControlApi, action: DiscordPostAction): Promise<PostResult> {
  const executor = oneShotExecutor({ mc, logger, stateDir: config.loop.stateDir, door, handlers: handlersFor(config, logger, door), ledger: 'this-run' });
  if (!door.isOpen) {
    await applyOrDescribe(executor, [action], { closed: door.closedReason, logger });
    return { dryRun: true, content: action.content };
  }
  const channelId = config.discord.costChannel || config.discord.channel;
  const client: DiscordApi | null = discordClient(config, logger, door);
  if (!client || !channelId) {
    throw new CliExit(EXIT.invalid, 'invalid configuration:\n  - --post needs DISCORD_BOT_TOKEN and MC_COST_CHANNEL (or MC_DISCORD_CHANNEL)');
  }
  const ref = refLine(action.idempotencyKey);
  const earlier = (await client.recent(channelId, 50)).find((m) => m.content.split('\n').includes(ref));
  if (earlier) return { posted: false, messageId: earlier.id, channelId, detail: 'already posted today' };
  const [sent] = await applyOrDescribe(executor, [action], { closed: null, logger });
  const messageId = sent && wasApplied(sent) ? sent.externalId : undefined;
  if (!messageId) throw new CliExit(EXIT.failed, `cost report: not posted (${sent && wasApplied(sent) ? (sent.detail ?? sent.outcome) : 'not applied'})`);
  return { posted: true, messageId, channelId, detail: 'posted' };
}

export function registerCost(program: Command): void {
  const cost = program.command('cost').description('cost tracking (mc_actual_cost_usd)');
  cost
    .command('report')
    .description('totals per board, per agent and the top tasks over tasks updated in the last N days')
    .option('--days <n>', 'days back (updated_at, else created_at)', '7')
    .option('--top <n>', 'how many tasks in the top list', '5')
    .option('--post', 'post the report to MC_COST_CHANNEL (else MC_DISCORD_CHANNEL), once per day')
    .option('--json', 'print the report as one JSON object')
    .action(async (opts: ReportOptions, cmd: Command) => {
      const days = positiveInt('--days', opts.days, 3650);
      const top = positiveInt('--top', opts.top, 50);
      // with --dry-run (global) or MC_DRY_RUN the door is shut: --post prints the message instead of posting it
      const { config } = loadOrExit(cmd.optsWithGlobals<GlobalFlags>());
      const logger = loggerFor(config);
      const door = commandDoor(config);
      const progress = Progress.for(config.loop.logFormat);
      const mc = missionControl(config, logger, door, { progress });
      const boards: BoardTasks[] = [];
      for (const boardId of config.mc.boardIds) boards.push(await boardTasks(mc, boardId, logger));
      progress.end();
      const report = buildCostReport({ boards, days, now: Date.now(), agents: config.agents, publicUrl: config.mc.publicUrl ?? null, top });

      const posted = opts.post ? await post(config, logger, door, mc, costReportPost(report, config.discord.locale)) : undefined;

      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...report, ...(posted ? { post: posted } : {}) })}\n`);
        return;
      }
      process.stdout.write(`${costReportText(report)}\n`);
      if (posted && 'dryRun' in posted) process.stdout.write(`\n--- Discord message (dry-run, not posted) ---\n${posted.content}\n`);
      else if (posted) process.stdout.write(`\nDiscord: ${posted.detail} (message ${posted.messageId} in channel ${posted.channelId})\n`);
    });
}
