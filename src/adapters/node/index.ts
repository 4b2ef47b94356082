export { type ListenOptions, listen, type RunningServer } from './listen.js';
