/**
 * (a) The conversation runtime alone: N FlowAgents over SimMedia, each driven by runConversation,
 * all N at once (Promise.all) in this process. No database: the transcript sink is an in-memory
 * array per call (what runner.ts keeps in `said`; its TranscriptWriter is left out).
 *
 * Three passes over the same construction as runner.ts's talk() (template scope and render,
 * emptyState, FlowAgent, the onEntry that moves the agent's clock):
 *  - throughput: nothing wrapped; conversations/s = N / wall time (construction included);
 *  - turn timing: agent and media wrapped with probes (below) to time what the runtime does per turn;
 *  - memory: every call parked at its k-th listen() on one shared promise, heap compared after GC.
 */
import { runConversation } from "../../src/conversation/actor.ts";
import {
  type AgentStep,
  type ConversationAgent,
  type ConversationState,
  emptyState,
  type HeardTurn,
} from "../../src/conversation/agent.ts";
import { FlowAgent } from "../../src/conversation/flowAgent.ts";
import type { FlowNode } from "../../src/domain/flow.ts";
import type { TranscriptEntry } from "../../src/store/calls.ts";
import type { CallMedia, ContactTurn } from "../../src/telephony/port.ts";
import { SimMedia } from "../../src/telephony/sim/simMedia.ts";
import { renderTemplate, templateScope } from "../../src/templates/index.ts";
import {
  campaignInput,
  ENTRIES_PER_CALL,
  FIRST_MESSAGE,
  FLOW,
  phoneOf,
  QUESTIONS,
  repliesFor,
  wrongFields,
} from "./scenario.ts";
import { nowNs, type Percentiles, percentiles, settledHeapUsed } from "./stats.ts";

const ZONE = "America/New_York";
const ANSWERED_AT = new Date("2025-03-03T15:00:05Z");
const MAX_CALL_SECONDS = 900;
const CAMPAIGN = { Id: "cmp_bench", Name: "bench conversations" };
const NAMES = ["Ana Lopez", "Ben Okafor", "Cara Singh", "Dan Moreau", "Eve Park"];

/** Agent steps per call: open() and one hear() per reply. */
export const STEPS_PER_CALL = 1 + QUESTIONS;

interface Call {
  agent: ConversationAgent;
  media: CallMedia;
  state: ConversationState;
  said: TranscriptEntry[];
  onEntry: (e: TranscriptEntry) => void;
  /** What runner.talk holds beside (memory pass "runner-like" only). */
  extra?: unknown;
}

/** One call built like runner.ts's talk() builds it (flow shared, as one process's campaign). */
function newCall(i: number, media: CallMedia = new SimMedia(ANSWERED_AT, repliesFor(i)), flow = FLOW): Call {
  const scope = templateScope(
    { ContactName: NAMES[i % NAMES.length]!, PhoneNumber: phoneOf(i), Metadata: {}, Data: null },
    CAMPAIGN,
  );
  const render = (t: string) => renderTemplate(t, scope).text;
  let clock = ANSWERED_AT;
  const said: TranscriptEntry[] = [];
  const state = emptyState({});
  const agent = new FlowAgent({
    flow,
    firstMessage: FIRST_MESSAGE,
    render,
    now: () => clock,
    timeZone: ZONE,
    state,
  });
  const onEntry = (e: TranscriptEntry) => {
    clock = new Date(e.At);
    said.push(e);
  };
  return { agent, media, state, said, onEntry };
}

const converse = (c: Call, signal: AbortSignal) =>
  runConversation({
    agent: c.agent,
    media: c.media,
    direction: "outbound",
    answeredAt: ANSWERED_AT,
    maxCallSeconds: MAX_CALL_SECONDS,
    signal,
    onEntry: c.onEntry,
  });

/** Throws unless every call ended on the agent's word with the full transcript and every answer. */
function check(calls: readonly Call[], results: ReadonlyArray<{ endedBy: string }>): void {
  calls.forEach((c, i) => {
    const r = results[i]!;
    const wrong = wrongFields(c.state.answers, i);
    if (r.endedBy !== "agent" || !c.state.finished || c.said.length !== ENTRIES_PER_CALL || wrong.length)
      throw new Error(
        `call ${i}: ended by ${r.endedBy}, finished ${c.state.finished}, ${c.said.length} entries, wrong ${wrong.join(" ")}`,
      );
  });
}

/** Pass 1: N calls built and run at once, nothing wrapped. */
export async function throughputRun(n: number): Promise<{ wallMs: number; perS: number; cpuMs: number }> {
  const signal = new AbortController().signal;
  const cpu0 = process.cpuUsage();
  const t0 = nowNs();
  const calls = Array.from({ length: n }, (_, i) => newCall(i));
  const results = await Promise.all(calls.map((c) => converse(c, signal)));
  const wallMs = (nowNs() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  check(calls, results);
  return { wallMs, perS: n / (wallMs / 1000), cpuMs: (cpu.user + cpu.system) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Turn timing
//
// A turn is one agent step: open(), or the contact's reply and the agent's hear(). The runtime's
// own time on a turn is the synchronous work the actor and the agent do from the moment the actor
// resumes with the contact's turn until it calls media.listen() (or hangup()) again, media calls
// excluded. The actor's resumptions are not observable from outside, so the values it reads first
// on resuming are probes:
//   - after listen(): the turn's `at` getter (`last = turn.at` is the actor's first statement);
//   - after hear()/open(): the step's `say` getter (`for (const line of step.say)`);
//   - after say(): the returned Date's toISOString (record() is the first use of it).
// Segments: [resume after listen -> hear() called] + hear()'s own run (FlowAgent.hear is async with
// no await inside: its whole work runs before it returns its promise) + [resume after hear -> say()]
// + each [resume after say -> next say()/listen()/hangup()]. The microtask hops between segments
// (and the other calls that run during them) are not counted.
//
// Also kept, literally: the latency from listen()'s promise settling with the contact's turn to the
// next say() call. With N calls interleaved on one thread this is mostly waiting for the others.
// ---------------------------------------------------------------------------------------------

export interface TurnSamples {
  /** Runtime's own time per turn (actor + agent), ns. */
  own: Float64Array;
  /** open()/hear() alone, ns. */
  agent: Float64Array;
  /** The actor's bookkeeping (own - agent), ns. */
  actor: Float64Array;
  /** listen() settled -> next say() called (open(): open() called -> say()), ns. */
  latency: Float64Array;
  /** Time inside SimMedia calls per turn (the simulator, not the runtime), ns. */
  media: Float64Array;
  /** Turn index within its call: 0 = open(), k = the hear() of the k-th reply. */
  index: Uint8Array;
  count: number;
}

class TurnClock {
  private segStart = 0;
  private own = 0;
  private agentNs = 0;
  private mediaNs = 0;
  private latencyFrom = 0;
  private latency = -1;
  private turn = 0;

  constructor(private readonly s: TurnSamples) {}

  /** The actor resumed: a segment of its own work starts. */
  resume(): void {
    if (this.segStart === 0) this.segStart = nowNs();
  }

  /** The actor calls out (agent or media): the segment ends. */
  private pause(t: number): void {
    if (this.segStart !== 0) this.own += t - this.segStart;
    this.segStart = 0;
  }

  agentCall(run: () => Promise<AgentStep>): Promise<AgentStep> {
    const t0 = nowNs();
    this.pause(t0);
    const p = run();
    const t1 = nowNs();
    this.agentNs += t1 - t0;
    this.own += t1 - t0;
    return p.then((step) => probeStep(step, this));
  }

  /** open() starts a turn with nothing before it. */
  startOpen(): void {
    this.latencyFrom = nowNs();
  }

  listenSettled(): void {
    this.latencyFrom = nowNs();
  }

  say(inner: () => Promise<Date>): Promise<Date> {
    const t0 = nowNs();
    this.pause(t0);
    if (this.latency < 0) this.latency = t0 - this.latencyFrom;
    const p = inner();
    this.mediaNs += nowNs() - t0;
    return p.then((d) => new ProbeDate(d.getTime(), this));
  }

  /** listen() or hangup(): the turn is over. */
  endTurn(t0: number): void {
    this.pause(t0);
    const i = this.s.count++;
    this.s.own[i] = this.own;
    this.s.agent[i] = this.agentNs;
    this.s.actor[i] = this.own - this.agentNs;
    this.s.latency[i] = this.latency;
    this.s.media[i] = this.mediaNs;
    this.s.index[i] = this.turn++;
    this.own = 0;
    this.agentNs = 0;
    this.mediaNs = 0;
    this.latency = -1;
  }

  addMedia(ns: number): void {
    this.mediaNs += ns;
  }
}

/** A Date whose first toISOString() marks the actor's resumption after say(). */
class ProbeDate extends Date {
  private probed = false;
  constructor(
    ms: number,
    private readonly clock: TurnClock,
  ) {
    super(ms);
  }
  override toISOString(): string {
    if (!this.probed) {
      this.probed = true;
      this.clock.resume();
    }
    return super.toISOString();
  }
}

function probeStep(step: AgentStep, clock: TurnClock): AgentStep {
  let probed = false;
  return {
    get say() {
      if (!probed) {
        probed = true;
        clock.resume();
      }
      return step.say;
    },
    next: step.next,
  };
}

function probeTurn(turn: ContactTurn, clock: TurnClock): ContactTurn {
  let probed = false;
  const at = turn.at;
  const get = () => {
    if (!probed) {
      probed = true;
      clock.resume();
    }
    return at;
  };
  if (turn.kind === "speech")
    return {
      kind: "speech",
      text: turn.text,
      get at() {
        return get();
      },
    };
  return {
    kind: turn.kind,
    get at() {
      return get();
    },
  };
}

class TimedAgent implements ConversationAgent {
  constructor(
    private readonly inner: ConversationAgent,
    private readonly clock: TurnClock,
  ) {}
  get state() {
    return this.inner.state;
  }
  open(): Promise<AgentStep> {
    this.clock.startOpen();
    return this.clock.agentCall(() => this.inner.open());
  }
  openInbound(first: HeardTurn): Promise<AgentStep> {
    return this.clock.agentCall(() => this.inner.openInbound(first));
  }
  hear(turn: HeardTurn): Promise<AgentStep> {
    return this.clock.agentCall(() => this.inner.hear(turn));
  }
}

class TimedMedia implements CallMedia {
  constructor(
    private readonly inner: CallMedia,
    private readonly clock: TurnClock,
  ) {}
  say(text: string): Promise<Date> {
    return this.clock.say(() => this.inner.say(text));
  }
  listen(): Promise<ContactTurn> {
    const t0 = nowNs();
    this.clock.endTurn(t0);
    const p = this.inner.listen();
    this.clock.addMedia(nowNs() - t0);
    return p.then((turn) => {
      this.clock.listenSettled();
      return probeTurn(turn, this.clock);
    });
  }
  hangup(): Promise<Date> {
    this.clock.endTurn(nowNs());
    return this.inner.hangup();
  }
}

/** The cost of one probe segment with nothing in it (two hrtime reads), ns: the floor of `own`. */
export function probeFloorNs(): number {
  const xs = new Float64Array(10_001);
  for (let i = 0; i < xs.length; i++) {
    const a = nowNs();
    xs[i] = nowNs() - a;
  }
  return percentiles(xs).p50;
}

export interface TimedResult {
  wallMs: number;
  perS: number;
  own: Percentiles;
  agent: Percentiles;
  actor: Percentiles;
  latency: Percentiles;
  media: Percentiles;
  /** Sum of the runtime's own time over all turns / wall time. */
  ownShare: number;
  /** Own time by what the turn handled: "open", then the Expect of the question answered. */
  byKind: Array<{ kind: string; turns: number; own: Percentiles; agent: Percentiles }>;
}

/** What each turn index handles: open(), then the answer to each question in flow order. */
function turnKinds(): string[] {
  const kinds = ["open"];
  let id: string | undefined = FLOW.Start;
  while (id !== undefined) {
    const node: FlowNode | undefined = FLOW.Nodes[id];
    if (!node || node.End) break;
    kinds.push(node.Expect ?? "text");
    id =
      typeof node.Next === "string" ? node.Next : (node.Next?.default ?? Object.values(node.Next ?? {})[0]);
  }
  return kinds;
}

/** Pass 2: N calls at once, agent and media wrapped with probes. */
export async function timedRun(n: number): Promise<TimedResult> {
  const size = n * STEPS_PER_CALL;
  const s: TurnSamples = {
    own: new Float64Array(size),
    agent: new Float64Array(size),
    actor: new Float64Array(size),
    latency: new Float64Array(size),
    media: new Float64Array(size),
    index: new Uint8Array(size),
    count: 0,
  };
  const signal = new AbortController().signal;
  const t0 = nowNs();
  const calls = Array.from({ length: n }, (_, i) => {
    const clock = new TurnClock(s);
    const c = newCall(i, new TimedMedia(new SimMedia(ANSWERED_AT, repliesFor(i)), clock));
    c.agent = new TimedAgent(c.agent, clock);
    return c;
  });
  const results = await Promise.all(calls.map((c) => converse(c, signal)));
  const wallMs = (nowNs() - t0) / 1e6;
  check(calls, results);
  if (s.count !== size) throw new Error(`expected ${size} turns, timed ${s.count}`);
  let ownSum = 0;
  for (const x of s.own) ownSum += x;
  const kinds = turnKinds();
  const byKind = [...new Set(kinds)].map((kind) => {
    const own: number[] = [];
    const agent: number[] = [];
    for (let i = 0; i < s.count; i++)
      if (kinds[s.index[i]!] === kind) {
        own.push(s.own[i]!);
        agent.push(s.agent[i]!);
      }
    return { kind, turns: own.length, own: percentiles(own), agent: percentiles(agent) };
  });
  return {
    byKind,
    wallMs,
    perS: n / (wallMs / 1000),
    ownShare: ownSum / 1e6 / wallMs,
    own: percentiles(s.own),
    agent: percentiles(s.agent),
    actor: percentiles(s.actor),
    latency: percentiles(s.latency),
    media: percentiles(s.media),
  };
}

// ---------------------------------------------------------------------------------------------
// Memory per live call
// ---------------------------------------------------------------------------------------------

/** SimMedia whose k-th listen() waits for the shared barrier: the call stays live mid-conversation. */
class ParkedMedia extends SimMedia {
  private listens = 0;
  constructor(
    i: number,
    private readonly parkAt: number,
    private readonly barrier: { parked: () => void; release: Promise<void> },
  ) {
    super(ANSWERED_AT, repliesFor(i));
  }
  override async listen(): Promise<ContactTurn> {
    if (++this.listens === this.parkAt) {
      this.barrier.parked();
      await this.barrier.release;
    }
    return super.listen();
  }
}

export interface MemoryResult {
  /** "actor": runConversation + FlowAgent + SimMedia + sink; "runner-like": plus what runner.talk holds. */
  kind: "actor" | "runner-like";
  baseHeap: number;
  parkedHeap: number;
  afterHeap: number;
  perCallBytes: number;
  entriesPerParkedCall: number;
}

/**
 * Pass 3: N calls parked at their `parkAt`-th listen() (after `parkAt - 1` replies), heap after a
 * full GC compared with the heap before they were built. "runner-like" adds, per call, what
 * runner.ts's converse()/talk() hold while a call is live: the job context with its own copy of the
 * campaign (loadJobContext reads the campaign row for each call), the AbortController, the
 * MaxCallSeconds timer and the live-call map entry.
 */
export async function memoryRun(
  n: number,
  parkAt: number,
  kind: MemoryResult["kind"],
): Promise<MemoryResult> {
  let release!: () => void;
  const releasePromise = new Promise<void>((r) => {
    release = r;
  });
  let parked = 0;
  let allParked!: () => void;
  const allParkedPromise = new Promise<void>((r) => {
    allParked = r;
  });
  const barrier = {
    parked: () => {
      if (++parked === n) allParked();
    },
    release: releasePromise,
  };
  const campaignRow = { ...campaignInput(1000), ...CAMPAIGN };
  const live = new Map<string, { abort: AbortController }>();
  const baseHeap = await settledHeapUsed();

  const calls: Call[] = [];
  const running: Array<Promise<unknown>> = [];
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < n; i++) {
    const media = new ParkedMedia(i, parkAt, barrier);
    let c: Call;
    let signal: AbortSignal;
    if (kind === "runner-like") {
      const campaign = structuredClone(campaignRow) as typeof campaignRow & { Agent: { Flow: typeof FLOW } };
      const job = {
        id: `job_${i}`,
        org_id: "org_bench",
        phone_number: phoneOf(i),
        contact_name: NAMES[i % NAMES.length]!,
        metadata: {},
        data: null,
        time_zone: null,
        test_job: false,
        hangup_opt_out: null,
        attempts: 1,
        attempts_base: 0,
        callbacks: 0,
        result: null,
        conversation: {},
        state: "in_progress",
        campaign,
      };
      c = newCall(i, media, campaign.Agent.Flow);
      const abort = new AbortController();
      live.set(`call_${i}`, { abort });
      timers.push(setTimeout(() => abort.abort("max_duration"), MAX_CALL_SECONDS * 1000));
      c.extra = job;
      signal = abort.signal;
    } else {
      c = newCall(i, media);
      signal = new AbortController().signal;
    }
    calls.push(c);
    running.push(converse(c, signal));
  }
  await allParkedPromise;
  const parkedHeap = await settledHeapUsed();
  const entries = calls.reduce((k, c) => k + c.said.length, 0) / n;
  release();
  const results = await Promise.all(running);
  for (const t of timers) clearTimeout(t);
  check(calls, results as Array<{ endedBy: string }>);
  live.clear();
  calls.length = 0;
  const afterHeap = await settledHeapUsed();
  return {
    kind,
    baseHeap,
    parkedHeap,
    afterHeap,
    perCallBytes: (parkedHeap - baseHeap) / n,
    entriesPerParkedCall: entries,
  };
}
