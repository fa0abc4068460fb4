import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import RaceList from './RaceList.jsx';
import { nextPath } from './Account.jsx';

function race(id, name, status) {
    return { id, name, status, public: true, start_at: 1767261600000,
             riders: 1 };
}

/* answers by URL; one answer held back until the test lets it go */
function serve(routes, hold) {
    let release;
    const held = new Promise(r => { release = r; });
    globalThis.fetch = vi.fn(async (url) => {
        if (hold && url.includes(hold)) {
            await held;
        }
        const key = Object.keys(routes).find(k => url.includes(k));
        return new Response(JSON.stringify(routes[key]), { status: 200,
            headers: { 'Content-Type': 'application/json' } });
    });
    return () => release();
}

afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
});

describe('RaceList', () => {
    it('a page of another tab, arriving late, is dropped', async () => {
        const live = Array.from({ length: 100 },
                                (_, i) => race('l' + i, 'Live ' + i, 'live'));
        const release = serve({
            'status=live&limit=100&offset=0': { races: live, total: 101 },
            'status=live&limit=100&offset=100': {
                races: [race('l100', 'Late live', 'live')], total: 101 },
            'status=finished': { races: [race('f1', 'Past one', 'finished'),
                                         { id: 'f2', status: 'finished' }],
                                 total: 2 },
        }, 'offset=100');
        render(<MemoryRouter><RaceList /></MemoryRouter>);
        fireEvent.click(await screen.findByRole('button', { name: 'More' }));
        fireEvent.click(screen.getByRole('button', { name: 'Past' }));
        await screen.findByText('Past one');
        expect(screen.getByRole('button', { name: 'Past' })
            .getAttribute('aria-pressed')).toBe('true');
        await act(async () => { release(); });
        expect(screen.queryByText('Late live')).toBeNull();
        expect(screen.getByText('Past one')).toBeTruthy();

        /* a race without a name does not break the search */
        fireEvent.change(screen.getByRole('searchbox'),
                         { target: { value: 'past' } });
        expect(screen.getByText('Past one')).toBeTruthy();
    });
});

describe('nextPath', () => {
    it('goes only to paths of this site', () => {
        expect(nextPath('?next=/organize')).toBe('/organize');
        expect(nextPath('?next=//evil.example')).toBe('/');
        expect(nextPath('?next=/%5Cevil.example')).toBe('/');
        expect(nextPath('?next=https://evil.example')).toBe('/');
        expect(nextPath('')).toBe('/');
    });
});
