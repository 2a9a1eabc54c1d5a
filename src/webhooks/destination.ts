import { lookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { nonPublicKind } from "./addresses.ts";

export const MAX_URL_LENGTH = 2048;

/** Why a URL cannot be a webhook's, in words for an API message; null when it can. */
export function urlProblem(raw: unknown): { url: URL } | { problem: string } {
  if (typeof raw !== "string" || raw.trim() === "")
    return { problem: "is required: the https URL that receives the events." };
  if (raw.length > MAX_URL_LENGTH) return { problem: `must be at most ${MAX_URL_LENGTH} characters.` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: "must be an absolute URL such as https://example.com/hooks/cobbery." };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { problem: "must be an https (or http) URL." };
  if (url.username !== "" || url.password !== "")
    return {
      problem:
        "must not carry a user name or password: receivers authenticate deliveries by their signature.",
    };
  if (url.hostname === "") return { problem: "must name a host." };
  return { url };
}

/** The URL's host as an address or a name to resolve (IPv6 literals lose their brackets). */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, "$1");

export class DestinationRefused extends Error {
  override name = "DestinationRefused";
}

/**
 * Resolves the host (every address it has) and refuses it when any address is not public.
 * Returns the addresses, in the resolver's order.
 */
export async function resolvePublic(host: string): Promise<Array<{ address: string; family: number }>> {
  const addresses = isIP(host)
    ? [{ address: host, family: isIP(host) }]
    : await lookup(host, { all: true, verbatim: true });
  if (addresses.length === 0) throw new DestinationRefused("the host has no address");
  for (const a of addresses) {
    const kind = nonPublicKind(a.address);
    // The address itself is not told: it would show a tenant what internal names resolve to.
    if (kind !== null) throw new DestinationRefused(`the host resolves to a ${kind} address`);
  }
  return addresses;
}

/**
 * A `lookup` for http.request that connects only to the public addresses it has just checked, so a
 * name that re-resolves to a private address after the check (DNS rebinding) is never reached.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  resolvePublic(hostname).then(
    (all) => {
      const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
      const fit = wanted === 0 ? all : all.filter((a) => a.family === wanted);
      const first = fit[0];
      if (!first) {
        callback(Object.assign(new Error(`no IPv${wanted} address`), { code: "ENOTFOUND" }), "", 0);
        return;
      }
      if (options.all) callback(null, fit);
      else callback(null, first.address, first.family);
    },
    (e: NodeJS.ErrnoException) => callback(e, "", 0),
  );
};
