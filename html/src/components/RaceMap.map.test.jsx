import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render, screen } from '@testing-library/react';

/*
 * RaceMap's wiring to maplibre: what it asks of the Map and what it
 * says of its errors.  maplibre needs WebGL, which happy-dom has not,
 * so a stand-in records the options and lets the test fire events;
 * the map itself is drawn in the browser tests.
 */

const made = [];

class FakeMap {
    constructor(opts) {
        this.opts = opts;
        this.handlers = {};
        made.push(this);
    }
    addControl() {}
    on(ev, fn) { (this.handlers[ev] ||= []).push(fn); }
    once(ev, fn) { this.on(ev, fn); }
    fire(ev, arg) { for (const fn of this.handlers[ev] || []) fn(arg); }
    getContainer() { return { clientWidth: 400 }; }
    fitBounds() {}
    getSource() { return null; }
    remove() {}
}

vi.mock('./maplibre.js', () => ({
    default: { Map: FakeMap, NavigationControl: class {},
               Marker: class {
                   setLngLat() { return this; }
                   addTo() { return this; }
                   remove() {}
               } },
}));

vi.mock('./mapSettings.js', async (orig) => ({
    ...(await orig()),
    mapSettings: () => Promise.resolve({
        tiles: ['https://tiles.example.org/{z}/{x}/{y}.png'] }),
}));

const { default: RaceMap } = await import('./RaceMap.jsx');

afterEach(() => {
    cleanup();
    made.length = 0;
});

describe('RaceMap and the operator\'s tiles', () => {
    it('loads tiles as images and says once when they fail', async () => {
        globalThis.matchMedia ||= () => ({ matches: false });
        render(<RaceMap course={[]} riders={[]} />);
        await vi.waitFor(() => expect(made).toHaveLength(1));
        const m = made[0];
        expect(m.opts.refreshExpiredTiles).toBe(false);
        act(() => {
            m.fire('load');
            m.fire('error', { sourceId: 'tiles',
                              error: new Error('blocked by CSP') });
            m.fire('error', { sourceId: 'tiles',
                              error: new Error('another tile') });
        });
        const note = await screen.findByText(/tiles could not be loaded/);
        expect(note.getAttribute('role')).toBe('status');
        expect(note.textContent).toMatch(/blocked by CSP/);
        expect(note.textContent).not.toMatch(/another tile/);
        expect(screen.queryByRole('alert')).toBeNull();
    });
});
