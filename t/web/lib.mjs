/*
 * What every browser script of t/web_*.t shares: Debian's chromium
 * driven by playwright-core (from html/'s lock file; it downloads no
 * browser), TAP lines for Race::Web, screenshots into the build folder,
 * a check that a canvas really drew, and a deadline for the whole
 * script.
 *
 *   import { start } from './lib.mjs';
 *   const w = await start();          // w.args, w.browser, w.ok(), ...
 *   const page = await w.page({ width: 360 });
 *   ...
 *   await w.end({ race: id });        // the result for the .t file
 */

import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = process.env.RACE_ROOT || path.resolve(
    path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(path.join(root, 'html', 'package.json'));
const { chromium } = require('playwright-core');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const FLAGS = [
    '--headless=new', '--no-sandbox', '--disable-gpu-sandbox',
    '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-quic', '--no-first-run',
    '--disable-dev-shm-usage',
];

export async function start() {
    const args = JSON.parse(process.env.RACE_WEB_ARGS || '{}');
    const secs = Number(process.env.RACE_WEB_TIMEOUT_S || 300);
    let n = 0;
    let failed = 0;

    const w = {
        args,
        base: args.base,
        shots: process.env.RACE_WEB_SHOTS,
        pages: [],
        errors: [],

        ok(cond, name, ...why) {
            n++;
            console.log((cond ? 'ok ' : 'not ok ') + n + ' - ' + name);
            if (!cond) {
                failed++;
                for (const d of why) {
                    w.diag(typeof d === 'string' ? d : JSON.stringify(d));
                }
            }
            return !!cond;
        },

        is(got, want, name) {
            return w.ok(got === want, name,
                        'got ' + JSON.stringify(got) + ', want '
                        + JSON.stringify(want));
        },

        diag(text) {
            for (const line of String(text).split('\n')) {
                console.log('# ' + line);
            }
        },

        /* a new context (own cookies) and page, 1280 wide unless said */
        async page({ width = 1280, height = 800, mobile = false,
                     ...ctx } = {}) {
            const context = await w.browser.newContext({
                viewport: { width, height }, isMobile: mobile,
                hasTouch: mobile, deviceScaleFactor: 1, ...ctx });
            const page = await context.newPage();
            page.setDefaultTimeout(30000);
            page.on('pageerror', e => w.errors.push(page.url() + ': '
                                                    + String(e)));
            page.on('console', m => {
                if (m.type() === 'error'
                    && !/Failed to load resource|WebSocket connection/
                        .test(m.text())) {
                    const at = m.location();
                    w.errors.push(page.url() + ': ' + m.text()
                                  + (at && at.url ? ' (at ' + at.url + ':'
                                                    + at.lineNumber + ')'
                                                  : ''));
                }
            });
            w.pages.push(page);
            return page;
        },

        async shot(page, name, opt = {}) {
            const file = path.join(w.shots, name + '.png');
            await page.screenshot({ path: file, ...opt });
            return file;
        },

        /* the share of an element's pixels that are not its most common
         * colour: 0 for a blank canvas */
        async drawn(page, selector) {
            const png = await page.locator(selector).screenshot();
            return page.evaluate(async (b64) => {
                const img = new Image();
                img.src = 'data:image/png;base64,' + b64;
                await img.decode();
                const c = document.createElement('canvas');
                c.width = img.width;
                c.height = img.height;
                const g = c.getContext('2d');
                g.drawImage(img, 0, 0);
                const d = g.getImageData(0, 0, c.width, c.height).data;
                const count = new Map();
                for (let i = 0; i < d.length; i += 4) {
                    const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
                    count.set(k, (count.get(k) || 0) + 1);
                }
                const top = Math.max(...count.values());
                return { share: 1 - top / (d.length / 4),
                         colours: count.size };
            }, png.toString('base64'));
        },

        /* axe-core's WCAG 2 A and AA rules on the page as it is: a
         * check that fails on any serious or critical violation.  The
         * map's canvas is left out (its pixels are no text). */
        async axe(page, name) {
            await page.evaluate(AXE + '\n;0');
            const r = await page.evaluate(() => window.axe.run(
                { exclude: [['.maplibregl-canvas']] },
                { runOnly: { type: 'tag',
                             values: ['wcag2a', 'wcag2aa', 'wcag21aa'] },
                  resultTypes: ['violations'] }));
            const bad = r.violations.filter(v => v.impact === 'serious'
                                                 || v.impact === 'critical');
            return w.ok(bad.length === 0,
                        'no serious accessibility violation: ' + name,
                        ...bad.map(v => v.id + ': ' + v.help + ' ('
                                   + v.nodes.slice(0, 3).map(n =>
                                       n.target.join(' ')).join('; ')
                                   + ')'));
        },

        /* a check that the locator shows within secs: for what comes
         * after an answer of the server */
        async sees(locator, name, secs = 15) {
            const seen = await locator.first()
                .waitFor({ timeout: secs * 1000 })
                .then(() => true, () => false);
            return w.ok(seen, name);
        },

        /* polls fn (in node) until it returns truthy, up to secs */
        async until(fn, secs = 30, step = 200) {
            const end = Date.now() + secs * 1000;
            for (;;) {
                const v = await fn();
                if (v) {
                    return v;
                }
                if (Date.now() > end) {
                    return v;
                }
                await new Promise(r => setTimeout(r, step));
            }
        },

        async end(result = {}) {
            w.ok(w.errors.length === 0, 'no script error in any page',
                 ...w.errors.slice(0, 20));
            if (process.env.RACE_WEB_RESULT) {
                writeFileSync(process.env.RACE_WEB_RESULT,
                              JSON.stringify(result));
            }
            await w.browser.close();
            clearTimeout(timer);
            console.log('1..' + n);
            process.exitCode = failed ? 1 : 0;
        },
    };

    const timer = setTimeout(() => {
        w.ok(false, 'the script ended within ' + secs + ' s');
        process.exit(2);
    }, secs * 1000);

    w.browser = await chromium.launch({
        executablePath: process.env.RACE_CHROMIUM || '/usr/bin/chromium',
        args: FLAGS,
        headless: true,
    });

    return w;
}

/* a failed step ends the script with its reason, not a hang */
export function run(main) {
    main().catch(e => {
        console.log('not ok - the script threw: ' + (e && e.stack || e)
                    .split('\n').join('\n# '));
        process.exit(1);
    });
}
