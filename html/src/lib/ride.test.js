import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoff, fitting, fixFields, Inflight, MAX_BYTES, message,
         nextSeq, RideClient } from './ride.js';
import { MemoryStore } from './fixstore.js';

/* a WebSocket that the test drives */
class FakeSocket {
    static all = [];
    constructor(url) {
        this.url = url;
        this.sent = [];
        FakeSocket.all.push(this);
    }
    close(code) { this.closedWith = code; }
    send(m) { this.sent.push(JSON.parse(m)); }
    open() { this.onopen && this.onopen(); }
    reply(m) { this.onmessage({ data: JSON.stringify(m) }); }
    drop(code = 1006) { this.onclose({ code }); }
}

class FakeGeo {
    watchPosition(ok, err) { this.ok = ok; this.err = err; return 1; }
    clearWatch() { this.ok = null; }
    move(lat, lon, acc = 5) {
        this.ok({ timestamp: Date.now(),
                  coords: { latitude: lat, longitude: lon, accuracy: acc,
                            altitude: null, speed: null, heading: null } });
    }
}

/* lets the store's promises and the client's awaits settle */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('seq and fixes', () => {
    it('starts from the clock and only grows', () => {
        expect(nextSeq(null, 1733000000000)).toBe(1733000000000);
        expect(nextSeq(undefined, 5)).toBe(5);
        expect(nextSeq(41, 5)).toBe(42);
        expect(nextSeq(41, 1e12)).toBe(42);
    });

    it('a store never gives a seq twice', async () => {
        const shared = { fixes: new Map(), meta: new Map() };
        const a = new MemoryStore('r/p', shared);
        const f1 = await a.put({ t: 1, lat: 1, lon: 2 }, 1000);
        /* a reload: a new store on the same data */
        const b = new MemoryStore('r/p', shared);
        const f2 = await b.put({ t: 2, lat: 1, lon: 2 }, 1000);
        expect(f1.seq).toBe(1000);
        expect(f2.seq).toBe(1001);
        await b.ackUpTo(1001);
        const f3 = await b.put({ t: 3, lat: 1, lon: 2 }, 1000);
        expect(f3.seq).toBe(1002);
        expect(await b.count()).toBe(1);
    });

    it('a position becomes a fix with the fields the server takes', () => {
        const f = fixFields({ timestamp: 1000.4, coords: {
            latitude: 45.123456789, longitude: 7.1, accuracy: 20000,
            altitude: 240.55, speed: 5, heading: 360 } }, 0.8123);
        expect(f).toEqual({ t: 1000, lat: 45.1234568, lon: 7.1,
                            ele: 240.6, spd: 5, brg: 0, bat: 0.81 });
        const g = fixFields({ timestamp: 5, coords: {
            latitude: 1, longitude: 2, accuracy: 4, altitude: null,
            speed: NaN, heading: NaN } });
        expect(g).toEqual({ t: 5, lat: 1, lon: 2, acc: 4 });
    });

    it('one fix alone, more as a batch', () => {
        expect(message([{ seq: 1 }])).toEqual({ seq: 1 });
        expect(message([{ seq: 1 }, { seq: 2 }]))
            .toEqual({ type: 'fixes', items: [{ seq: 1 }, { seq: 2 }] });
    });

    it('backs off from 1 s doubling to 30 s, with jitter', () => {
        expect(backoff(0, () => 0)).toBe(1000);
        expect(backoff(1, () => 0)).toBe(2000);
        expect(backoff(4, () => 0)).toBe(16000);
        expect(backoff(5, () => 0)).toBe(30000);
        expect(backoff(20, () => 0)).toBe(30000);
        expect(backoff(0, () => 0.99)).toBeGreaterThanOrEqual(667);
        expect(backoff(0, () => 0.99)).toBeLessThan(1000);
    });

    it('a batch is done when acked or refused, fix by fix', () => {
        const f = new Inflight();
        f.add([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
        f.add([{ seq: 4 }]);
        expect(f.top).toBe(4);
        f.error(3);
        f.ack(2);
        expect(f.size).toBe(1);
        f.ack(4);
        expect(f.size).toBe(0);
    });
});

describe('RideClient', () => {
    let store, geo, seen, c;

    beforeEach(() => {
        vi.useFakeTimers();
        FakeSocket.all = [];
        store = new MemoryStore('r1/p1');
        geo = new FakeGeo();
        seen = [];
        c = new RideClient({ token: 'tok', store, WebSocketImpl: FakeSocket,
                             geolocation: geo, probe: async () => null,
                             random: () => 0,
                             onChange: s => seen.push(s) });
    });
    afterEach(() => {
        c.close();
        vi.useRealTimers();
    });

    const last = () => seen.at(-1);

    it('buffers first, sends, forgets on ack', async () => {
        c.start();
        const ws = FakeSocket.all[0];
        expect(ws.url).toMatch(/\/ride\?access_token=tok$/);
        ws.open();
        geo.move(45, 7);
        await settle();
        expect(await store.count()).toBe(1);
        expect(ws.sent).toHaveLength(1);
        const seq = ws.sent[0].seq;
        expect(ws.sent[0]).toMatchObject({ type: 'fix', lat: 45, lon: 7,
                                           acc: 5 });
        expect(last().pending).toBe(1);
        ws.reply({ type: 'ack', seq });
        await settle();
        expect(await store.count()).toBe(0);
        expect(last()).toMatchObject({ state: 'live', pending: 0,
                                       lastAck: { seq } });
    });

    it('keeps fixes at the rate the server asks', async () => {
        c.start();
        const ws = FakeSocket.all[0];
        ws.open();
        ws.reply({ type: 'config', interval_ms: 5000 });
        geo.move(45, 7);
        await settle();
        geo.move(45.001, 7);
        geo.move(45.002, 7);
        await settle();
        expect(ws.sent).toHaveLength(1);
        await vi.advanceTimersByTimeAsync(5000);
        expect(ws.sent).toHaveLength(2);
        expect(ws.sent[1].lat).toBe(45.002);
    });

    it('drops a refused fix and says why', async () => {
        c.start();
        const ws = FakeSocket.all[0];
        ws.open();
        geo.move(45, 7);
        await settle();
        ws.reply({ type: 'error', seq: ws.sent[0].seq, code: 'bad_fix',
                   message: 't too far in the future' });
        await settle();
        expect(await store.count()).toBe(0);
        expect(last().error).toMatch(/t too far in the future/);
    });

    it('buffers through a drop, reconnects, sends the backlog in batches',
       async () => {
        c.start();
        let ws = FakeSocket.all[0];
        ws.open();
        ws.drop();
        expect(last().state).toBe('reconnecting');
        /* 1201 positions while the socket is down */
        for (let i = 0; i < 1201; i++) {
            await c.record({ timestamp: i, coords: { latitude: 45,
                                                     longitude: 7 } });
        }
        expect(await store.count()).toBe(1201);
        /* the first retry after 1 s fails before opening */
        await vi.advanceTimersByTimeAsync(1000);
        expect(FakeSocket.all).toHaveLength(2);
        FakeSocket.all[1].drop();
        await vi.advanceTimersByTimeAsync(1999);
        expect(FakeSocket.all).toHaveLength(2);
        await vi.advanceTimersByTimeAsync(1);
        ws = FakeSocket.all[2];
        ws.open();
        await settle();
        /* three batches may be on their way: 500, 500, 201 */
        expect(ws.sent.map(m => m.items.length)).toEqual([500, 500, 201]);
        const seqs = ws.sent.flatMap(m => m.items.map(f => f.seq));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(1201);
        ws.reply({ type: 'ack', seq: ws.sent[0].items.at(-1).seq });
        await settle();
        expect(await store.count()).toBe(701);
        ws.reply({ type: 'ack', seq: seqs.at(-1) });
        await settle();
        expect(last().pending).toBe(0);
    });

    /* every field a phone may give: ~140 bytes of JSON each */
    const full = i => ({ t: 1733000000000 + i, lat: 45.1234567,
                         lon: 7.1234567, ele: 1234.5, acc: 12.3,
                         spd: 12.34, brg: 123.4, bat: 0.83 });

    it('keeps a batch of full fixes under the message limit', async () => {
        c.send();
        for (let i = 0; i < 500; i++) {
            await store.put(full(i), 1733000000000);
        }
        const ws = FakeSocket.all[0];
        ws.open();
        await settle();
        expect(ws.sent.length).toBeGreaterThan(1);
        for (const m of ws.sent) {
            expect(JSON.stringify(m).length).toBeLessThanOrEqual(MAX_BYTES);
        }
        const seqs = ws.sent.flatMap(m => m.items.map(f => f.seq));
        expect(seqs).toHaveLength(500);
        expect(new Set(seqs).size).toBe(500);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    });

    it('fits at least one fix, and as many as the size allows', () => {
        const fixes = [0, 1, 2, 3].map(i => ({ type: 'fix', seq: i,
                                                ...full(i) }));
        const one = JSON.stringify(fixes[0]).length;
        expect(fitting(fixes, 10)).toHaveLength(1);
        expect(fitting(fixes, 27 + 2 * one + 1)).toHaveLength(2);
        expect(fitting(fixes, 27 + 2 * one)).toHaveLength(1);
        expect(JSON.stringify(message(fitting(fixes, 27 + 2 * one + 1)))
               .length).toBe(27 + 2 * one + 1);
        expect(fitting(fixes)).toBe(fixes);
    });

    it('a message too big (1009) halves the batches until they go',
       async () => {
        c.send();
        for (let i = 0; i < 9; i++) {
            await store.put(full(i), 1733000000000);
        }
        let ws = FakeSocket.all[0];
        ws.open();
        await settle();
        expect(ws.sent.map(m => m.items.length)).toEqual([9]);
        ws.drop(1009);
        expect(last().state).toBe('reconnecting');
        await vi.advanceTimersByTimeAsync(1000);
        ws = FakeSocket.all[1];
        ws.open();
        await settle();
        expect(ws.sent.map(m => m.items ? m.items.length : 1))
            .toEqual([4, 4, 1]);
        /* smaller again, down to single fixes */
        ws.drop(1009);
        await vi.advanceTimersByTimeAsync(1000);
        ws = FakeSocket.all[2];
        ws.open();
        await settle();
        expect(ws.sent.map(m => m.items ? m.items.length : 1))
            .toEqual([2, 2, 2]);
        for (let i = 0; i < 2; i++) {
            ws.drop(1009);
            await vi.advanceTimersByTimeAsync(1000);
            ws = FakeSocket.all.at(-1);
            ws.open();
            await settle();
        }
        expect(ws.sent.map(m => m.type)).toEqual(['fix', 'fix', 'fix']);
        /* the acks drain it all */
        for (let i = 0; i < 9; i++) {
            const m = ws.sent.at(-1);
            ws.reply({ type: 'ack', seq: m.seq });
            await settle();
        }
        expect(await store.count()).toBe(0);
        expect(last().pending).toBe(0);
    });

    it('other closes keep the batch size', async () => {
        c.send();
        for (let i = 0; i < 9; i++) {
            await store.put(full(i), 1733000000000);
        }
        FakeSocket.all[0].open();
        await settle();
        FakeSocket.all[0].drop(1006);
        await vi.advanceTimersByTimeAsync(1000);
        const ws = FakeSocket.all[1];
        ws.open();
        await settle();
        expect(ws.sent.map(m => m.items.length)).toEqual([9]);
    });

    it('pipelines at most three batches ahead of the acks', async () => {
        c.send();
        for (let i = 0; i < 2001; i++) {
            await c.record({ timestamp: i, coords: { latitude: 1,
                                                     longitude: 2 } });
        }
        const ws = FakeSocket.all[0];
        ws.open();
        await settle();
        expect(ws.sent).toHaveLength(3);
        ws.reply({ type: 'ack', seq: ws.sent[0].items.at(-1).seq });
        await settle();
        expect(ws.sent).toHaveLength(4);
        expect(ws.sent[3].items).toHaveLength(500);
    });

    it('reconnects at once when the browser is online again', async () => {
        c.start();
        FakeSocket.all[0].drop();
        expect(FakeSocket.all).toHaveLength(1);
        window.dispatchEvent(new Event('online'));
        await settle();
        expect(FakeSocket.all).toHaveLength(2);
    });

    it('a policy close stops the fast retries and keeps the buffer',
       async () => {
        c.start();
        const ws = FakeSocket.all[0];
        ws.open();
        geo.move(45, 7);
        await settle();
        ws.drop(1008);
        expect(last().state).toBe('refused');
        expect(last().refused).toMatch(/revoked|expired/);
        await vi.advanceTimersByTimeAsync(60000);
        expect(FakeSocket.all).toHaveLength(1);
        expect(await store.count()).toBe(1);
    });

    it('asks the server why after failed upgrades', async () => {
        c = new RideClient({ token: 'tok', store, WebSocketImpl: FakeSocket,
                             geolocation: geo, random: () => 0,
                             probe: async () => 'The race is over.',
                             onChange: s => seen.push(s) });
        c.send();
        FakeSocket.all[0].drop();
        await vi.advanceTimersByTimeAsync(1000);
        FakeSocket.all[1].drop();
        await settle();
        expect(last()).toMatchObject({ state: 'refused',
                                       refused: 'The race is over.' });
        await vi.advanceTimersByTimeAsync(60000);
        expect(FakeSocket.all).toHaveLength(2);
    });

    it('a GPS error shows until positions come again', async () => {
        c.start();
        geo.err({ code: 2 });
        expect(last().error).toMatch(/No position/);
        geo.move(45, 7);
        expect(last().error).toBeNull();
        geo.err({ code: 1 });
        expect(last()).toMatchObject({ tracking: false });
        expect(last().error).toMatch(/not allowed/);
    });

    it('closes the socket once stopped and the buffer is empty',
       async () => {
        c.start();
        const ws = FakeSocket.all[0];
        ws.open();
        geo.move(45, 7);
        await settle();
        c.stop();
        await settle();
        expect(ws.closedWith).toBeUndefined();
        ws.reply({ type: 'ack', seq: ws.sent[0].seq });
        await settle();
        expect(ws.closedWith).toBe(1000);
    });
});
