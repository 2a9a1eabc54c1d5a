import { stripMarkers } from "./normalize.ts";

/** The answer as said, markers such as "<noise>" removed and spaces collapsed; null when nothing is left ("<silence>", ""). */
export function parseText(text: string): string | null {
  const said = stripMarkers(text).replace(/\s+/g, " ").trim();
  return said === "" ? null : said;
}
