/** drizzle-kit config for the PostgreSQL store: `bunx drizzle-kit generate --config drizzle.postgres.config.ts`. */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/postgres/schema.ts",
  out: "./drizzle/postgres",
});
