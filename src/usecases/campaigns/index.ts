export { createCampaign } from "./createCampaign.ts";
export { previewCampaign } from "./previewCampaign.ts";
export { getCampaign, listCampaigns } from "./readCampaigns.ts";
export { setCampaignStatus, updateCampaign } from "./updateCampaign.ts";
