import type { BackgroundTask } from "./background.ts";
import type { Logger } from "./logging/index.ts";
import { PollLoop } from "./pollLoop.ts";

/**
 * A background task that runs `round` every `intervalMs`, the first time one interval after start
 * (housekeeping has nothing urgent at start-up). A round that fails is logged; the next one runs on
 * time.
 */
export class PeriodicTask implements BackgroundTask {
  private readonly loop: PollLoop;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    logger: Logger,
    round: () => Promise<void>,
  ) {
    this.loop = new PollLoop(async () => {
      try {
        await round();
      } catch (e) {
        logger.warn({ err: e, task: name }, "background task round failed");
      }
      return intervalMs;
    });
  }

  async start(): Promise<void> {
    this.loop.start(this.intervalMs);
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
