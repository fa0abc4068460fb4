/*
 * t/web_budget.t's browser: what a phone downloads for the first
 * screen of a live race, the map's chunk apart (it loads after, by
 * itself).  Every script, style sheet and the page itself, gzipped as
 * nginx sends them; prints the figures and checks the 150 KB budget.
 */

import { gzipSync } from 'node:zlib';
import { run, start } from './lib.mjs';

const BUDGET = 150 * 1024;

run(async () => {
    const w = await start();
    const { base, race } = w.args;

    const page = await w.page({ width: 360, height: 740, mobile: true });
    const files = [];
    page.on('response', async res => {
        const type = res.request().resourceType();
        if (!['document', 'script', 'stylesheet'].includes(type)) {
            return;
        }
        try {
            const body = await res.body();
            const url = new URL(res.url()).pathname;
            /* the map's chunks are named after the library by Vite */
            files.push({ url, type, raw: body.length,
                         gz: gzipSync(body).length,
                         map: /maplibre/i.test(url) });
        } catch {
            /* a redirect has no body */
        }
    });

    await page.goto(base + '/races/' + encodeURIComponent(race));
    /* the page is up once its socket says so */
    await page.getByText(/Live · updated/).first().waitFor();
    await page.waitForLoadState('networkidle');

    const first = files.filter(f => !f.map);
    const map = files.filter(f => f.map);
    const sum = list => list.reduce((a, f) => a + f.gz, 0);
    for (const f of files) {
        w.diag(`${f.map ? 'map  ' : 'first'} ${f.url}: ${f.raw} bytes, `
               + `${f.gz} gzipped`);
    }
    w.diag(`first screen: ${first.length} files, ${sum(first)} bytes `
           + `gzipped; the map: ${sum(map)} bytes gzipped`);
    w.ok(map.length > 0, 'the map library came in a chunk of its own');
    w.ok(sum(first) < BUDGET, `the first screen is under 150 KB gzipped `
         + `(${(sum(first) / 1024).toFixed(1)} KB)`);

    await w.end({ first: sum(first), map: sum(map),
                  files: files.map(f => ({ ...f })) });
});
