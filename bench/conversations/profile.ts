/**
 * CPU profiles of the measured windows only (node:inspector, in this thread), and a summary of a
 * V8 .cpuprofile: self time by module and by function, and inclusive time by function, optionally
 * only over samples whose stack contains a given function (--under runConversation).
 *
 *   node --import tsx bench/conversations/profile.ts FILE.cpuprofile [--under NAME] [--top N]
 *
 * run.ts --cpu-prof-dir DIR writes one profile per measured pass and prints these summaries.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

let session: Session | null = null;

/** Starts sampling this thread (1 sample / 200 µs). */
export async function startProfile(): Promise<void> {
  session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
}

/** Stops sampling and writes the profile to `file`. */
export async function stopProfile(file: string): Promise<Profile> {
  if (!session) throw new Error("no profile running");
  const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
  await session.post("Profiler.disable");
  session.disconnect();
  session = null;
  writeFileSync(file, JSON.stringify(profile));
  return profile;
}

function where(f: CallFrame): string {
  let u = f.url.replace(/^file:\/\//, "");
  if (u.startsWith(ROOT)) u = path.relative(ROOT, u);
  u = u.replace(/^.*node_modules\//, "nm:");
  if (u.startsWith("wasm://")) return "wasm";
  return u || "(native)";
}
const keyOf = (f: CallFrame) => `${f.functionName || "(anonymous)"}  ${where(f)}`;

function moduleOf(f: CallFrame): string {
  const u = f.url.replace(/^file:\/\//, "");
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (nm) return `pkg ${nm[1]}`;
  if (u.startsWith("wasm://") || /wasm/i.test(f.functionName)) return "wasm (PGlite's PostgreSQL)";
  if (u.startsWith(ROOT)) return path.relative(ROOT, u);
  if (u.startsWith("node:")) return "node internals";
  if (f.functionName.startsWith("(")) return f.functionName;
  return `(native) ${f.functionName}`;
}

export interface Summary {
  totalMs: number;
  modules: Array<[string, number]>;
  self: Array<[string, number]>;
  inclusive: Array<[string, number]>;
}

/** Self time by module and function, inclusive time by function (ms), over samples under `under`. */
export function summarize(p: Profile, under?: string): Summary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const mods = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    const stack: ProfileNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
      stack.push(byId.get(cur)!);
    if (under && !stack.some((n) => n.callFrame.functionName === under)) return;
    total += dt;
    const leaf = stack[0]!.callFrame;
    add(self, keyOf(leaf), dt);
    add(mods, moduleOf(leaf), dt);
    const seen = new Set<string>();
    for (const n of stack) {
      const k = keyOf(n.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      add(incl, k, dt);
    }
  });
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((x, y) => y[1] - x[1]);
  return { totalMs: total, modules: sorted(mods), self: sorted(self), inclusive: sorted(incl) };
}

export function summaryText(s: Summary, top: number, title: string): string {
  const line = ([k, v]: [string, number]) =>
    `    ${v.toFixed(0).padStart(6)} ms ${((100 * v) / s.totalMs).toFixed(1).padStart(5)}%  ${k}`;
  return [
    `${title}: ${s.totalMs.toFixed(0)} ms sampled`,
    "  self time by module:",
    ...s.modules.slice(0, 12).map(line),
    "  self time by function:",
    ...s.self.slice(0, top).map(line),
    "  inclusive time by function:",
    ...s.inclusive
      .filter(([k]) => !k.startsWith("(root)"))
      .slice(0, top)
      .map(line),
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values: a, positionals } = parseArgs({
    allowPositionals: true,
    options: { under: { type: "string" }, top: { type: "string", default: "30" } },
  });
  for (const file of positionals) {
    const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
    const title = `${path.basename(file)}${a.under ? ` under ${a.under}` : ""}`;
    process.stdout.write(`${summaryText(summarize(p, a.under), Number(a.top), title)}\n\n`);
  }
}
