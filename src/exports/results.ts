import { notFound } from "../errors/index.ts";
import { type ExportJobRow, exportColumns, exportJobPage } from "../store/index.ts";
import type { Ctx } from "../usecases/context.ts";
import { csvLine } from "./csv.ts";

/** Jobs read per query: the export never holds more than this in memory. */
export const EXPORT_PAGE_SIZE = 1000;

const FIXED = ["JobId", "ExternalId", "State", "FailureReason"] as const;

export interface ResultsExport {
  filename: string;
  /** The header row's cells. */
  columns: string[];
  /** The CSV text, a page of rows at a time (the header first). */
  chunks: AsyncIterable<string>;
}

/**
 * The header: the fixed columns, one per AnalysisSchema property, one per Metadata key. A name
 * already taken by an earlier column is prefixed (`Result.` for a property named like a fixed column,
 * `Metadata.` for a key named like an earlier column), so that every header is unique.
 */
function header(analysis: readonly string[], metadata: readonly string[]): string[] {
  const taken = new Set<string>(FIXED);
  const unique = (name: string, prefix: string) => {
    let n = taken.has(name) ? `${prefix}${name}` : name;
    while (taken.has(n)) n = `${prefix}${n}`;
    taken.add(n);
    return n;
  };
  return [
    ...FIXED,
    ...analysis.map((k) => unique(k, "Result.")),
    ...metadata.map((k) => unique(k, "Metadata.")),
  ];
}

const own = (o: Record<string, unknown> | null, k: string): unknown =>
  o && Object.hasOwn(o, k) ? o[k] : null;

function row(j: ExportJobRow, analysis: readonly string[], metadata: readonly string[]): string {
  return csvLine([
    j.id,
    j.external_id,
    j.state,
    j.failure_reason,
    ...analysis.map((k) => own(j.result, k)),
    ...metadata.map((k) => own(j.metadata, k)),
  ]);
}

/**
 * A campaign's results as CSV, one row per job (test jobs included), oldest first. The columns are
 * fixed before the first row (the Metadata keys are the union over the campaign's jobs); the rows
 * are read a page at a time as the reader consumes them, so a campaign of any size streams.
 */
/** About how much of the CSV goes out at once (one row more at most). */
export const CHUNK_CHARACTERS = 64 * 1024;

export async function exportCampaignResults({
  ctx,
  campaignId,
  pageSize = EXPORT_PAGE_SIZE,
}: {
  ctx: Ctx;
  campaignId: string;
  pageSize?: number;
}): Promise<ResultsExport> {
  const db = ctx.deps.db;
  const cols = await exportColumns(db, ctx.orgId, campaignId);
  if (!cols) throw notFound("Campaign", campaignId);
  const { analysis, metadata } = cols;
  const columns = header(analysis, metadata);
  async function* chunks(): AsyncGenerator<string> {
    yield csvLine(columns);
    let after: string | null = null;
    for (;;) {
      const page = await exportJobPage(db, campaignId, after, pageSize);
      if (page.length === 0) return;
      // Rows go out in pieces of about CHUNK_CHARACTERS: a page of wide rows (thousands of
      // Metadata columns) joined whole would hold the page twice in memory, and could exceed the
      // longest string JavaScript can make.
      let piece = "";
      for (const j of page) {
        piece += row(j, analysis, metadata);
        if (piece.length >= CHUNK_CHARACTERS) {
          yield piece;
          piece = "";
        }
      }
      if (piece !== "") yield piece;
      if (page.length < pageSize) return;
      after = page.at(-1)?.id ?? null;
    }
  }
  return { filename: `${campaignId}-results.csv`, columns, chunks: chunks() };
}
