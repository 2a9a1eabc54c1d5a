export { csvCell, csvLine, toCsv } from "./csv.ts";
export { exportCampaignResults, type ResultsExport } from "./results.ts";
