export { type AccessDecision, decideToolAccess, type ToolRequirement } from './decide.js';
export { createScopeHierarchy, parseScopeString, type ScopeHierarchy } from './scopes.js';
