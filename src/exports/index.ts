export { csvCell, csvLine, escapeFormula, toCsv } from "./csv.ts";
export { EXPORT_PAGE_SIZE, exportCampaignResults, type ResultsExport } from "./results.ts";
