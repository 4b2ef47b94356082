export { BUILTIN_RULES, type RedactionRule } from './rules.js';
export {
  createSanitizer,
  type SanitizeReport,
  type Sanitizer,
  type SanitizerOptions,
  truncationMarker,
} from './sanitize.js';
