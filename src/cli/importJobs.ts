import type { AdminOps } from "./adminOps.ts";

export interface ImportSummary {
  rows: number;
  created: number;
  rejected: number;
}

export async function importJobsFile(_args: {
  ops: AdminOps;
  campaignId: string;
  file: string;
  progress: NodeJS.WriteStream;
}): Promise<ImportSummary> {
  throw new Error("importJobsFile is being written");
}
