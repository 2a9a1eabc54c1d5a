import type { ToolSpec } from "../llm/index.ts";

/** The built-in function tools of an llm agent; their effects are those of the flow agent's intents. */
export function llmTools(resultFields: readonly string[]): ToolSpec[] {
  const none = { type: "object", properties: {}, additionalProperties: false };
  return [
    {
      name: "end_call",
      description: "End the call once the conversation is finished (say goodbye first).",
      parameters: none,
    },
    {
      name: "schedule_call",
      description:
        "The contact asked to be called back: schedule the next call at the time they asked for, then end the call.",
      parameters: {
        type: "object",
        properties: {
          At: {
            type: "string",
            description:
              "the time the contact asked for, in their local time: ISO 8601 (with an offset if known) or words",
          },
        },
        required: ["At"],
        additionalProperties: false,
      },
    },
    { name: "opt_out", description: "The contact asked not to be called again.", parameters: none },
    {
      name: "wrong_contact",
      description: "The number belongs to someone else than the intended contact.",
      parameters: none,
    },
    { name: "contact_refused", description: "The contact refuses to take part.", parameters: none },
    {
      name: "save_answer",
      description: "Save an answer the contact gave into the job's result.",
      parameters: {
        type: "object",
        properties: {
          Field: { type: "string", enum: [...resultFields], description: "an AnalysisSchema property" },
          Value: { description: "the answer, in the type the property asks for" },
        },
        required: ["Field", "Value"],
        additionalProperties: false,
      },
    },
  ];
}
