export { checkRelativePath, isInside, MAX_PATH_LENGTH, type PathCheck } from './check-path.js';
export { createFileSandbox, type FileSandbox, type FileSandboxOptions, type SandboxFile } from './sandbox.js';
