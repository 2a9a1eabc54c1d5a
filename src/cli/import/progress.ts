/**
 * Import progress on the terminal: a bar redrawn in place (at most 10 times a second) when the stream
 * is a TTY, else a plain line every 100,000 rows. Counts only: never a row's content.
 */

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface Counts {
  bytes: number;
  rows: number;
  created: number;
  rejected: number;
}

const REDRAW_MS = 100;
const LINE_EVERY_ROWS = 100_000;
const BAR_WIDTH = 24;

const n = (x: number): string => Math.round(x).toLocaleString("en-US");

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private nextLineAt = LINE_EVERY_ROWS;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly totalBytes: number,
  ) {}

  update(c: Counts, force = false): void {
    if (this.stream.isTTY) {
      const now = performance.now();
      if (!force && now - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.bar(c)}\x1b[K`);
      this.drawn = true;
    } else if (c.rows >= this.nextLineAt) {
      while (this.nextLineAt <= c.rows) this.nextLineAt += LINE_EVERY_ROWS;
      this.stream.write(`${this.line(c)}\n`);
    }
  }

  /** Draws the final state and leaves the terminal on a new line. */
  finish(c: Counts): void {
    if (!this.stream.isTTY) return;
    this.update({ ...c, bytes: this.totalBytes }, true);
    if (this.drawn) this.stream.write("\n");
  }

  private rate(rows: number): number {
    const s = (performance.now() - this.started) / 1000;
    return s > 0 ? rows / s : 0;
  }

  private bar(c: Counts): string {
    const frac = this.totalBytes > 0 ? Math.min(1, c.bytes / this.totalBytes) : 1;
    const full = Math.round(frac * BAR_WIDTH);
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    const text = `[${"#".repeat(full)}${".".repeat(BAR_WIDTH - full)}] ${pct} ${mb(c.bytes)}/${mb(this.totalBytes)}  ${n(this.rate(c.rows))} rows/s  created ${n(c.created)}  rejected ${n(c.rejected)}`;
    const width = this.stream.columns ?? 0;
    return width > 10 && text.length >= width ? text.slice(0, width - 1) : text;
  }

  private line(c: Counts): string {
    return `${n(c.rows)} rows read (${n(c.created)} created, ${n(c.rejected)} rejected), ${n(this.rate(c.rows))} rows/s`;
  }
}
