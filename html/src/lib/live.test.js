import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveClient } from './live.js';

/* a WebSocket that the test drives */
class FakeSocket {
    static all = [];
    constructor(url) {
        this.url = url;
        FakeSocket.all.push(this);
    }
    close() {}
    open() { this.onopen && this.onopen(); }
    send(m) { this.onmessage({ data: JSON.stringify(m) }); }
    drop(code) { this.onclose({ code }); }
}

describe('LiveClient', () => {
    beforeEach(() => {
        FakeSocket.all = [];
        vi.useFakeTimers();
    });
    afterEach(() => vi.useRealTimers());

    it('merges the snapshot and ticks by rider', () => {
        const seen = [];
        const c = new LiveClient('r1', { WebSocketImpl: FakeSocket,
                                         onChange: s => seen.push(s) });
        c.start();
        const ws = FakeSocket.all[0];
        expect(ws.url).toMatch(/\/live\/r1$/);
        ws.open();
        ws.send({ type: 'snapshot', t: 1, riders: [
            { rider: 'a', bib: '1', dist_m: 10, rank: 1 },
            { rider: 'b', bib: '2', dist_m: 5, rank: 2 }] });
        ws.send({ type: 'tick', t: 2, riders: [
            { rider: 'b', dist_m: 20, rank: 1 },
            { rider: 'a', rank: 2 }] });
        const last = seen.at(-1);
        expect(last.state).toBe('live');
        expect(last.riders.get('b')).toMatchObject({ bib: '2', dist_m: 20,
                                                     rank: 1 });
        expect(last.riders.get('a')).toMatchObject({ dist_m: 10, rank: 2 });
    });

    it('reconnects after a drop and starts again from the snapshot', () => {
        const seen = [];
        const c = new LiveClient('r1', { WebSocketImpl: FakeSocket,
                                         onChange: s => seen.push(s) });
        c.start();
        FakeSocket.all[0].open();
        FakeSocket.all[0].send({ type: 'snapshot', t: 1,
                                 riders: [{ rider: 'a' }] });
        FakeSocket.all[0].drop(1006);
        expect(seen.at(-1).state).toBe('reconnecting');
        vi.advanceTimersByTime(1000);
        expect(FakeSocket.all).toHaveLength(2);
        FakeSocket.all[1].open();
        FakeSocket.all[1].send({ type: 'snapshot', t: 2,
                                 riders: [{ rider: 'b' }] });
        expect([...seen.at(-1).riders.keys()]).toEqual(['b']);
        c.stop();
        expect(seen.at(-1).state).toBe('closed');
    });

    it('ignores what is not JSON or has no rider', () => {
        const c = new LiveClient('r1', { WebSocketImpl: FakeSocket });
        c.start();
        const ws = FakeSocket.all[0];
        ws.onmessage({ data: 'not json' });
        ws.send({ type: 'snapshot', t: 1, riders: [null, { rider: 5 },
                                                   { rider: 'x' }] });
        expect([...c.riders.keys()]).toEqual(['x']);
    });
});
