/** Discord checks with reads only (the client's channel read, which also proves the token); the doctor never posts. */
import type { Config } from '../../config/index.js';
import { DiscordApiError, DiscordClient } from '../../clients/discord/index.js';
import { errorText, fail, pass, skip, type CheckResult } from './check.js';

function hint(err: unknown, channelId?: string): string {
  if (err instanceof DiscordApiError) {
    if (err.status === 401) return 'Discord refused the bot token: set DISCORD_BOT_TOKEN to the bot\'s token (Developer Portal → Bot)';
    if (err.code === 10003 || err.status === 404) return `channel ${channelId ?? ''} does not exist: check the channel id (Discord developer mode → Copy Channel ID)`;
    if (err.code === 50001 || err.status === 403)
      return `the bot cannot see channel ${channelId ?? ''}: invite it to the server and grant View Channel and Send Messages there`;
  }
  return 'check DISCORD_API_URL and the network path to Discord';
}

/** Every channel a notice may go to, with the settings that name it. */
export function configuredChannels(config: Config): Map<string, string[]> {
  const d = config.discord;
  const out = new Map<string, string[]>();
  const add = (id: string | undefined, env: string) => {
    if (id) out.set(id, [...(out.get(id) ?? []), env]);
  };
  add(d.channel, 'MC_DISCORD_CHANNEL');
  add(d.deliveryChannel, 'MC_DELIVERY_CHANNEL');
  add(d.approvalsChannel, 'MC_APPROVALS_CHANNEL');
  add(d.resourceChannel, 'MC_RESOURCE_CHANNEL');
  add(d.costChannel, 'MC_COST_CHANNEL');
  return out;
}

export async function discordChecks(config: Config): Promise<CheckResult[]> {
  const channels = configuredChannels(config);
  if (!config.discord.token) {
    return [skip('discord', `not configured (DISCORD_BOT_TOKEN unset): notices are off${channels.size > 0 ? ', channels are ignored' : ''}`)];
  }
  const client = new DiscordClient({
    token: config.discord.token,
    apiUrl: config.discord.apiUrl,
    postDeadlineMs: config.discord.postDeadlineMs,
    // A doctor reports a rate limit instead of sleeping through it.
    maxRateLimitWaitMs: 0,
  });

  if (channels.size === 0) return [fail('discord', 'no channel configured', 'set MC_DISCORD_CHANNEL (notifications_channel in the kit file)')];
  const results: CheckResult[] = [];
  for (const [id, envs] of channels) {
    const name = `discord (${envs.join(', ')})`;
    try {
      const channel = await client.channel(id);
      results.push(pass(name, `bot token accepted; ${channel.name ? `#${channel.name}` : 'channel'} ${channel.id} readable`));
    } catch (err) {
      results.push(fail(name, `channel ${id}: ${errorText(err)}`, hint(err, id)));
      // A refused token fails every channel the same way: one line says it.
      if (err instanceof DiscordApiError && err.status === 401) break;
    }
  }
  return results;
}
