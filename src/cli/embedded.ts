import { startSandbox, type SandboxInfo } from '../sandbox/index.js';

export interface EmbeddedInfo extends SandboxInfo {
  gatewayUrl?: string;
  gatewayToken?: string;
}

export interface Embedded {
  info: EmbeddedInfo;
  close(): Promise<void>;
}

/** The sandbox peers in this process: Mission Control, Discord and (when built) the gateway simulator. */
export async function startEmbedded(opts: {
  seed: 'demo' | 'empty';
  ports?: { mc?: number | undefined; discord?: number | undefined; control?: number | undefined; gateway?: number | undefined };
}): Promise<Embedded> {
  const ports = Object.fromEntries(Object.entries(opts.ports ?? {}).filter(([, v]) => v !== undefined));
  const sandbox = await startSandbox({ seed: opts.seed, ports });
  return { info: { ...sandbox.info }, close: () => sandbox.close() };
}

/** Environment a controller needs to talk to the embedded peers. */
export function embeddedEnv(info: EmbeddedInfo): Record<string, string> {
  return {
    MC_API_URL: info.mcApiUrl,
    MC_AUTH_TOKEN: info.mcAuthToken,
    MC_BOARD_ID: info.boardId,
    DISCORD_API_URL: info.discordApiUrl,
    DISCORD_BOT_TOKEN: info.discordBotToken,
    MC_DISCORD_CHANNEL: info.discordChannelId,
    ...(info.gatewayUrl && info.gatewayToken ? { MC_GATEWAY_URL: info.gatewayUrl, MC_GATEWAY_TOKEN: info.gatewayToken } : {}),
  };
}
