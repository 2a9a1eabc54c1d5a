export { csvCell, csvLine, toCsv } from "./csv.ts";
export { CHUNK_CHARACTERS, exportCampaignResults, type ResultsExport } from "./results.ts";
