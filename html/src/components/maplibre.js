/*
 * The map library, in a chunk of its own: only a page that draws a map
 * loads it.  Its worker is bundled by Vite as a script of ours (a .js
 * file, served as JavaScript by any mime.types, unlike the .mjs that
 * maplibre ships) and named to maplibre before the first map.
 */

import * as maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url';

maplibregl.setWorkerUrl(workerUrl);

export default maplibregl;
