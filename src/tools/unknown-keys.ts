import type { z } from 'zod';

type Def = { type: string; [k: string]: unknown };

/**
 * Finds the first property of `value` that the schema does not declare, as a path of schema keys.
 *
 * zod's default object mode silently strips unknown keys; Rampart rejects them instead (an unknown
 * key is a client bug or a probe, and silently dropping it hides both). Objects declared with
 * `z.looseObject` or a catchall are left alone; `z.strictObject` is checked by zod itself.
 * Unions are not descended into: zod reports the branch that failed.
 *
 * @returns the path of the object holding the unknown key (the key itself is input and is not
 *   echoed), or `undefined` when there is none.
 */
export function findUnknownKey(
  schema: z.ZodType,
  value: unknown,
  path: (string | number)[] = [],
): (string | number)[] | undefined {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  switch (def.type) {
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
      const shape = def.shape as Record<string, z.ZodType>;
      const loose = def.catchall !== undefined;
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) {
          if (!loose) return path;
          continue;
        }
        const found = findUnknownKey(shape[key] as z.ZodType, (value as Record<string, unknown>)[key], [
          ...path,
          key,
        ]);
        if (found) return found;
      }
      return undefined;
    }
    case 'array': {
      if (!Array.isArray(value)) return undefined;
      for (let i = 0; i < value.length; i++) {
        const found = findUnknownKey(def.element as z.ZodType, value[i], [...path, i]);
        if (found) return found;
      }
      return undefined;
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return findUnknownKey(def.innerType as z.ZodType, value, path);
    case 'pipe':
      return findUnknownKey(def.in as z.ZodType, value, path);
    case 'record': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
      for (const [key, v] of Object.entries(value)) {
        const found = findUnknownKey(def.valueType as z.ZodType, v, [...path, key]);
        if (found) return found;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
