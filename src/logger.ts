/**
 * The one logger interface of the library: recovery reports, write failures, first drops. Messages
 * arrive complete, prefixed `[session-metrics] [area]`.
 */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

/** The default: `console.warn` / `console.error`. */
export const consoleLogger: Logger = {
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};
