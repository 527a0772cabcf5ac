/** drizzle-kit config for the SQLite store: `bunx drizzle-kit generate --config drizzle.sqlite.config.ts`. */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/store/sqlite/schema.ts",
  out: "./drizzle/sqlite",
});
