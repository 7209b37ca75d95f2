// vite.config.ts - build and unit-test configuration of the dashboard.
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2022",
    sourcemap: true,
  },
  // `npm run dev`: the page is on :5173, so the API and the WebSocket are
  // proxied to a backend started with `make run` (HTTP and WebSocket on 8000).
  server: {
    proxy: {
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
      "/recordings": "http://127.0.0.1:8000",
      "/health": "http://127.0.0.1:8000",
    },
  },
  worker: {
    format: "es",
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
