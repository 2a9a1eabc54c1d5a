/**
 * Per-call cost of the pieces a flow-agent turn runs, on the benchmark's own inputs, and of the
 * cheaper alternatives proposed in README.md (written here, beside the originals, never in src/).
 *
 *   node --import tsx bench/conversations/hotspots.ts
 */
import * as chrono from "chrono-node/en";
import { Liquid } from "liquidjs";
import {
  parseChoice,
  parseDateTime,
  parseNumber,
  parseText,
  parseYesNo,
  recognizeIntent,
} from "../../src/conversation/understanding/index.ts";
import { lowerExpanded, normalize } from "../../src/conversation/understanding/normalize.ts";
import { instantOf, offsetMinutesAt, wallClockAt } from "../../src/conversation/understanding/zone.ts";
import { renderTemplate, templateScope } from "../../src/templates/index.ts";
import { FIRST_MESSAGE, FLOW } from "./scenario.ts";
import { fmt, nowNs, table } from "./stats.ts";

const ZONE = "America/New_York";
const NOW = new Date("2025-03-03T15:00:05Z");
const ctx = { now: NOW, timeZone: ZONE };
const scope = templateScope({ ContactName: "Ana Lopez", PhoneNumber: "+33620000001" }, { Name: "bench" });

/** Median ns per call of f over `rounds` rounds of `n` calls, after a warm-up. */
function cost(f: () => unknown, n = 2000, rounds = 7): number {
  for (let i = 0; i < n; i++) f();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = nowNs();
    for (let i = 0; i < n; i++) f();
    per.push((nowNs() - t0) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)]!;
}

// Alternatives (prototypes for the proposals).

const engine = new Liquid({ strictVariables: false, strictFilters: false, ownPropertyOnly: true });
const parsedCache = new Map<string, ReturnType<Liquid["parse"]>>();
/** Render only: what runner.ts uses (`.text`), without computing the missing variables. */
function renderTextOnly(source: string, s: Record<string, unknown>): string {
  let t = parsedCache.get(source);
  if (!t) {
    t = engine.parse(source);
    parsedCache.set(source, t);
  }
  return engine.renderSync(t, s) as string;
}
/** A template without any tag or output is its own text. */
const renderPlainOrLiquid = (source: string, s: Record<string, unknown>): string =>
  source.includes("{") ? renderTextOnly(source, s) : source;

/** The offset from a cache per zone and UTC hour (proposals/runtime-caches.patch, zone.ts). */
const offsets = new Map<string, number | null>();
function offsetCached(instant: Date, zone: string): number {
  const hour = Math.floor(instant.getTime() / 3_600_000);
  const key = `${zone}|${hour}`;
  let o = offsets.get(key);
  if (o === undefined) {
    const a = offsetMinutesAt(new Date(hour * 3_600_000), zone);
    const b = offsetMinutesAt(new Date(hour * 3_600_000 + 3_599_999), zone);
    o = a === b ? a : null;
    if (offsets.size > 50_000) offsets.clear();
    offsets.set(key, o);
  }
  return o ?? offsetMinutesAt(instant, zone);
}

let lastIn: string | null = null;
let lastOut = "";
/** normalize with a one-entry memo: a turn normalises the same utterance two or more times in a row. */
function normalizeMemo(text: string): string {
  if (text !== lastIn) {
    lastOut = normalize(text);
    lastIn = text;
  }
  return lastOut;
}

const say = FLOW.Nodes.q2!.Say;
const sayVar = FLOW.Nodes.q4!.Say;
// distinct instants, as distinct calls have: the offset cache then sees a new minute each time.
let k = 0;
const instant = () => new Date(NOW.getTime() + (k++ % 100_000) * 60_000);

const rows: Array<[string, number, string]> = [
  ["renderTemplate, plain text (q2 Say)", cost(() => renderTemplate(say, scope)), "src/templates"],
  ["  render only (no fullVariablesSync)", cost(() => renderTextOnly(say, scope)), "proposal"],
  ["  plain text returned as is", cost(() => renderPlainOrLiquid(say, scope)), "proposal"],
  ["renderTemplate, one variable (FirstMessage)", cost(() => renderTemplate(FIRST_MESSAGE, scope)), "src"],
  ["  render only (no fullVariablesSync)", cost(() => renderTextOnly(FIRST_MESSAGE, scope)), "proposal"],
  ["renderTemplate, one variable (q4 Say)", cost(() => renderTemplate(sayVar, scope)), "src"],
  ["recognizeIntent('three of us')", cost(() => recognizeIntent("three of us", ctx)), "src"],
  ["recognizeIntent('next tuesday at 3pm')", cost(() => recognizeIntent("next tuesday at 3pm", ctx)), "src"],
  ["normalize('the potholes on main street')", cost(() => normalize("the potholes on main street")), "src"],
  ["  lowerExpanded alone", cost(() => lowerExpanded("the potholes on main street")), "src"],
  ["  normalize, memoised (2nd call of a turn)", cost(() => normalizeMemo("mostly by bus")), "proposal"],
  ["parseYesNo('yes sure')", cost(() => parseYesNo("yes sure")), "src"],
  ["parseNumber('three of us')", cost(() => parseNumber("three of us")), "src"],
  [
    "parseChoice('mostly by bus', 4 choices)",
    cost(() => parseChoice("mostly by bus", FLOW.Nodes.q8!.Choices!)),
    "src",
  ],
  [
    "parseText('the park and the quiet streets')",
    cost(() => parseText("the park and the quiet streets")),
    "src",
  ],
  ["parseDateTime('next tuesday at 3pm')", cost(() => parseDateTime("next tuesday at 3pm", ctx), 500), "src"],
  ["parseDateTime('friday morning')", cost(() => parseDateTime("friday morning", ctx), 500), "src"],
  [
    "  chrono.casual.parse alone",
    cost(
      () =>
        chrono.casual.parse("next tuesday at 3pm", { instant: NOW, timezone: -300 }, { forwardDate: true }),
      500,
    ),
    "chrono-node",
  ],
  ["  wallClockAt (Intl formatToParts)", cost(() => wallClockAt(instant(), ZONE)), "src zone.ts"],
  ["  offsetMinutesAt", cost(() => offsetMinutesAt(instant(), ZONE)), "src zone.ts"],
  ["  offset from an hourly cache (new minute)", cost(() => offsetCached(instant(), ZONE)), "proposal"],
  [
    "  instantOf (6 formatToParts)",
    cost(() =>
      instantOf({ year: 2025, month: 3, day: 11, hour: 15, minute: 0, second: 0, millisecond: 0 }, ZONE),
    ),
    "src zone.ts",
  ],
];

process.stdout.write(
  `${table(
    ["piece", "ns per call", "where"],
    rows.map(([a, ns, w]) => [a, fmt(ns, 0).padStart(9), w]),
  )}\n`,
);
