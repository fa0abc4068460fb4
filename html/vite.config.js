import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/*
 * Hashed file names under /assets/ (nginx caches them for a year);
 * index.html names them and is never cached.  The map library is its
 * own chunk, loaded only by the pages that draw a map.
 */
export default defineConfig({
    plugins: [react()],
    build: {
        outDir: process.env.RACE_WEB_OUT || 'dist',
        emptyOutDir: true,
        assetsDir: 'assets',
        chunkSizeWarningLimit: 1200,
        sourcemap: false,
    },
    test: {
        environment: 'happy-dom',
        include: ['src/**/*.test.{js,jsx}'],
    },
});
