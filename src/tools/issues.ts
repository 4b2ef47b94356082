import type { z } from 'zod';

const SAFE_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * Turns zod issues into one line a model can act on, without echoing input: paths keep only
 * identifier-like segments and indices, and each issue says what was expected, never what came.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], max = 5): string {
  const parts = issues.slice(0, max).map((issue) => `${formatPath(issue.path)}: ${describe(issue)}`);
  const more = issues.length > max ? ` (and ${issues.length - max} more)` : '';
  return `Invalid arguments: ${parts.join('; ')}${more}`;
}

/** Formats a path of keys for a message, replacing anything that is not identifier-like. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(arguments)';
  return path
    .map((seg, i) => {
      if (typeof seg === 'number') return `[${seg}]`;
      const name = typeof seg === 'string' && SAFE_SEGMENT.test(seg) ? seg : '?';
      return i === 0 ? name : `.${name}`;
    })
    .join('');
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'set'
        ? `must have at least ${issue.minimum} items`
        : issue.origin === 'string'
          ? `must be at least ${issue.minimum} characters`
          : `must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'set'
        ? `must have at most ${issue.maximum} items`
        : issue.origin === 'string'
          ? `must be at most ${issue.maximum} characters`
          : `must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' ? 'has an invalid format' : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return 'has unknown properties';
    case 'invalid_union':
      return 'matches none of the allowed shapes';
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_element':
      return 'has an invalid element';
    case 'custom':
      // Written by the tool's author, not derived from input.
      return issue.message;
    default:
      return 'is invalid';
  }
}
