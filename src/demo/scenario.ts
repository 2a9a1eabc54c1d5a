/** The demo's campaign and contacts: one of each thing a campaign meets. Numbers are fictional (555-01xx). */
export const DEMO_CAMPAIGN_NUMBER = "+14155550100";

export const demoCampaign = {
  Name: "Affordable housing survey (demo)",
  Agent: {
    Type: "flow",
    FirstMessage: "Hi {{ Job.ContactName }}, this is Ana from Acme Housing.",
    VoicemailMessage: "Hi {{ Job.ContactName }}, this is Ana from Acme Housing. We will try you again soon.",
    Flow: {
      Start: "intro",
      InboundStart: "intro",
      Nodes: {
        intro: {
          Say: "Do you have two minutes for a short housing survey?",
          Expect: "yes_no",
          Next: { yes: "size", no: "later" },
        },
        size: {
          Say: "How many people live in your household?",
          Expect: "number",
          Save: "household_size",
          Next: "income",
        },
        income: {
          Say: "Is your yearly household income under 30k, 30k to 60k, or over 60k?",
          Expect: "choice",
          Choices: ["under 30k", "30k to 60k", "over 60k"],
          Save: "income_band",
          Next: "bye",
        },
        later: {
          Say: "No problem. When should we call you back?",
          Expect: "datetime",
          Save: "callback_time",
          Action: "schedule_call",
          Next: "bye_later",
        },
        bye: { Say: "Thank you, that is all.", End: true },
        bye_later: { Say: "Thanks, talk to you then.", End: true },
      },
    },
  },
  AnalysisSchema: {
    type: "object",
    properties: {
      household_size: { type: "integer", minimum: 1 },
      income_band: { type: "string", enum: ["under 30k", "30k to 60k", "over 60k"] },
    },
  },
  InboundMode: "lookup",
  PhoneNumbers: [DEMO_CAMPAIGN_NUMBER],
  Schedule: {
    TimeZone: "America/New_York",
    Windows: [{ Days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], Start: "00:00", End: "24:00" }],
    MaxAttempts: 3,
    RetryDelaySeconds: 2,
    MaxCallbacks: 2,
    MaxConcurrentCalls: 5,
  },
};

export interface DemoContact {
  name: string;
  phone: string;
  story: string;
  calls: Array<{ Answer: string; Replies?: string[] }>;
  testJob?: boolean;
  /** After its first call, the contact calls the campaign back with these replies. */
  callsBack?: string[];
}

const survey = (size: string, income: string) => ["yes", size, income];

export const demoContacts: DemoContact[] = [
  {
    name: "Ana Lopez",
    phone: "+14155550201",
    story: "answers every question",
    calls: [{ Answer: "human", Replies: survey("three", "30k to 60k") }],
  },
  {
    name: "Ben Okafor",
    phone: "+14155550202",
    story: "no answer, then completes on the retry",
    calls: [{ Answer: "no_answer" }, { Answer: "human", Replies: survey("2", "under 30k") }],
  },
  {
    name: "Cara Singh",
    phone: "+14155550203",
    story: "voicemail every time",
    calls: [{ Answer: "voicemail" }],
  },
  {
    name: "Dan Moreau",
    phone: "+14155550204",
    story: "says it is the wrong number",
    calls: [{ Answer: "human", Replies: ["sorry, you have the wrong number"] }],
  },
  {
    name: "Eve Park",
    phone: "+14155550205",
    story: "asks not to be called again",
    calls: [{ Answer: "human", Replies: ["please stop calling me"] }],
  },
  {
    name: "Finn Walsh",
    phone: "+14155550206",
    story: "refuses",
    calls: [{ Answer: "human", Replies: ["no thanks, I'm not interested"] }],
  },
  {
    name: "Gia Rossi",
    phone: "+14155550207",
    story: "asks for a call back, then completes",
    calls: [
      { Answer: "human", Replies: ["I'm busy right now, call me back later"] },
      { Answer: "human", Replies: survey("five", "over 60k") },
    ],
  },
  {
    name: "Hal Test",
    phone: "+14155550208",
    story: "a test job (left out of analytics)",
    calls: [{ Answer: "human", Replies: survey("1", "under 30k") }],
    testJob: true,
  },
  {
    name: "Ivy Chen",
    phone: "+14155550209",
    story: "misses the call, then calls back and completes",
    calls: [{ Answer: "no_answer" }],
    callsBack: ["Hi, I missed a call from this number", "yes", "four", "30k to 60k"],
  },
  {
    name: "Jon Bell",
    phone: "+14155550210",
    story: "the number does not exist",
    calls: [{ Answer: "invalid" }],
  },
  {
    name: "Kim Duarte",
    phone: "+14155550211",
    story: "busy, then never answers",
    calls: [{ Answer: "busy" }, { Answer: "no_answer" }],
  },
];
