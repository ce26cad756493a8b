// The rules of a student's fields, as the spec publishes them (the SDK's generated JSON
// schemas): required, length in code points, pattern. The form checks them before sending so a
// person sees a problem at once; the server checks them all the same, and its 422 is shown the
// same way.
import { GradeSchema, StudentCreateSchema } from '../../clients/typescript/src/generated/schemas.gen.js';
import type { Grade } from '../../clients/typescript/src/index.js';

export type Field = 'name' | 'grade' | 'email';

/** A student's writable fields, in the order forms and histories show them. */
export const FIELDS: readonly Field[] = ['name', 'grade', 'email'];
export const LABELS: Record<Field, string> = { name: 'Name', grade: 'Grade', email: 'E-mail' };

export const GRADES = GradeSchema.enum as readonly Grade[];

interface StringRule {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

const properties = StudentCreateSchema.properties as unknown as Record<string, StringRule>;
const required = new Set<string>(StudentCreateSchema.required);

export function isRequired(field: Field) {
  return required.has(field);
}

export function maxLength(field: Field): number | undefined {
  return properties[field]?.maxLength;
}

const patterns = new Map<string, RegExp>();
function patternOf(field: Field): RegExp | undefined {
  const source = properties[field]?.pattern;
  if (!source) return undefined;
  let pattern = patterns.get(field);
  if (!pattern) {
    pattern = new RegExp(source, 'u');
    patterns.set(field, pattern);
  }
  return pattern;
}

const messages: Record<Field, string> = {
  name: 'Use visible characters: no control or invisible formatting characters, not only spaces.',
  grade: 'Choose a grade.',
  email: 'Enter an e-mail address like ada@example.com (ASCII; an international domain in its xn-- form).',
};

/** What is wrong with a field's value, or undefined when the spec's rules accept it. An empty
 * optional field is no value at all. */
export function checkField(field: Field, value: string): string | undefined {
  if (value === '') return isRequired(field) ? 'Required.' : undefined;
  const length = [...value].length;
  const max = maxLength(field);
  if (max !== undefined && length > max) return `At most ${max} characters (this has ${length}).`;
  if (field === 'grade') return GRADES.includes(value as Grade) ? undefined : messages.grade;
  const pattern = patternOf(field);
  if (pattern && !pattern.test(value)) return messages[field];
  return undefined;
}
