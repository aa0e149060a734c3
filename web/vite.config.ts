import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

/** The gateway that development forwards to (its default `GATEWAY_PORT`). */
const gateway = "http://localhost:8080";

/**
 * The gateway serves the built app (web/dist) at `/` on its own origin, so the app calls
 * the API at the same origin. In development the Vite server (:5173) forwards the
 * Connect paths (`/sovd.v1.<Service>/<Method>`) and the WebSocket bridge to a gateway on
 * :8080, keeping the same-origin setup.
 */
export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      "^/sovd\\.v1\\..*": { target: gateway, changeOrigin: true },
      "/ws": { target: gateway, ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
  },
});
