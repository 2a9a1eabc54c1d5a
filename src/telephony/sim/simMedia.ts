import type { CallMedia, ContactTurn } from "../port.ts";

/** Speech takes 150 words a minute; a silent turn lasts this long before the agent goes on. */
const MS_PER_WORD = 60_000 / 150;
const SILENCE_MS = 5_000;

/**
 * How long saying `text` takes: its words (tokens with a letter or a digit; a comma a missing
 * template variable left alone, "Hi , this is", is not a word) at 150 a minute, at least one.
 */
export const speechMs = (text: string): number =>
  Math.max(1, text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length) * MS_PER_WORD;

/**
 * A connected simulated call: the contact answers each agent turn with the next of its replies;
 * "<silence>" says nothing, "<hangup>" or running out of replies hangs up. Time is simulated and
 * deterministic: it advances by the length of what is said.
 */
export class SimMedia implements CallMedia {
  private clock: number;
  private readonly replies: string[];
  private ended = false;

  constructor(
    answeredAt: Date,
    replies: readonly string[],
    private readonly opts: { onEnd?: () => void } = {},
  ) {
    this.clock = answeredAt.getTime();
    this.replies = [...replies];
  }

  get now(): Date {
    return new Date(this.clock);
  }

  async say(text: string): Promise<Date> {
    if (!this.ended) this.clock += speechMs(text);
    return new Date(this.clock);
  }

  async listen(): Promise<ContactTurn> {
    if (this.ended) return { kind: "hangup", at: this.now };
    const next = this.replies.shift();
    if (next === undefined || next === "<hangup>") {
      this.cut();
      return { kind: "hangup", at: this.now };
    }
    if (next === "<silence>") {
      this.clock += SILENCE_MS;
      return { kind: "silence", at: this.now };
    }
    this.clock += speechMs(next);
    return { kind: "speech", text: next, at: this.now };
  }

  async hangup(): Promise<Date> {
    this.cut();
    return this.now;
  }

  /** Ends the call; also used when the carrier ends it from outside (cancel, max duration). */
  cut(): void {
    if (!this.ended) this.opts.onEnd?.();
    this.ended = true;
  }
}
