/*
 * The rider's phone in a browser: the /ride protocol (PROTOCOL.md,
 * "Rider phones").  Each position from the Geolocation API becomes a
 * fix, kept in the buffer (fixstore.js) FIRST, then sent; the buffer
 * forgets a fix only when the server acked it.  When the socket drops
 * the fixes pile up in the buffer; once it is back they go in batches
 * of at most 500 and at most MAX_BYTES of JSON, oldest first, then live
 * fixes again.
 *
 *   const c = new RideClient({ token, store, onChange: s => ... });
 *   c.start();   // GPS + socket       c.stop();   // GPS off
 *   c.send();    // socket only: send what the buffer holds
 *
 * onChange gets { state, tracking, pending, lastAck: {seq, at},
 * lastFix, accuracy, error, refused, wake }.  state is idle |
 * connecting | live | reconnecting | refused.
 */

import { wsUrl } from './api.js';

export const BATCH = 500;
/*
 * The JSON of a batch stays under this, well within the server's
 * race_ws_max_message (64k by default): a bigger message is closed with
 * 1009, and sending it again would fail the same way forever.  A server
 * with a smaller limit still closes 1009: then the batches of this ride
 * get half as many fixes each time, down to one.
 */
export const MAX_BYTES = 48 * 1024;
export const PIPELINE = 3;
const BACKOFF_MIN = 1000;
const BACKOFF_MAX = 30000;
/* a refused ride (revoked token, race over) is tried again this slowly */
const REFUSED_RETRY = 300000;
/* failed upgrades in a row before asking the server why */
const PROBE_AFTER = 2;

/*
 * The next seq: it only grows, and a counter that starts from the clock
 * (ms) does not meet the seqs a lost buffer (another phone, cleared
 * site data) gave before: the server would take those as resends.
 */
export function nextSeq(last, now = Date.now()) {
    if (last === null || last === undefined || !Number.isFinite(last)) {
        return Math.floor(now);
    }
    return last + 1;
}

function num(v, digits) {
    if (v === null || v === undefined || !Number.isFinite(v)) {
        return undefined;
    }
    const f = 10 ** digits;
    return Math.round(v * f) / f;
}

/* a GeolocationPosition as the fields of a fix (no seq yet); the
 * optional ones only when the browser has them and the server takes
 * them (race_fix.c's ranges) */
export function fixFields(pos, bat) {
    const c = pos.coords || {};
    const f = { t: Math.round(pos.timestamp || Date.now()),
                lat: num(c.latitude, 7), lon: num(c.longitude, 7) };
    const ele = num(c.altitude, 1);
    const acc = num(c.accuracy, 1);
    const spd = num(c.speed, 2);
    const brg = num(c.heading, 1);

    if (ele !== undefined && ele >= -500 && ele <= 9000) {
        f.ele = ele;
    }
    if (acc !== undefined && acc >= 0 && acc <= 10000) {
        f.acc = acc;
    }
    if (spd !== undefined && spd >= 0 && spd <= 100) {
        f.spd = spd;
    }
    if (brg !== undefined && brg >= 0 && spd > 0) {
        /* a heading means something only while moving */
        f.brg = brg % 360;
    }
    if (Number.isFinite(bat) && bat >= 0 && bat <= 1) {
        f.bat = Math.round(bat * 100) / 100;
    }
    return f;
}

/* what goes on the wire for some buffered fixes, oldest first */
export function message(fixes) {
    if (fixes.length === 1) {
        return fixes[0];
    }
    return { type: 'fixes', items: fixes };
}

/*
 * The first fixes of a batch whose message stays within max bytes (at
 * least one: a single fix is far smaller than any limit the server
 * takes).  The fields are numbers and ASCII names, so a character of
 * JSON is a byte.
 */
export function fitting(fixes, max = MAX_BYTES) {
    /* {"type":"fixes","items":[ ... ]} */
    let size = 27;
    let n = 0;
    for (const f of fixes) {
        size += JSON.stringify(f).length + (n ? 1 : 0);
        if (n && size > max) {
            break;
        }
        n++;
    }
    return n === fixes.length ? fixes : fixes.slice(0, n);
}

/* 1 s doubling to 30 s, each with up to a third off at random, so
 * phones that lost the same cell do not come back all at once */
export function backoff(attempt, random = Math.random) {
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** attempt);
    return Math.round(base * (1 - random() / 3));
}

/*
 * The messages sent and not yet answered.  A batch is answered by one
 * ack with its highest accepted seq, and by an error for each fix it
 * refused; it is done when every one of its seqs is either.
 */
export class Inflight {
    constructor() {
        this.msgs = [];
        this.top = 0;
        this.biggest = 0;
    }

    add(fixes) {
        const seqs = new Set(fixes.map(f => f.seq));
        this.msgs.push(seqs);
        this.biggest = Math.max(this.biggest, fixes.length);
        for (const s of seqs) {
            this.top = Math.max(this.top, s);
        }
    }

    ack(seq) {
        for (const m of this.msgs) {
            for (const s of m) {
                if (s <= seq) {
                    m.delete(s);
                }
            }
        }
        this.msgs = this.msgs.filter(m => m.size > 0);
    }

    error(seq) {
        for (const m of this.msgs) {
            m.delete(seq);
        }
        this.msgs = this.msgs.filter(m => m.size > 0);
    }

    get size() {
        return this.msgs.length;
    }

    reset() {
        this.msgs = [];
        this.top = 0;
        this.biggest = 0;
    }
}

export class RideClient {
    constructor({ token, store, onChange = () => {},
                  WebSocketImpl = globalThis.WebSocket,
                  geolocation = globalThis.navigator
                                && globalThis.navigator.geolocation,
                  probe = probeRide, random = Math.random,
                  now = () => Date.now() }) {
        this.token = token;
        this.store = store;
        this.onChange = onChange;
        this.WS = WebSocketImpl;
        this.geo = geolocation;
        this.probe = probe;
        this.random = random;
        this.now = now;

        this.s = { state: 'idle', tracking: false, pending: 0,
                   lastAck: null, lastFix: null, accuracy: null,
                   error: null, refused: null, wake: null };
        this.ws = null;
        this.open = false;
        this.inflight = new Inflight();
        this.batch = BATCH;
        this.attempt = 0;
        this.failedUpgrades = 0;
        this.timer = null;
        this.watch = null;
        this.interval = 1000;
        this.held = null;
        this.holdTimer = null;
        this.lastKept = 0;
        this.bat = undefined;
        this.pumping = false;
        this.geoFailed = false;
        this.wanted = false;
        this.closed = false;

        this.onOnline = () => {
            /* the network is back: no need to wait out the backoff */
            if (this.wanted && !this.ws && this.s.state !== 'refused') {
                this.attempt = 0;
                this.reconnect(0);
            }
        };
    }

    emit(patch) {
        Object.assign(this.s, patch);
        this.onChange({ ...this.s });
    }

    async refresh() {
        try {
            this.emit({ pending: await this.store.count() });
        } catch (e) {
            this.emit({ error: 'The buffer cannot be read: ' + e.message });
        }
    }

    /* GPS on, and the socket */
    start() {
        if (this.closed) {
            return;
        }
        if (!this.geo) {
            this.emit({ error: 'This browser gives no position.' });
            return;
        }
        if (this.watch === null) {
            this.watch = this.geo.watchPosition(
                p => this.position(p),
                e => this.geoError(e),
                { enableHighAccuracy: true, maximumAge: 0 });
        }
        this.emit({ tracking: true, error: null });
        this.battery();
        this.send();
    }

    /* GPS off; the socket stays while the buffer has fixes */
    stop() {
        if (this.watch !== null && this.geo) {
            this.geo.clearWatch(this.watch);
        }
        this.watch = null;
        clearTimeout(this.holdTimer);
        this.holdTimer = null;
        if (this.held) {
            const p = this.held;
            this.held = null;
            this.record(p);
        }
        this.emit({ tracking: false });
        this.maybeClose();
    }

    /* the socket only: what the buffer holds goes out */
    send() {
        this.wanted = true;
        if (typeof window !== 'undefined') {
            window.removeEventListener('online', this.onOnline);
            window.addEventListener('online', this.onOnline);
        }
        if (!this.ws && !this.timer) {
            this.connect();
        }
        this.refresh();
    }

    /* the page goes away */
    close() {
        this.stop();
        this.closed = true;
        this.wanted = false;
        clearTimeout(this.timer);
        this.timer = null;
        if (typeof window !== 'undefined') {
            window.removeEventListener('online', this.onOnline);
        }
        if (this.ws) {
            const ws = this.ws;
            this.ws = null;
            ws.onclose = ws.onmessage = ws.onopen = ws.onerror = null;
            ws.close(1000);
        }
    }

    battery() {
        const nav = globalThis.navigator;
        if (this.bat === undefined && nav && nav.getBattery) {
            this.bat = null;
            nav.getBattery().then(b => { this.bat = b; },
                                  () => { this.bat = null; });
        }
    }

    geoError(e) {
        const why = e.code === 1
            ? 'Location is not allowed: allow it for this site in the '
              + 'browser settings, then start again.'
            : e.code === 2 ? 'No position: is location on?'
            : 'Waiting for a position timed out.';
        this.geoFailed = true;
        this.emit({ error: why });
        if (e.code === 1) {
            this.stop();
        }
    }

    /* positions come as the browser likes; fixes at the rate the server
     * asked (config), the latest position of each interval */
    position(p) {
        const wait = this.lastKept + this.interval - this.now();
        const patch = { accuracy: p.coords ? p.coords.accuracy : null };
        if (this.geoFailed) {
            /* positions again: that error is over */
            this.geoFailed = false;
            patch.error = null;
        }
        this.emit(patch);
        if (wait <= 0 && !this.holdTimer) {
            this.record(p);
            return;
        }
        this.held = p;
        if (!this.holdTimer) {
            this.holdTimer = setTimeout(() => {
                this.holdTimer = null;
                const q = this.held;
                this.held = null;
                if (q) {
                    this.record(q);
                }
            }, Math.max(0, wait));
        }
    }

    async record(p) {
        this.lastKept = this.now();
        const level = this.bat ? this.bat.level : undefined;
        let fix;
        try {
            fix = await this.store.put(fixFields(p, level), this.now());
        } catch (e) {
            this.emit({ error: 'A position could not be kept: '
                               + e.message });
            return;
        }
        this.emit({ lastFix: { seq: fix.seq, t: fix.t,
                               acc: fix.acc === undefined ? null
                                                          : fix.acc } });
        await this.refresh();
        this.pump();
    }

    connect() {
        this.timer = null;
        if (!this.wanted || this.closed) {
            return;
        }
        let ws;
        try {
            ws = new this.WS(wsUrl('/ride', this.token));
        } catch (e) {
            this.emit({ error: e.message });
            this.reconnect();
            return;
        }
        this.ws = ws;
        this.open = false;
        if (!this.s.refused) {
            this.emit({ state: this.attempt ? 'reconnecting'
                                            : 'connecting' });
        }

        ws.onopen = () => {
            this.open = true;
            this.attempt = 0;
            this.failedUpgrades = 0;
            this.inflight.reset();
            this.emit({ state: 'live', refused: null });
            this.pump();
        };
        ws.onmessage = ev => this.message(ev.data);
        ws.onerror = () => {};
        ws.onclose = ev => this.closedSocket(ws, ev);
    }

    closedSocket(ws, ev) {
        if (this.ws !== ws) {
            return;
        }
        const opened = this.open;
        const biggest = this.inflight.biggest;
        this.ws = null;
        this.open = false;
        this.inflight.reset();

        if (ev.code === 1009 && biggest > 0) {
            /* a batch was over the server's limit: smaller ones from
             * now on, or the same batch would be sent again forever */
            this.batch = Math.max(1, Math.floor(Math.min(this.batch,
                                                         biggest) / 2));
        }

        if (!this.wanted) {
            this.emit({ state: 'idle' });
            return;
        }

        if (ev.code === 1008) {
            this.refuse('The server closed the ride: this link was '
                        + 'revoked or has expired.');
            return;
        }

        if (!opened && this.s.refused) {
            /* still refused: keep saying why, and keep it slow */
            this.refuse(this.s.refused);
            return;
        }

        if (!opened) {
            /* a failed upgrade looks the same as no network: ask /ride
             * over plain HTTP, which says 401 or 403 before upgrading */
            this.failedUpgrades++;
            if (this.failedUpgrades >= PROBE_AFTER) {
                this.failedUpgrades = 0;
                this.probe(this.token).then(why => {
                    if (why && this.wanted && !this.ws) {
                        clearTimeout(this.timer);
                        this.timer = null;
                        this.refuse(why);
                    }
                }, () => {});
            }
        }
        this.reconnect();
    }

    refuse(why) {
        this.emit({ state: 'refused', refused: why });
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.connect(), REFUSED_RETRY);
    }

    reconnect(delay) {
        clearTimeout(this.timer);
        const ms = delay === undefined ? backoff(this.attempt, this.random)
                                       : delay;
        this.attempt++;
        this.emit({ state: 'reconnecting' });
        this.timer = setTimeout(() => this.connect(), ms);
    }

    /* a refused ride, tried again now (the organizer fixed it) */
    retry() {
        clearTimeout(this.timer);
        this.timer = null;
        this.attempt = 0;
        this.emit({ refused: null });
        if (!this.ws) {
            this.connect();
        }
    }

    message(data) {
        let m;
        try {
            m = JSON.parse(data);
        } catch {
            return;
        }
        if (!m || typeof m !== 'object') {
            return;
        }
        if (m.type === 'ack' && Number.isFinite(m.seq)) {
            this.acked(m.seq);
        } else if (m.type === 'error') {
            this.rejected(m);
        } else if (m.type === 'config' && Number.isFinite(m.interval_ms)
                   && m.interval_ms >= 0) {
            this.interval = Math.min(m.interval_ms, 3600000);
        }
    }

    async acked(seq) {
        this.inflight.ack(seq);
        try {
            await this.store.ackUpTo(seq);
        } catch (e) {
            this.emit({ error: 'The buffer cannot be written: '
                               + e.message });
        }
        this.emit({ lastAck: { seq, at: this.now() } });
        await this.refresh();
        this.pump();
    }

    async rejected(m) {
        const why = (m.message || m.code || 'refused')
                    + (Number.isFinite(m.seq) ? ' (fix ' + m.seq + ')' : '');
        this.emit({ error: 'The server refused a position: ' + why });
        if (!Number.isFinite(m.seq)) {
            return;
        }
        this.inflight.error(m.seq);
        try {
            await this.store.drop(m.seq);
        } catch {
            /* it is sent again and refused again */
        }
        await this.refresh();
        this.pump();
    }

    /* sends what the buffer has beyond what is on its way, in batches,
     * a few messages ahead of the acks */
    async pump() {
        if (this.pumping) {
            this.again = true;
            return;
        }
        this.pumping = true;
        try {
            do {
                this.again = false;
                while (this.ws && this.open
                       && this.inflight.size < PIPELINE) {
                    const ws = this.ws;
                    const fixes = fitting(
                        await this.store.all(this.batch,
                                             this.inflight.top));
                    if (!fixes.length || ws !== this.ws || !this.open) {
                        break;
                    }
                    this.inflight.add(fixes);
                    ws.send(JSON.stringify(message(fixes)));
                }
            } while (this.again);
        } catch (e) {
            this.emit({ error: 'Sending failed: ' + e.message });
        } finally {
            this.pumping = false;
        }
        this.maybeClose();
    }

    /* not tracking and nothing left to send: no socket to keep */
    async maybeClose() {
        if (this.s.tracking || !this.wanted || this.inflight.size) {
            return;
        }
        const n = await this.store.count().catch(() => 1);
        if (n === 0 && !this.s.tracking && this.inflight.size === 0) {
            this.wanted = false;
            clearTimeout(this.timer);
            this.timer = null;
            if (this.ws) {
                this.ws.close(1000);
            } else {
                this.emit({ state: 'idle' });
            }
        }
    }
}

/* why /ride refuses this token, or null if it would not (or cannot
 * tell: no network) */
export async function probeRide(token) {
    const url = wsUrl('/ride', token).replace(/^ws/, 'http');
    let res;
    try {
        res = await fetch(url, { cache: 'no-store' });
    } catch {
        return null;
    }
    if (res.status !== 401 && res.status !== 403) {
        return null;
    }
    let msg = '';
    try {
        const d = await res.json();
        msg = d && d.error ? d.error.code : '';
    } catch {
        msg = '';
    }
    if (msg === 'race_finished') {
        return 'The race is over: the server takes no more positions.';
    }
    if (msg === 'token_revoked') {
        return 'This link was revoked by the organizer.';
    }
    return 'The server does not accept this link (expired or not valid).';
}
