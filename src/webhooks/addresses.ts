import { BlockList, isIP } from "node:net";

/**
 * Addresses a webhook may not reach unless COBBERY_ALLOW_PRIVATE_WEBHOOKS=true: loopback, private,
 * link-local, CGNAT, unspecified, multicast, and the other ranges that are not the public internet.
 */
const V4: Array<[string, number, string]> = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "CGNAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];
const V6: Array<[string, number, string]> = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["fc00::", 7, "private"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "site-local"],
  ["ff00::", 8, "multicast"],
  ["100::", 64, "discard"],
  // NAT64 for local use (RFC 8215): reaches whatever IPv4 network the translator serves.
  ["64:ff9b:1::", 48, "private"],
];

/** One BlockList per kind, in the table's order: the first kind whose list holds an address names it. */
function byKind(ranges: Array<[string, number, string]>, family: "ipv4" | "ipv6"): Map<string, BlockList> {
  const out = new Map<string, BlockList>();
  for (const [net, prefix, kind] of ranges) {
    const b = out.get(kind) ?? new BlockList();
    b.addSubnet(net, prefix, family);
    out.set(kind, b);
  }
  return out;
}

let lists: { v4: Map<string, BlockList>; v6: Map<string, BlockList> } | null = null;

/** The 16 bytes of an IPv6 address (which isIP accepted), or null. */
function ipv6Bytes(ip: string): number[] | null {
  let s = ip.split("%")[0] ?? "";
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    tail.push(...(dotted[1] ?? "").split(".").map(Number));
    s = `${s.slice(0, -(dotted[1] ?? "").length)}0:0`;
  }
  const [head, rest] = s.includes("::") ? (s.split("::") as [string, string]) : [s, null];
  const groups = (x: string) => (x === "" ? [] : x.split(":").map((g) => Number.parseInt(g, 16)));
  const h = groups(head);
  const r = rest === null ? [] : groups(rest);
  const all = rest === null ? h : [...h, ...Array<number>(8 - h.length - r.length).fill(0), ...r];
  if (all.length !== 8 || all.some((g) => Number.isNaN(g))) return null;
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (dotted) bytes.splice(12, 4, ...tail);
  return bytes;
}

/**
 * The IPv4 address an IPv6 one carries, if any: IPv4-mapped (::ffff:0:0/96), IPv4-translated
 * (::ffff:0:0:0/96), IPv4-compatible (::/96, beyond :: and ::1), NAT64 (64:ff9b::/96), 6to4
 * (2002::/16, the IPv4 address in bytes 2 to 5) and Teredo (2001::/32, the client's address
 * inverted in the last 4 bytes). A host on a network that routes them reaches that IPv4 address, so
 * it is judged as that address.
 */
function embeddedIpv4(ip: string): string | null {
  const b = ipv6Bytes(ip);
  if (!b) return null;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const last = b.slice(12).join(".");
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return last;
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return last;
  // ::/96 beyond :: and ::1 (::2 is 0.0.0.2, in 0.0.0.0/8).
  if (zero(0, 12) && !zero(12, 16) && !(zero(12, 15) && b[15] === 1)) return last;
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return last;
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6).join(".");
  // Teredo (2001::/32): the client's IPv4 address, each bit inverted, in the last 4 bytes.
  if (b[0] === 0x20 && b[1] === 0x01 && zero(2, 4))
    return b
      .slice(12)
      .map((x) => x ^ 0xff)
      .join(".");
  return null;
}

/**
 * Why the address is not a public one ("loopback", "private", ...), or null when it is public.
 * Anything that is not an IP address at all counts as not public.
 */
export function nonPublicKind(address: string): string | null {
  lists ??= { v4: byKind(V4, "ipv4"), v6: byKind(V6, "ipv6") };
  const family = isIP(address);
  if (family === 4) {
    for (const [kind, b] of lists.v4) if (b.check(address, "ipv4")) return kind;
    return null;
  }
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4 !== null) return nonPublicKind(v4);
    for (const [kind, b] of lists.v6) if (b.check(address.split("%")[0] ?? "", "ipv6")) return kind;
    return null;
  }
  return "invalid";
}
