import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import Leaderboard from './Leaderboard.jsx';

afterEach(cleanup);

describe('the leaderboard', () => {
    const now = 10_000_000;
    const rows = [
        { rider: 'a', bib: '1', name: 'Ann', rank: 1, dist_m: 1500,
          status: 'racing', t: now - 2000, gap_s: 0 },
        { rider: 'b', bib: '2', name: 'Bob', rank: 2, dist_m: 1400,
          status: 'racing', t: now - 125000, gap_s: 12 },
        { rider: 'c', bib: '3', name: null, status: 'entered' },
    ];

    function draw(extra = {}) {
        const props = { rows, now, follow: null, favourites: new Set(['b']),
                        onFollow: vi.fn(), onFavourite: vi.fn(), ...extra };
        render(<Leaderboard {...props} />);
        return props;
    }

    it('fades a stale rider and says how old its fix is', () => {
        draw();
        const bob = screen.getByText('Bob').closest('tr');
        expect(bob.className).toMatch(/stale/);
        expect(bob.textContent).toMatch(/no fix for 2 min/);
        const ann = screen.getByText('Ann').closest('tr');
        expect(ann.className).not.toMatch(/stale/);
        expect(ann.textContent).toMatch(/Leader/);
        expect(ann.textContent).toMatch(/2 s/);
    });

    it('survives a rider with nothing but an id', () => {
        draw();
        const c = screen.getByText('c').closest('tr');
        expect(c.textContent).toMatch(/Not started/);
    });

    it('follows on a row click and stars without following', () => {
        const p = draw();
        fireEvent.click(screen.getByText('Ann').closest('tr'));
        expect(p.onFollow).toHaveBeenCalledWith('a');
        const star = screen.getByRole('button',
                                      { name: 'Favourite: Bob, bib 2' });
        expect(star.getAttribute('aria-pressed')).toBe('true');
        fireEvent.click(star);
        expect(p.onFavourite).toHaveBeenCalledWith('b');
        expect(p.onFollow).toHaveBeenCalledTimes(1);
    });
});
