/** Process exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** an action failed, a peer was unreachable or refused us */
  failed: 1,
  /** invalid configuration or usage */
  invalid: 2,
  /** `plan --exit-code` found work to do; `task spawn-payload` refused while degraded */
  attention: 3,
  /** `once`: another instance holds the controller lock or Lease (named in the message); nothing was done */
  locked: 4,
} as const;

/** An error the CLI prints as one line and exits with, without a stack trace. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliExit';
  }
}
