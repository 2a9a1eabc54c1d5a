import { createReadStream, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { AppError, type ErrorDetail } from "../errors/index.ts";
import type { AdminOps } from "./adminOps.ts";
import { CsvParser, type CsvRecord } from "./import/csv.ts";
import { boundHeapGrowth } from "./import/memory.ts";
import { Progress, type ProgressStream } from "./import/progress.ts";
import {
  csvColumns,
  csvRow,
  detectFormat,
  ImportFileError,
  ndjsonRow,
  type RowOutcome,
  textProblem,
} from "./import/rows.ts";

export interface ImportSummary {
  rows: number;
  created: number;
  rejected: number;
}

/** Rows per call to Cobbery, and a byte budget so that rows with large Data keep requests small. */
const BATCH_ROWS = 5_000;
const BATCH_BYTES = 8 * 1024 * 1024;
/** Batches being created at once: the next one is read and validated while one is written. */
const MAX_IN_FLIGHT = 2;
/** Rejected rows listed in the summary; the rest are counted. */
const LISTED_REJECTIONS = 50;

interface Batch {
  inputs: unknown[];
  lines: number[];
  bytes: number;
}

interface Rejection {
  line: number;
  details: ErrorDetail[];
}

/**
 * `cobbery jobs import --campaign ID FILE`: streams a CSV or NDJSON file into the campaign in batches,
 * with at most two batches in flight, so memory stays flat whatever the file's size. Rows that cannot
 * be read or that Cobbery refuses are reported by line number and reason (a value at most masked, as
 * the API shows it: never whole).
 */
export async function importJobsFile({
  ops,
  campaignId,
  file,
  progress,
  out = (s) => process.stdout.write(s),
  batchRows = BATCH_ROWS,
}: {
  ops: AdminOps;
  campaignId: string;
  file: string;
  progress: ProgressStream;
  /** Where the summary goes (stdout). */
  out?: (s: string) => void;
  batchRows?: number;
}): Promise<ImportSummary> {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new AppError("validation_failed", `${file} is not a file.`);
    size = st.size;
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError(
      "not_found",
      `Cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}.`,
    );
  }
  const format = detectFormat(file);
  boundHeapGrowth();
  // Fails early (not_found, archived campaign) before reading anything.
  await ops.importBatch(campaignId, []);
  const send = ops.importBulk ? ops.importBulk.bind(ops) : ops.importBatch.bind(ops);

  const counts = { bytes: 0, rows: 0, created: 0, rejected: 0 };
  const listed: Rejection[] = [];
  const bar = new Progress(progress, size);
  const reject = (line: number, details: ErrorDetail[]): void => {
    counts.rejected++;
    if (listed.length === LISTED_REJECTIONS && line > listed[listed.length - 1]!.line) return;
    let i = listed.length;
    while (i > 0 && listed[i - 1]!.line > line) i--;
    listed.splice(i, 0, { line, details });
    if (listed.length > LISTED_REJECTIONS) listed.pop();
  };

  let batch: Batch = { inputs: [], lines: [], bytes: 0 };
  const full: Batch[] = [];
  const take = (line: number, size: number, row: RowOutcome): void => {
    counts.rows++;
    if (!row.ok) {
      reject(line, row.details);
      return;
    }
    batch.inputs.push(row.input);
    batch.lines.push(line);
    batch.bytes += size;
    if (batch.inputs.length >= batchRows || batch.bytes >= BATCH_BYTES) {
      full.push(batch);
      batch = { inputs: [], lines: [], bytes: 0 };
    }
  };

  const inflight: Promise<void>[] = [];
  let failure: unknown;
  const submit = async (b: Batch): Promise<void> => {
    const p = send(campaignId, b.inputs).then((r) => {
      counts.created += r.Created;
      for (const e of r.Errors) {
        const details =
          e.Error.Details.length > 0 ? e.Error.Details : [{ Path: "", Message: e.Error.Message }];
        reject(b.lines[e.Index] ?? 0, details);
      }
      bar.update(counts);
    });
    p.catch((e) => {
      failure ??= { error: e, line: b.lines[0] };
    });
    inflight.push(p);
    if (inflight.length >= MAX_IN_FLIGHT) await inflight.shift();
  };

  const utf8 = new Utf8Check();
  const onRecord = recordHandler(format, take, () => utf8.recentlyInvalid);
  const parser = format === "csv" ? new CsvParser() : null;
  const lines = format === "ndjson" ? new LineSplitter() : null;
  const decoder = new StringDecoder("utf8");
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      counts.bytes += chunk.length;
      utf8.check(chunk);
      const text = decoder.write(chunk);
      if (parser) parser.push(text, onRecord.csv);
      else lines!.push(text, onRecord.ndjson);
      while (full.length > 0) await submit(full.shift()!);
      bar.update(counts);
    }
    const rest = decoder.end();
    if (parser) {
      parser.push(rest, onRecord.csv);
      parser.end(onRecord.csv);
    } else {
      lines!.push(rest, onRecord.ndjson);
      lines!.end(onRecord.ndjson);
    }
    onRecord.finish();
    if (batch.inputs.length > 0) full.push(batch);
    while (full.length > 0) await submit(full.shift()!);
    await Promise.allSettled(inflight);
    await Promise.all(inflight);
  } catch (e) {
    stream.destroy();
    await Promise.allSettled(inflight);
    if (e instanceof ImportFileError) throw new AppError("validation_failed", e.message);
    const f = failure as { error: unknown; line: number } | undefined;
    throw stopped(f?.error ?? e, f?.line, counts.created);
  }
  bar.finish(counts);
  out(summary(counts, listed));
  return { rows: counts.rows, created: counts.created, rejected: counts.rejected };
}

/**
 * Whether the file's last chunks held bytes that are not UTF-8 (decoded as U+FFFD). A U+FFFD the
 * file itself spells in UTF-8 is valid text: only records read while invalid bytes were seen are
 * checked for it. The previous chunk counts too: a record may end a chunk after the one its
 * invalid bytes were in.
 */
class Utf8Check {
  private decoder = new TextDecoder("utf-8", { fatal: true });
  private previous = false;
  recentlyInvalid = false;

  check(chunk: Buffer): void {
    let invalid = false;
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      invalid = true;
      this.decoder = new TextDecoder("utf-8", { fatal: true });
    }
    this.recentlyInvalid = invalid || this.previous;
    this.previous = invalid;
  }
}

/** Feeds records of either format to `take`, with their line number and an approximate size. */
function recordHandler(
  format: "csv" | "ndjson",
  take: (line: number, size: number, row: RowOutcome) => void,
  notUtf8: () => boolean,
) {
  let columns: ReturnType<typeof csvColumns> | undefined;
  let sawHeader = false;
  return {
    csv(r: CsvRecord): void {
      if (!sawHeader) {
        sawHeader = true;
        columns = csvColumns(r.fields);
        return;
      }
      let size = 0;
      for (const f of r.fields) size += f.length + 1;
      const problem = r.problem ? `${r.problem}.` : textProblem(r.fields, notUtf8());
      if (problem) take(r.line, size, { ok: false, details: [{ Path: "", Message: problem }] });
      else take(r.line, size, csvRow(columns!, r.fields));
    },
    ndjson(line: string, n: number): void {
      if (line.trim() === "") return;
      const problem = textProblem([line], notUtf8());
      take(
        n,
        line.length,
        problem ? { ok: false, details: [{ Path: "", Message: problem }] } : ndjsonRow(line),
      );
    },
    finish(): void {
      if (format === "csv" && !sawHeader)
        throw new ImportFileError(
          "The CSV file is empty: it needs a header line naming its columns (PhoneNumber, ...).",
        );
    },
  };
}

/** Splits text pushed in chunks into lines (LF or CRLF), with 1-based line numbers; drops a BOM. */
class LineSplitter {
  private rest = "";
  private line = 1;
  private started = false;

  push(text: string, emit: (line: string, n: number) => void): void {
    let s = this.rest + text;
    if (!this.started && s.length > 0) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    let from = 0;
    for (let nl = s.indexOf("\n"); nl !== -1; nl = s.indexOf("\n", from)) {
      const end = nl > from && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      emit(s.slice(from, end), this.line++);
      from = nl + 1;
    }
    this.rest = s.slice(from);
  }

  end(emit: (line: string, n: number) => void): void {
    if (this.rest !== "") emit(this.rest.replace(/\r$/, ""), this.line++);
    this.rest = "";
  }
}

const fmt = (x: number): string => x.toLocaleString("en-US");

function summary(c: { rows: number; created: number; rejected: number }, listed: Rejection[]): string {
  let s = `Read ${fmt(c.rows)} row${c.rows === 1 ? "" : "s"}: ${fmt(c.created)} job${c.created === 1 ? "" : "s"} created, ${fmt(c.rejected)} rejected.\n`;
  if (listed.length > 0) {
    s += "Rejected rows:\n";
    for (const r of listed) {
      s += `line ${r.line}: ${r.details.map((d) => (d.Path ? `${d.Path} ${d.Message}` : d.Message)).join("; ")}\n`;
    }
    if (c.rejected > listed.length) s += `... and ${fmt(c.rejected - listed.length)} more\n`;
  }
  return s;
}

/**
 * The error that stopped an import midway. Database messages can quote values from the rows, so only
 * an AppError's message (written by Cobbery, PII-free) is passed on; others keep their quoted parts out.
 */
function stopped(e: unknown, line: number | undefined, created: number): AppError {
  const where = line === undefined ? "" : ` at the batch starting on line ${line}`;
  // Batches go two at a time: one the server was writing when this one failed may have been
  // created without its answer coming back, so the count is a floor.
  const done = ` At least ${fmt(created)} job${created === 1 ? " was" : "s were"} created before it, and a batch sent with it may have been too: rows with an ExternalId are skipped when the file is imported again.`;
  if (e instanceof AppError) {
    return new AppError(
      e.code,
      line === undefined ? e.message : `Import stopped${where}: ${e.message}${done}`,
      e.details,
    );
  }
  const err = e as { message?: string; code?: string };
  const message = String(err.message ?? e).replace(/"[^"]*"/g, '"…"');
  return new AppError(
    "internal",
    `Import stopped${where}: ${message}${err.code ? ` (${err.code})` : ""}.${done}`,
  );
}
