import { InvalidSessionIdError } from "../errors.ts";

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// Windows device names are reserved with or without an extension ("nul.txt" too).
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * Throws `InvalidSessionIdError` unless `id` can safely name a folder on every platform:
 * `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`, not `.` or `..`, no Windows reserved device name.
 */
export function assertSessionId(id: unknown): asserts id is string {
  if (typeof id !== "string") throw new InvalidSessionIdError(id, "expected a string");
  if (!SESSION_ID.test(id))
    throw new InvalidSessionIdError(
      id,
      "use 1 to 128 characters from A-Z a-z 0-9 . _ - starting with a letter or digit",
    );
  if (WINDOWS_RESERVED.test(id))
    throw new InvalidSessionIdError(id, "it is a reserved device name on Windows");
}
