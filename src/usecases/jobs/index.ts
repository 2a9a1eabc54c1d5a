export { cancelCampaignJobs } from "./cancelJobs.ts";
export { cancelJob, retryJob, updateJob } from "./changeJob.ts";
export { type BatchResult, campaignForNewJobs, createJob, createJobsBatch } from "./createJobs.ts";
export { deleteCampaignPii, deleteJobPii } from "./deletePii.ts";
export { firstCallAt } from "./firstCallAt.ts";
export { getCall, getJob, listJobCalls, listJobs, parseJobQuery } from "./readJobs.ts";
export { transitionJob } from "./transition.ts";
