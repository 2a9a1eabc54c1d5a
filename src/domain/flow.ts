import type { ErrorDetail } from "../errors/index.ts";
import { checkTemplate } from "../templates/index.ts";
import { checkText, checkUnknownFields, escapePointer, isPlainObject } from "./limits.ts";

export const EXPECT_KINDS = ["text", "yes_no", "number", "choice", "datetime"] as const;
export type ExpectKind = (typeof EXPECT_KINDS)[number];

export interface FlowNode {
  Say: string;
  Expect?: ExpectKind;
  Choices?: string[];
  Save?: string;
  Next?: string | Record<string, string>;
  End?: boolean;
  Action?: "schedule_call";
}

export interface Flow {
  Start: string;
  InboundStart?: string | null;
  Nodes: Record<string, FlowNode>;
}

/**
 * The flow's node by id, own keys only: "toString" or "__proto__" name no node (a flow saved before
 * such names were refused would otherwise give an inherited function as its node).
 */
export const flowNode = (flow: Flow, id: string): FlowNode | undefined =>
  Object.hasOwn(flow.Nodes, id) ? flow.Nodes[id] : undefined;

const NODE_FIELDS = ["Say", "Expect", "Choices", "Save", "Next", "End", "Action"] as const;

/** Checks a flow graph: known fields, its Start exists, every Next names a node, an End is reachable. */
export function validateFlow(raw: unknown, path: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  if (!isPlainObject(raw)) {
    return [
      { Path: path, Message: 'must be an object {"Start": "<node id>", "Nodes": {...}} for a flow agent.' },
    ];
  }
  checkUnknownFields(raw, ["Start", "InboundStart", "Nodes"], path, out);
  const nodes = raw.Nodes;
  if (!isPlainObject(nodes) || Object.keys(nodes).length === 0) {
    out.push({
      Path: `${path}/Nodes`,
      Message: "must be an object with at least one node, keyed by node id.",
    });
    return out;
  }
  const ids = Object.keys(nodes);
  const mustName = (v: unknown, p: string): void => {
    if (typeof v !== "string" || !Object.hasOwn(nodes, v)) {
      out.push({ Path: p, Message: `must name a node of Flow.Nodes (${ids.slice(0, 10).join(", ")}).` });
    }
  };
  mustName(raw.Start, `${path}/Start`);
  if (raw.InboundStart !== undefined && raw.InboundStart !== null)
    mustName(raw.InboundStart, `${path}/InboundStart`);
  for (const id of ids) {
    const p = `${path}/Nodes/${escapePointer(id)}`;
    const node = nodes[id];
    if (!isPlainObject(node)) {
      out.push({ Path: p, Message: 'must be an object such as {"Say": "...", "Next": "other"}.' });
      continue;
    }
    checkUnknownFields(node, NODE_FIELDS, p, out);
    checkText(node.Say, `${p}/Say`, out, { required: true, max: 4000 });
    const badSay = typeof node.Say === "string" ? checkTemplate(node.Say) : null;
    if (badSay) out.push({ Path: `${p}/Say`, Message: badSay });
    if (node.Expect !== undefined && !EXPECT_KINDS.includes(node.Expect as ExpectKind)) {
      out.push({ Path: `${p}/Expect`, Message: `must be one of ${EXPECT_KINDS.join(", ")}.` });
    }
    if (node.Expect === "choice") {
      const ok =
        Array.isArray(node.Choices) &&
        node.Choices.length > 0 &&
        node.Choices.every((c) => typeof c === "string" && c.trim() !== "");
      if (!ok)
        out.push({
          Path: `${p}/Choices`,
          Message: 'must list the choices as strings when Expect is "choice".',
        });
    } else if (node.Choices !== undefined) {
      out.push({ Path: `${p}/Choices`, Message: 'is only used with "Expect": "choice".' });
    }
    if (node.Save !== undefined) {
      if (typeof node.Save !== "string" || node.Save === "")
        out.push({ Path: `${p}/Save`, Message: "must be the name of a Result field." });
      else if (node.Expect === undefined)
        out.push({
          Path: `${p}/Save`,
          Message: "needs an Expect: a node without one has no answer to save.",
        });
    }
    if (node.End !== undefined && typeof node.End !== "boolean")
      out.push({ Path: `${p}/End`, Message: "must be true or false." });
    if (node.Action !== undefined && node.Action !== "schedule_call") {
      out.push({ Path: `${p}/Action`, Message: 'must be "schedule_call" (the only action).' });
    } else if (node.Action === "schedule_call" && node.Expect !== "datetime") {
      out.push({
        Path: `${p}/Action`,
        Message: '"schedule_call" needs "Expect": "datetime" on the same node.',
      });
    }
    const next = node.Next;
    if (node.End === true) {
      if (next !== undefined) out.push({ Path: `${p}/Next`, Message: "must be absent on an End node." });
    } else if (next === undefined) {
      out.push({ Path: `${p}/Next`, Message: 'is required unless "End": true: name the node that follows.' });
    } else if (typeof next === "string") {
      mustName(next, `${p}/Next`);
    } else if (isPlainObject(next) && Object.keys(next).length > 0) {
      if (node.Expect === undefined)
        out.push({ Path: `${p}/Next`, Message: "can only map answers when the node has an Expect." });
      else checkAnswerMap(node, next, `${p}/Next`, out);
      for (const [answer, target] of Object.entries(next))
        mustName(target, `${p}/Next/${escapePointer(answer)}`);
    } else {
      out.push({
        Path: `${p}/Next`,
        Message: 'must be a node id or a map from answer to node id, e.g. {"yes": "a", "no": "b"}.',
      });
    }
  }
  if (out.length === 0 && !endReachable(raw as unknown as Flow)) {
    out.push({
      Path: `${path}/Nodes`,
      Message: `no node with "End": true can be reached from Start "${String(raw.Start)}".`,
    });
  }
  return out;
}

/**
 * A map from answer to node must name answers the node can get, as they are parsed (a choice as
 * listed in Choices), and leave none without a branch unless it has a default: an answer with no
 * branch would end every call at that node unfinished, and use up the job's attempts one by one.
 */
function checkAnswerMap(
  node: Record<string, unknown>,
  next: Record<string, unknown>,
  p: string,
  out: ErrorDetail[],
) {
  const keys = Object.keys(next).filter((k) => k !== "default");
  const hasDefault = Object.hasOwn(next, "default");
  const bad = (answer: string, Message: string) =>
    out.push({ Path: `${p}/${escapePointer(answer)}`, Message });
  switch (node.Expect) {
    case "yes_no":
      for (const k of keys)
        if (k !== "yes" && k !== "no")
          bad(k, 'is not an answer to a yes/no question: use "yes", "no" or "default".');
      if (!hasDefault)
        for (const a of ["yes", "no"])
          if (!keys.includes(a))
            out.push({ Path: p, Message: `has no branch for "${a}": add "${a}" or "default".` });
      return;
    case "choice": {
      const choices = Array.isArray(node.Choices)
        ? node.Choices.filter((c): c is string => typeof c === "string")
        : [];
      for (const k of keys) {
        if (choices.includes(k)) continue;
        const same = choices.find((c) => c.toLowerCase() === k.toLowerCase());
        bad(
          k,
          same
            ? `must be written as in Choices: "${same}".`
            : `is not one of the Choices (${choices.join(", ")}) or "default".`,
        );
      }
      if (!hasDefault) {
        const left = choices.filter((c) => !keys.includes(c));
        if (left.length > 0)
          out.push({
            Path: p,
            Message: `has no branch for ${left.map((c) => `"${c}"`).join(", ")}: add ${left.length === 1 ? "it" : "them"} or "default".`,
          });
      }
      return;
    }
    case "number":
      // Written as the answer's branch is ("3", not "03" or "3.0"), or it never matches.
      for (const k of keys)
        if (k.trim() === "" || String(Number(k)) !== k)
          bad(k, 'is not a number as answers read: map numbers such as "3" or "2.5", or "default".');
      if (!hasDefault)
        out.push({ Path: p, Message: 'needs a "default": a number question can get any number.' });
      return;
    default:
      for (const k of keys)
        bad(
          k,
          `cannot be told apart: a ${String(node.Expect)} answer follows "default" (or give Next a node id).`,
        );
  }
}

function successors(node: FlowNode): string[] {
  if (node.Next === undefined) return [];
  return typeof node.Next === "string" ? [node.Next] : Object.values(node.Next);
}

function endReachable(flow: Flow): boolean {
  const seen = new Set<string>();
  const stack = [flow.Start];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = flow.Nodes[id];
    if (!node) continue;
    if (node.End === true) return true;
    stack.push(...successors(node));
  }
  return false;
}

/** The JSON type of the answer each Expect saves (a datetime is saved as its ISO 8601 text). */
const SAVED_TYPE: Record<ExpectKind, "string" | "boolean" | "number"> = {
  text: "string",
  yes_no: "boolean",
  number: "number",
  choice: "string",
  datetime: "string",
};

/**
 * Each Save into an AnalysisSchema property whose `type` cannot hold what the node's Expect saves
 * (a yes_no's boolean into a "string" field): Result would read null for every answer, silently.
 */
export function checkSavesFitSchema(
  flow: Flow,
  properties: Record<string, unknown>,
  path: string,
): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const [id, node] of Object.entries(flow.Nodes)) {
    if (node.Save === undefined || node.Expect === undefined || !Object.hasOwn(properties, node.Save))
      continue;
    const schema = properties[node.Save];
    if (!isPlainObject(schema)) continue;
    const p = `${path}/Nodes/${escapePointer(id)}/Save`;
    const declared = schema.type;
    const types = typeof declared === "string" ? [declared] : Array.isArray(declared) ? declared : null;
    const saved = SAVED_TYPE[node.Expect];
    if (types !== null && !types.includes(saved) && !(saved === "number" && types.includes("integer"))) {
      out.push({
        Path: p,
        Message: `saves a ${saved} ("Expect": "${node.Expect}"), which the AnalysisSchema property "${node.Save}" (type ${JSON.stringify(declared)}) cannot hold: change that property's type or the node's Expect.`,
      });
      continue;
    }
    // A choice is saved as written in Choices: each must be one the property's enum allows.
    const allowed = Array.isArray(schema.enum) ? schema.enum : null;
    const outside =
      node.Expect === "choice" && allowed ? (node.Choices ?? []).filter((c) => !allowed.includes(c)) : [];
    if (outside.length > 0) {
      out.push({
        Path: p,
        Message: `saves the choice ${JSON.stringify(outside[0])}, which is not in the "enum" of the AnalysisSchema property "${node.Save}": make Choices and the enum the same words.`,
      });
    }
  }
  return out;
}
