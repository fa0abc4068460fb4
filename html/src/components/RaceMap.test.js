import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/* the file itself: vitest hands a CSS import over empty */
const css = readFileSync(fileURLToPath(
    import.meta.url.replace(/[^/]*$/, 'RaceMap.css')), 'utf8');

/* WCAG relative luminance and contrast of two #rrggbb colours */
function lum(hex) {
    const c = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16) / 255)
        .map(v => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

function contrast(a, b) {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
}

describe('a stale rider marker', () => {
    const rule = /\.rider-marker\.stale\s*\{([^}]*)\}/.exec(css);

    it('keeps its white bib readable: opaque, AA contrast', () => {
        expect(rule).not.toBeNull();
        expect(rule[1]).not.toMatch(/opacity/);
        const bg = /background:\s*(#[0-9a-fA-F]{6})/.exec(rule[1]);
        expect(bg).not.toBeNull();
        expect(contrast(bg[1], '#ffffff')).toBeGreaterThanOrEqual(4.5);
    });

    it('looks different from a fresh one', () => {
        expect(rule[1]).toMatch(/border-style:\s*dashed/);
    });
});
