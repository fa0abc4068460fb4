/*
 * The rider's buffer: every position is written here before it is sent,
 * and deleted only once the server acked it (PROTOCOL.md, "Rider
 * phones"), so a dead zone, a crash or a reload loses nothing.  Raw
 * IndexedDB, one database:
 *
 *   fixes  key [ride, seq]   the fixes not acked yet, in seq order
 *   meta   key string        "token", "seq:<ride>", "race:<race>"
 *
 * <ride> is "<race>/<rider>": a phone may ride several races.  The seq
 * counter lives in the same transaction as the fix it numbers, so a seq
 * is never given twice, whatever reloads happen.
 *
 * Browsers without IndexedDB (some private modes) get memoryStore():
 * the same interface, lasting as long as the page.
 */

import { nextSeq } from './ride.js';

const DB = 'ngx-race-ride';
const VERSION = 1;

function req(r) {
    return new Promise((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
    });
}

function done(tx) {
    return new Promise((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error || new Error('aborted'));
    });
}

let opening = null;

function open(idb) {
    if (!opening) {
        opening = new Promise((resolve, reject) => {
            const r = idb.open(DB, VERSION);
            r.onupgradeneeded = () => {
                const db = r.result;
                if (!db.objectStoreNames.contains('fixes')) {
                    db.createObjectStore('fixes', { keyPath: ['ride', 'seq'] });
                }
                if (!db.objectStoreNames.contains('meta')) {
                    db.createObjectStore('meta');
                }
            };
            r.onsuccess = () => resolve(r.result);
            r.onerror = () => reject(r.error);
            r.onblocked = () => reject(new Error('the buffer is in use '
                                                 + 'by an older page'));
        });
        opening.catch(() => { opening = null; });
    }
    return opening;
}

function idbOf() {
    return typeof indexedDB === 'undefined' ? null : indexedDB;
}

/* the seqs of one ride, as an IndexedDB key range */
function range(ride, from = 0, to = Number.MAX_SAFE_INTEGER) {
    return IDBKeyRange.bound([ride, from], [ride, to]);
}

/* strips the store's own field */
function plain(rec) {
    const { ride, ...fix } = rec;
    void ride;
    return fix;
}

export class FixStore {
    constructor(db, ride) {
        this.db = db;
        this.ride = ride;
    }

    /* numbers the fix and keeps it; resolves to the fix with its seq */
    async put(fields, now = Date.now()) {
        const tx = this.db.transaction(['fixes', 'meta'], 'readwrite');
        const meta = tx.objectStore('meta');
        const key = 'seq:' + this.ride;
        const last = await req(meta.get(key));
        const seq = nextSeq(last, now);
        const fix = { type: 'fix', seq, ...fields };
        meta.put(seq, key);
        tx.objectStore('fixes').put({ ride: this.ride, ...fix });
        await done(tx);
        return fix;
    }

    /* an ack: every fix up to seq is the server's now */
    async ackUpTo(seq) {
        const tx = this.db.transaction('fixes', 'readwrite');
        tx.objectStore('fixes').delete(range(this.ride, 0, seq));
        await done(tx);
    }

    /* a fix the server refused for good */
    async drop(seq) {
        const tx = this.db.transaction('fixes', 'readwrite');
        tx.objectStore('fixes').delete([this.ride, seq]);
        await done(tx);
    }

    /* up to limit fixes with a seq above after, oldest first */
    async all(limit = 500, after = 0) {
        const tx = this.db.transaction('fixes', 'readonly');
        const recs = await req(tx.objectStore('fixes')
            .getAll(range(this.ride, after + 1), limit));
        return recs.map(plain);
    }

    async count() {
        const tx = this.db.transaction('fixes', 'readonly');
        return req(tx.objectStore('fixes').count(range(this.ride)));
    }

    /* the last seq given, or null */
    async lastSeq() {
        const tx = this.db.transaction('meta', 'readonly');
        const v = await req(tx.objectStore('meta').get('seq:' + this.ride));
        return v === undefined ? null : v;
    }
}

/* the same, in memory: tests, and browsers without IndexedDB */
export class MemoryStore {
    constructor(ride = 'r/p', shared = { fixes: new Map(), meta: new Map() }) {
        this.ride = ride;
        this.m = shared;
    }

    async put(fields, now = Date.now()) {
        const key = 'seq:' + this.ride;
        const seq = nextSeq(this.m.meta.get(key), now);
        const fix = { type: 'fix', seq, ...fields };
        this.m.meta.set(key, seq);
        this.m.fixes.set(this.ride + '\n' + seq, fix);
        return fix;
    }

    mine() {
        return [...this.m.fixes.entries()]
            .filter(([k]) => k.startsWith(this.ride + '\n'))
            .map(([, f]) => f)
            .sort((a, b) => a.seq - b.seq);
    }

    async ackUpTo(seq) {
        for (const f of this.mine()) {
            if (f.seq <= seq) {
                this.m.fixes.delete(this.ride + '\n' + f.seq);
            }
        }
    }

    async drop(seq) {
        this.m.fixes.delete(this.ride + '\n' + seq);
    }

    async all(limit = 500, after = 0) {
        return this.mine().filter(f => f.seq > after).slice(0, limit);
    }

    async count() {
        return this.mine().length;
    }

    async lastSeq() {
        const v = this.m.meta.get('seq:' + this.ride);
        return v === undefined ? null : v;
    }
}

const memory = { fixes: new Map(), meta: new Map() };

/* the buffer of one ride: IndexedDB when the browser has it */
export async function openFixStore(race, rider) {
    const ride = race + '/' + rider;
    const idb = idbOf();
    if (idb) {
        try {
            return new FixStore(await open(idb), ride);
        } catch {
            /* IndexedDB refused (private mode): the page's memory */
        }
    }
    return new MemoryStore(ride, memory);
}

/* small values: the rider token, what a race is called */
export async function getMeta(key) {
    const idb = idbOf();
    if (idb) {
        try {
            const db = await open(idb);
            const v = await req(db.transaction('meta', 'readonly')
                .objectStore('meta').get(key));
            return v === undefined ? null : v;
        } catch {
            /* fall through to the page's memory */
        }
    }
    return memory.meta.has(key) ? memory.meta.get(key) : null;
}

export async function setMeta(key, value) {
    memory.meta.set(key, value);
    const idb = idbOf();
    if (idb) {
        try {
            const db = await open(idb);
            const tx = db.transaction('meta', 'readwrite');
            if (value === null || value === undefined) {
                tx.objectStore('meta').delete(key);
            } else {
                tx.objectStore('meta').put(value, key);
            }
            await done(tx);
        } catch {
            /* kept in memory only */
        }
    }
}
