import type { ApprovalCreateInput, FieldDefinitionInput, TaskCreateInput, TaskUpdateInput } from './api.js';

/** `assignedAgentId` → `assigned_agent_id`: upstream's field names are the inputs' in snake_case. */
const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The one place request bodies are built: the listed keys of `input`, renamed for the wire, in that order.
 * A key left undefined is not sent, so a PATCH changes only what the caller meant to change; nested values
 * (custom field values, payloads) go as they are.
 */
function wireBody<T extends object>(input: T, keys: readonly (keyof T & string)[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const key of keys) if (input[key] !== undefined) body[snake(key)] = input[key];
  return body;
}

const FIELD_DEFINITION = ['label', 'fieldType', 'uiVisibility', 'required', 'defaultValue', 'description', 'boardIds'] as const;

export const bodies = {
  createTask: (i: TaskCreateInput) => wireBody(i, ['title', 'description', 'status', 'priority', 'assignedAgentId', 'customFieldValues']),
  updateTask: (i: TaskUpdateInput) => wireBody(i, ['status', 'comment', 'customFieldValues', 'title', 'description', 'assignedAgentId']),
  createFieldDefinition: (i: FieldDefinitionInput) => wireBody(i, ['fieldKey', ...FIELD_DEFINITION]),
  updateFieldDefinition: (i: Partial<Omit<FieldDefinitionInput, 'fieldKey'>>) => wireBody(i, FIELD_DEFINITION),
  createApproval: (i: ApprovalCreateInput) => wireBody(i, ['actionType', 'confidence', 'taskId', 'taskIds', 'payload', 'leadReasoning']),
};
