import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { checkPhoneNumber } from "../../src/domain/phone.ts";

/** Area codes the benchmark's numbers are spread over (each a different set of zones' worth of rows). */
const AREA_CODES = [415, 212, 617, 312, 206, 305, 404, 713, 303, 702];
const SEGMENTS = ["retail", "smb", "enterprise", "public"];

export const BENCH_HEADER = "PhoneNumber,ContactName,metadata.zip,metadata.segment,data.account";

/**
 * The i-th distinct US number: area code, exchange 200-999, subscriber number. The subscriber digits go
 * through a bijection on 0..9999 so consecutive rows do not share prefixes.
 */
export function benchNumber(i: number): string {
  const area = AREA_CODES[i % AREA_CODES.length]!;
  const rest = Math.floor(i / AREA_CODES.length);
  const exchange = 200 + (rest % 800);
  const sub = (Math.floor(rest / 800) * 7919) % 10000;
  return `+1${area}${exchange}${String(sub).padStart(4, "0")}`;
}

/**
 * Writes `rows` synthetic valid jobs as CSV (made-up numbers and names, no real person's data) and
 * returns the file; an existing file with the same row count is reused.
 */
export async function generateCsv(dir: string, rows: number): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `jobs-${rows}.csv`);
  const marker = `${file}.done`;
  if (
    existsSync(file) &&
    existsSync(marker) &&
    readFileSync(marker, "utf8") === String(statSync(file).size)
  ) {
    return file;
  }
  const out = createWriteStream(file);
  const write = (s: string): Promise<void> | undefined =>
    out.write(s) ? undefined : new Promise((resolve) => out.once("drain", () => resolve()));
  await write(`${BENCH_HEADER}\n`);
  let buf = "";
  let written = 0;
  for (let i = 0; written < rows; i++) {
    const phone = benchNumber(i);
    if (!checkPhoneNumber(phone).ok) continue; // keep only numbers Cobbery accepts
    const zip = String(10000 + ((i * 37) % 89999));
    buf += `${phone},"Contact ${written}, Jr",${zip},${SEGMENTS[i % SEGMENTS.length]},A-${100000 + written}\n`;
    written++;
    if (buf.length > 1 << 16) {
      await write(buf);
      buf = "";
    }
  }
  await write(buf);
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  const { writeFileSync } = await import("node:fs");
  writeFileSync(marker, String(statSync(file).size));
  return file;
}
