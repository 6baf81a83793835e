import { defineConfig } from "vitest/config";

// The console is served under /console/ by the local cloud and by the static site, so every asset
// URL carries that prefix and deep links (/console/runs/<id>) still find their scripts.
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // React, React Flow, dagre and the YAML parser: one bundle of about 600 kB (190 kB gzipped).
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      onLog(level, log, handler) {
        // React Flow marks itself "use client" for server frameworks; a browser bundle has no use.
        if (log.code === "MODULE_LEVEL_DIRECTIVE") return;
        handler(level, log);
      },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
